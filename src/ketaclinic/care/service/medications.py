"""The medication plan, whose changes during a course are shown with their interaction
findings at the next order (``add_medication``, ``stop_medication``,
``medication_changes_for_order``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.care.models import MedicationEntry
from ketaclinic.care.service.common import (
    MEDICATION_READERS,
    MEDICATION_WRITERS,
    _read,
    _record,
    _require,
    _text,
)
from ketaclinic.clinical import course as clinical_course
from ketaclinic.orders import service as orders
from ketaclinic.patients import service as patients
from ketaclinic.platform import ports
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.clock import clinic_today
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Invalid, NotFound
from ketaclinic.platform.roles import Role


@dataclass
class MedicationView:
    entry: MedicationEntry
    findings: tuple[clinical_course.Finding, ...]
    in_table: bool


def _findings(name: str) -> tuple[tuple[clinical_course.Finding, ...], bool]:
    report = clinical_course.check_medications([name])
    return report.findings, not report.unknown


def medication_plan(db: Session, *, actor: Actor, patient_id: int) -> list[MedicationView]:
    """The patient's medications, current first, each with its interaction findings."""
    _require(actor, MEDICATION_READERS, "read the medication plan")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    rows = list(
        db.scalars(
            select(MedicationEntry)
            .where(MedicationEntry.patient_id == patient_id)
            .order_by(MedicationEntry.stopped_on.is_not(None), MedicationEntry.started_on.desc())
        )
    )
    _read(db, actor, "medication.plan", patient_id, "medication_entry", f"{len(rows)} entries")
    db.flush()
    return [MedicationView(r, *_findings(r.name)) for r in rows]


def add_medication(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    name: str,
    kind: str,
    prescriber: str,
    started_on: date,
    dose: str = "",
) -> MedicationView:
    """A medication the patient takes from ``started_on``; its interaction findings
    against the course's drug come back at once and at the course's next order."""
    _require(actor, MEDICATION_WRITERS, "change the medication plan")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    name = _text(name, field="name", what="the medication's name", required=True, limit=200)
    if kind not in ("psychiatric", "other"):
        raise Invalid("the kind is psychiatric or other", fields={"kind": kind})
    prescriber = _text(
        prescriber, field="prescriber", what="who prescribes it", required=True, limit=200
    )
    if started_on > clinic_today() + timedelta(days=365):
        raise Invalid("the start date is more than a year ahead", fields={"started_on": "too far"})
    row = MedicationEntry(
        patient_id=patient_id,
        name=name,
        dose=dose.strip()[:120] or None,
        kind=kind,
        prescriber=prescriber,
        started_on=started_on,
        recorded_by=actor.username,
    )
    db.add(row)
    db.flush()
    findings, known = _findings(name)
    _record(
        db,
        actor,
        "medication.start",
        patient_id,
        "medication_entry",
        row.id,
        f"started {started_on}; "
        + (
            ", ".join(f.drug_class for f in findings) or ("no finding" if known else "not in table")
        ),
    )
    db.flush()
    return MedicationView(row, findings, known)


def stop_medication(
    db: Session, *, actor: Actor, entry_id: int, stopped_on: date, reason: str
) -> MedicationEntry:
    _require(actor, MEDICATION_WRITERS, "change the medication plan")
    row = db.get(MedicationEntry, entry_id)
    if row is None:
        raise NotFound(f"no medication entry {entry_id}")
    patients.check_patient(db, actor=actor, patient_id=row.patient_id)
    if row.stopped_on is not None:
        raise Conflict(f"{row.name} was already stopped on {row.stopped_on}")
    if stopped_on < row.started_on:
        raise Invalid("the stop date is before the start", fields={"stopped_on": "before start"})
    row.stop_reason = _text(reason, field="reason", what="why it stops", required=True)
    row.stopped_on = stopped_on
    row.stopped_by = actor.username
    row.stopped_at = utcnow()
    _record(
        db,
        actor,
        "medication.stop",
        row.patient_id,
        "medication_entry",
        row.id,
        f"stopped {stopped_on}",
    )
    db.flush()
    return row


def _port_finding(f: clinical_course.Finding) -> ports.InteractionFinding:
    return ports.InteractionFinding(
        medication=f.medication,
        drug_class=f.drug_class,
        severity=f.severity,
        effect=f.effect,
        advice=f.advice,
        source=f.source,
        evidence=f.evidence,
    )


def medication_changes_for_order(
    db: Session, *, actor: Actor, patient_id: int
) -> list[ports.MedicationChange]:
    """Answers ``platform.ports.medication_changes``: what the medication plan gained or
    lost since the active course's current order was signed (or since the course opened,
    before its first order), each with the interaction table re-run for it."""
    if not actor.roles & {Role.prescriber, Role.nurse}:
        return []
    course = orders.active_course(db, actor=actor, patient_id=patient_id)
    if course is None:
        return []
    current = orders.current_order(db, actor=actor, course_id=course.id)
    since = current.signed_at if current is not None and current.signed_at else course.created_at
    rows = list(
        db.scalars(
            select(MedicationEntry)
            .where(MedicationEntry.patient_id == patient_id)
            .order_by(MedicationEntry.recorded_at)
        )
    )
    changes: list[ports.MedicationChange] = []
    for row in rows:
        findings = tuple(_port_finding(f) for f in _findings(row.name)[0])
        if row.recorded_at > since:
            changes.append(
                ports.MedicationChange(
                    row.name, "started", row.started_on, row.prescriber, findings
                )
            )
        if row.stopped_at is not None and row.stopped_on is not None and row.stopped_at > since:
            changes.append(
                ports.MedicationChange(
                    row.name, "stopped", row.stopped_on, row.prescriber, findings
                )
            )
    if changes:
        _read(
            db,
            actor,
            "medication.changes",
            patient_id,
            "medication_entry",
            f"{len(changes)} change(s) since order {current.id if current else 'none'}",
        )
        db.flush()
    return changes
