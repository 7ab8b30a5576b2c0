"""The interop area's background jobs: FHIR bulk exports.

On SQLite the scheduled job finds the waiting exports in their table; on PostgreSQL the
kick-off also enqueues one run per export, in its own transaction."""

from __future__ import annotations

from datetime import timedelta

from ketaclinic.platform.jobs import Job, JobContext
from ketaclinic.platform.settings import get_settings


def _key() -> bytes:
    return get_settings().effective_secret_key.encode()


def export_one(ctx: JobContext, *, export_id: int) -> str:
    from ketaclinic.interop.fhir import bulk

    with ctx.transaction() as db:
        return bulk.run(db, export_id, key=_key())


def export_waiting(ctx: JobContext) -> str:
    from ketaclinic.interop.fhir import bulk

    with ctx.transaction() as db:
        waiting = bulk.pending(db)
    done = []
    for export_id in waiting:
        with ctx.transaction() as db:
            done.append(bulk.run(db, export_id, key=_key()))
    return "; ".join(done) or "no export waiting"


JOBS = [
    Job(
        "interop.fhir_export",
        "Write the files of one FHIR bulk export",
        export_one,
        key=lambda export_id: f"interop.fhir_export:{export_id}",
    ),
    Job(
        "interop.fhir_exports",
        "Write the files of every FHIR bulk export waiting (SQLite; a safety net elsewhere)",
        export_waiting,
        every=timedelta(minutes=1),
    ),
]
