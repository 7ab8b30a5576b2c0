"""FHIR Bulk Data export (``$export`` at system, patient and group level): the kick-off
records the request and enqueues the background job; the job writes one NDJSON file per
resource type; the same client polls, reads the manifest, fetches the files and deletes
the export. A researcher's export is always de-identified (Safe Harbor).

``_since`` keeps the resources changed after the instant: those whose ``meta.lastUpdated``
is later. What "changed" means per type (each translator sets it from the record):
Patient, when the demographics were last edited; a vital-sign Observation, when the
reading or measurement was charted (or came from the monitor); a screening Observation
and its QuestionnaireResponse, when the response was stored; Condition, when the course
was opened or ended; MedicationStatement and AllergyIntolerance, when the intake was
recorded; Encounter, the session's last charted moment; MedicationAdministration, the
dose's start or stop. Records are corrected by new entries, not edits, so these moments
are when each fact entered the record.

Files are kept the clinic's ``records.bulk_export`` hours after completion, then
deleted by a job (410 Gone after); a failing export is tried as often as that table says,
then marked failed: polling it answers 500 with an OperationOutcome."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.clinical import records
from ketaclinic.configuration import service as configuration
from ketaclinic.interop.fhir import deidentify, reads, search
from ketaclinic.interop.fhir.outcome import FhirError
from ketaclinic.interop.models import FhirExport, FhirExportFile
from ketaclinic.orders import service as orders
from ketaclinic.patients import service as patients
from ketaclinic.platform import jobs
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import NotFound
from ketaclinic.platform.roles import Role

JOB = "interop.fhir_export"
#: Groups a client can export: patients with an active course, or with any course.
GROUPS = {
    "active-course": "patients with an active treatment course",
    "any-course": "patients with a treatment course, whatever its status",
}
_FORMATS = {"application/fhir+ndjson", "application/ndjson", "ndjson"}


def _types(raw: str | None) -> list[str]:
    served = list(reads.KINDS)
    if not raw:
        return served
    wanted = [t.strip() for t in raw.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in served]
    if unknown:
        raise FhirError(
            f"_type: {', '.join(unknown)} not exported; exported: {', '.join(served)}",
            status=400,
        )
    return wanted


def kick_off(
    db: Session,
    reader: reads.Reader,
    *,
    level: str,
    group_id: str | None,
    params: list[tuple[str, str]],
    request_url: str,
    token_id: int | None,
) -> FhirExport:
    for name, value in params:
        if name == "_outputFormat" and value not in _FORMATS:
            raise FhirError(f"_outputFormat {value!r}: only application/fhir+ndjson", status=400)
        if name not in ("_type", "_outputFormat", "_since"):
            raise FhirError(f"{name}: not supported by $export here", status=400)
    types = _types(",".join(v for k, v in params if k == "_type"))
    since = _since(dict(params).get("_since"))
    if level == "group" and group_id not in GROUPS:
        raise NotFound(f"no Group {group_id!r}; groups: {', '.join(GROUPS)}")
    actor = reader.actor
    row = FhirExport(
        status="accepted",
        level=level,
        group_id=group_id,
        types=" ".join(types),
        deidentified=Role.researcher in actor.roles
        and not actor.roles & {Role.prescriber, Role.nurse},
        request_url=request_url[:2000],
        user_id=actor.user_id,
        username=actor.username,
        roles=" ".join(sorted(actor.roles)),
        token_id=token_id,
        patient_id=reader.bound_patient,
        since=since,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="fhir.export.request",
        object_type="fhir_export",
        object_id=row.id,
        detail=f"{level} {group_id or ''} {' '.join(types)}"
        + (" de-identified" if row.deidentified else ""),
    )
    jobs.enqueue(db, JOB, export_id=row.id)
    return row


def _since(raw: str | None) -> datetime | None:
    """``_since`` is a FHIR instant: a date and time with its zone."""
    if raw is None:
        return None
    if len(raw) < 19 or "T" not in raw:
        raise FhirError(
            f"_since {raw!r}: a FHIR instant is needed (e.g. 2026-03-01T00:00:00Z)", status=400
        )
    try:
        bound = search.parse_date(raw)
    except FhirError:
        raise FhirError(f"_since {raw!r} is not a FHIR instant", status=400) from None
    if bound.prefix != "eq" or not (raw.endswith("Z") or raw[-6] in "+-"):
        raise FhirError(f"_since {raw!r}: give the instant with its zone", status=400)
    return bound.low


def rule(db: Session) -> records.BulkExportRule:
    """The clinic's retention and tries (``records.bulk_export``)."""
    return records.bulk_export_rule(configuration.clinic_overrides(db, "records.bulk_export"))


