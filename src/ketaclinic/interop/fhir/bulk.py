"""FHIR Bulk Data export (``$export`` at system, patient and group level): the kick-off
records the request and enqueues the background job; the job writes one NDJSON file per
resource type; the same client polls, reads the manifest, fetches the files and deletes
the export. A researcher's export is always de-identified (Safe Harbor)."""

from __future__ import annotations

import json
from datetime import UTC, date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.interop.fhir import deidentify, reads
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
        if name not in ("_type", "_outputFormat"):
            raise FhirError(f"{name}: not supported by $export here", status=400)
    types = _types(dict(params).get("_type"))
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
    db.flush()
    return f"export {export_id}: {written} resources for {len(ids)} patients"


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
    return row


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
    stamp = (row.completed_at or row.requested_at).astimezone(UTC).isoformat(timespec="seconds")
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
