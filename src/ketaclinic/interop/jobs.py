"""The interop area's background jobs: FHIR bulk exports.

On SQLite the scheduled job finds the waiting exports in their table; on PostgreSQL the
kick-off also enqueues one run per export, in its own transaction. A run that fails is
rolled back and counted in a transaction of its own; the scheduled job tries it again
until the clinic's number of tries (``records.bulk_export``). Expired files are deleted
every hour."""

from __future__ import annotations

import logging
from datetime import timedelta

from ketaclinic.platform.jobs import Job, JobContext
from ketaclinic.platform.settings import get_settings


def _key() -> bytes:
    return get_settings().effective_secret_key.encode()


log = logging.getLogger("ketaclinic.interop")


def _attempt(ctx: JobContext, export_id: int) -> str:
    """One try of one export, in its own transaction; a failure is counted in another
    (the log and the export name the kind of error, never a record's data)."""
    from ketaclinic.interop.fhir import bulk

    try:
        with ctx.transaction() as db:
            return bulk.run(db, export_id, key=_key())
    except Exception as exc:  # noqa: BLE001 - counted, retried, then failed for the client
        fault = type(exc).__name__
        log.warning("FHIR export %s: a run failed (%s)", export_id, fault)
        with ctx.transaction() as db:
            return bulk.note_failure(db, export_id, fault)


def export_one(ctx: JobContext, *, export_id: int) -> str:
    return _attempt(ctx, export_id)


def export_waiting(ctx: JobContext) -> str:
    from ketaclinic.interop.fhir import bulk

    with ctx.transaction() as db:
        waiting = bulk.pending(db)
    done = [_attempt(ctx, export_id) for export_id in waiting]
    return "; ".join(done) or "no export waiting"


def expire_exports(ctx: JobContext) -> str:
    from ketaclinic.interop.fhir import bulk

    with ctx.transaction() as db:
        return bulk.expire(db)


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
    Job(
        "interop.fhir_exports_expire",
        "Delete the files of FHIR bulk exports past the clinic's retention",
        expire_exports,
        every=timedelta(hours=1),
    ),
]