def _changed_after(resource: dict[str, Any], since: datetime | None) -> bool:
    if since is None:
        return True
    stamp = (resource.get("meta") or {}).get("lastUpdated")
    return stamp is None or search.moment(stamp) > since


def _patient_ids(db: Session, row: FhirExport) -> list[int]:
    if row.patient_id is not None:
        return [row.patient_id]
    if row.level == "group":
        courses = orders.courses_of_patients(db)
        if row.group_id == "active-course":
            courses = [c for c in courses if c.status == "active"]
        return sorted({c.patient_id for c in courses})
    return [p.id for p in patients.patients_matching(db)]


def run(db: Session, export_id: int, *, key: bytes, today: date | None = None) -> str:
    """The background work of one export, in the job's transaction: every resource of
    the asked types for the export's patients, one NDJSON file per type."""
    row = db.get(FhirExport, export_id)
    if row is None or row.status != "accepted":
        return f"export {export_id}: nothing to do"
    actor = Actor(
        user_id=row.user_id,
        username=row.username,
        roles=frozenset(Role(r) for r in row.roles.split()),
    )
    ids = _patient_ids(db, row)
    today = today or utcnow().date()
    written = 0
    for resource_type in row.types.split():
        kind = reads.KINDS[resource_type]
        lines = []
        for resource in kind.build(db, ids) if ids else []:
            if not _changed_after(resource, row.since):
                continue
            if row.deidentified:
                owner = resource["id"] if resource_type == "Patient" else _owner(resource, kind)
                resource = deidentify.deidentify(resource, patient_id=owner, key=key, today=today)
            lines.append(json.dumps(resource, separators=(",", ":"), ensure_ascii=False))
        if lines:
            db.add(
                FhirExportFile(
                    export_id=row.id,
                    resource_type=resource_type,
                    count=len(lines),
                    ndjson="\n".join(lines) + "\n",
                )
            )
            written += len(lines)
    if row.deidentified:
        audit.record(
            db,
            actor=actor,
            action="fhir.export.deidentified",
            object_type="fhir_export",
            object_id=row.id,
            detail=f"{len(ids)} patients, {written} resources, de-identified (Safe Harbor)",
        )
    else:
        for pid in ids:
            audit.note_read(
                db,
                actor=actor,
                action="fhir.export",
                patient_id=pid,
                object_type="fhir_export",
                object_id=row.id,
            )
    row.status = "complete"
    row.completed_at = utcnow()
    row.attempts += 1
    row.expires_at = row.completed_at + timedelta(hours=rule(db).files_kept_hours)
    db.flush()
    return f"export {export_id}: {written} resources for {len(ids)} patients"


def note_failure(db: Session, export_id: int, fault: str) -> str:
    """A run that failed (its own transaction rolled back): one more try counted; past
    the clinic's number of tries the export is failed, and polling it says so. ``fault``
    names the kind of error only (no record's data)."""
    row = db.get(FhirExport, export_id)
    if row is None or row.status != "accepted":
        return f"export {export_id}: nothing to do"
    row.attempts += 1
    allowed = rule(db).attempts
    if row.attempts >= allowed:
        row.status = "failed"
        row.completed_at = utcnow()
        row.error = f"it failed {row.attempts} times ({fault})"
    db.flush()
    return f"export {export_id}: attempt {row.attempts} of {allowed} failed ({fault})"


def expire(db: Session, *, now: datetime | None = None) -> str:
    """Delete the files of every export past its expiry; the export stays, expired."""
    now = now or utcnow()
    due = list(
        db.scalars(
            select(FhirExport)
            .where(FhirExport.status == "complete", FhirExport.expires_at <= now)
            .order_by(FhirExport.id)
        )
    )
    for row in due:
        for f in db.scalars(select(FhirExportFile).where(FhirExportFile.export_id == row.id)):
            db.delete(f)
        row.status = "expired"
    db.flush()
    return f"{len(due)} exports expired"


def _owner(resource: dict[str, Any], kind: reads.Kind) -> str:
    reference = (resource.get(kind.subject) or {}).get("reference", "")
    return str(reference.rsplit("/", 1)[-1])


def pending(db: Session) -> list[int]:
    """Exports waiting for the job (SQLite finds its work here)."""
    return list(
        db.scalars(
            select(FhirExport.id)
            .where(FhirExport.status == "accepted")
            .order_by(FhirExport.id)
            .limit(20)
        )
    )


def _own(db: Session, actor: Actor, token_id: int | None, export_id: int) -> FhirExport:
    """The export, only for the client that asked for it (anyone else: 404)."""
    row = db.get(FhirExport, export_id)
    if (
        row is None
        or row.status == "deleted"
        or row.user_id != actor.user_id
        or row.username != actor.username
        or row.token_id != token_id
    ):
        raise NotFound(f"no export {export_id}")
    if row.status == "expired" or (
        row.status == "complete" and row.expires_at is not None and row.expires_at <= utcnow()
    ):
        raise FhirError(
            f"export {export_id} expired: its files were kept until "
            f"{_stamp(row.expires_at or row.requested_at)}; ask for a new export",
            status=410,
            code="expired",
        )
    return row


def _stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def expires_at(db: Session, export_id: int) -> datetime | None:
    row = db.get(FhirExport, export_id)
    return row.expires_at if row is not None else None


def status(
    db: Session, actor: Actor, token_id: int | None, export_id: int, *, base: str
) -> dict[str, Any] | None:
    """The manifest once complete; None while in progress."""
    row = _own(db, actor, token_id, export_id)
    if row.status == "failed":
        raise FhirError(
            f"the export failed: {row.error or 'see the server log'}", status=500, code="exception"
        )
    if row.status != "complete":
        return None
    files = db.scalars(
        select(FhirExportFile).where(FhirExportFile.export_id == row.id).order_by(FhirExportFile.id)
    )
    stamp = _stamp(row.requested_at)
    return {
        "transactionTime": stamp,
        "request": row.request_url,
        "requiresAccessToken": True,
        "output": [
            {
                "type": f.resource_type,
                "url": f"{base}/_bulk/{row.id}/{f.resource_type}.ndjson",
                "count": f.count,
            }
            for f in files
        ],
        "error": [],
    }


def file(db: Session, actor: Actor, token_id: int | None, export_id: int, name: str) -> str:
    row = _own(db, actor, token_id, export_id)
    kind = name.removesuffix(".ndjson")
    found = db.scalar(
        select(FhirExportFile).where(
            FhirExportFile.export_id == row.id, FhirExportFile.resource_type == kind
        )
    )
    if found is None or not name.endswith(".ndjson"):
        raise NotFound(f"no file {name!r} in export {export_id}")
    return found.ndjson


def delete(db: Session, actor: Actor, token_id: int | None, export_id: int) -> None:
    row = _own(db, actor, token_id, export_id)
    for f in db.scalars(select(FhirExportFile).where(FhirExportFile.export_id == row.id)):
        db.delete(f)
    row.status = "deleted"
    audit.record(
        db, actor=actor, action="fhir.export.delete", object_type="fhir_export", object_id=row.id
    )
    db.flush()
