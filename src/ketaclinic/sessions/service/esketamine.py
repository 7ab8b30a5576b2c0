"""Intranasal esketamine: REMS enrolment before the first dose, and the monitoring
record every session files (the Patient Monitoring Form), with its deadline.

The form's field list changes over time (clinical-reference section 2), so it is a
declared template with a version; each record keeps the version it was filled on and
its answers frozen at signing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.patients import service as patients
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Invalid
from ketaclinic.platform.settings import get_settings
from ketaclinic.sessions.models import InfusionSession, MonitoringRecord, RemsEnrolment
from ketaclinic.sessions.service import view
from ketaclinic.sessions.service.common import RUNNERS, load, minutes, record, require

# SPRAVATO REMS: the Patient Monitoring Form is submitted within 7 days of each session
# (clinical-reference section 2) [confirmed from the form as reproduced in 2024].
FILING_DAYS = 7
TEMPLATE_VERSION = "spravato-rems-pmf-2024"
_FORM = "SPRAVATO REMS Patient Monitoring Form as reproduced in 2024 (clinical-reference section 2)"

Kind = Literal["auto", "yes_no", "text"]


@dataclass(frozen=True)
class FormField:
    id: str
    label: str
    kind: Kind  # auto: read from the session's chart; the others are answered
    source: str = _FORM


TEMPLATE: tuple[FormField, ...] = (
    FormField("benzodiazepines", "Concomitant benzodiazepines", "yes_no"),
    FormField(
        "non_benzodiazepine_hypnotics", "Concomitant non-benzodiazepine sleep medicines", "yes_no"
    ),
    FormField("psychostimulants", "Concomitant psychostimulants", "yes_no"),
    FormField("maois", "Concomitant monoamine oxidase inhibitors (MAOIs)", "yes_no"),
    FormField("dose_mg", "Dose given (mg)", "auto"),
    FormField("lot_number", "Lot number of the devices", "text"),
    FormField("monitoring_min", "Total time from first device to end of monitoring (min)", "auto"),
    FormField("ready_to_leave_at", "When the patient was ready to leave", "auto"),
    FormField("bp_before_dosing", "Blood pressure before dosing", "auto"),
    FormField("bp_40_min", "Blood pressure about 40 minutes after dosing", "auto"),
    FormField("bp_before_leaving", "Blood pressure before leaving", "auto"),
    FormField("sedation", "Sedation observed (MOAA/S below 5 after dosing)", "auto"),
    FormField("dissociation", "Dissociation observed (CADSS above the pre-dose total)", "auto"),
    FormField("respiratory_depression", "Respiratory depression observed", "yes_no"),
    FormField("serious_adverse_events", "Serious adverse events (write 'none' if none)", "text"),
)
FIELDS = {f.id: f for f in TEMPLATE}


def record_enrolment(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    enrolment_id: str,
    enrolled_on: date,
) -> RemsEnrolment:
    require(actor, RUNNERS, "recording a REMS enrolment")
    patients.patient_by_id(db, patient_id)
    ident = enrolment_id.strip()
    if not 3 <= len(ident) <= 60:
        raise Invalid("give the programme's enrolment id", fields={"enrolment_id": "required"})
    if enrolled_on > date.today():
        raise Invalid(
            "an enrolment cannot be dated in the future", fields={"enrolled_on": "future"}
        )
    row = RemsEnrolment(
        patient_id=patient_id,
        enrolment_id=ident,
        enrolled_on=enrolled_on,
        recorded_by=actor.username,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="session.rems.enrol",
        patient_id=patient_id,
        object_type="rems_enrolment",
        object_id=row.id,
        detail=ident,
    )
    db.flush()
    return row


def enrolment_for(db: Session, *, actor: Actor, patient_id: int) -> RemsEnrolment | None:
    require(actor, RUNNERS, "reading REMS enrolments")
    found = view.current_enrolment(db, patient_id)
    audit.note_read(
        db,
        actor=actor,
        action="session.rems.read",
        patient_id=patient_id,
        object_type="rems_enrolment",
        object_id=found.id if found else None,
    )
    db.flush()
    return found


def open_record(db: Session, row: InfusionSession) -> MonitoringRecord:
    """Made with every esketamine session; due 7 days after the session day."""
    session_on = row.created_at.astimezone(get_settings().zone).date()
    record_row = MonitoringRecord(
        session_id=row.id,
        patient_id=row.patient_id,
        template_version=TEMPLATE_VERSION,
        session_on=session_on,
        due_on=session_on + timedelta(days=FILING_DAYS),
        answers={},
    )
    db.add(record_row)
    return record_row


def _bp(reading: view.Reading | None) -> str | None:
    if reading is None or reading.row.systolic_bp is None:
        return None
    return f"{reading.row.systolic_bp}/{reading.row.diastolic_bp}"


def auto_values(state: view.SessionView) -> dict[str, Any]:
    """The form's fields read from the chart (None where the chart does not say yet)."""
    start = state.dose_start
    values: dict[str, Any] = {f.id: None for f in TEMPLATE if f.kind == "auto"}
    values["dose_mg"] = round(state.mg_given, 1) if state.devices else None
    left = state.discharged
    if start is not None and left is not None:
        values["monitoring_min"] = round(minutes(left.at, start))
        zone = get_settings().zone
        values["ready_to_leave_at"] = left.at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    base = state.baseline()
    values["bp_before_dosing"] = _bp(base) if start is not None else None
    matched = [s for s in state.schedule if s.status == "done" and s.due_at_min > 0]
    forty = next(
        (s for s in matched if abs(s.due_at_min - (view.dosing_minutes(state) + 40)) < 1e-6), None
    )
    if forty is not None and forty.charted_at_min is not None:
        values["bp_40_min"] = _bp(_reading_at(state, forty.charted_at_min))
    after = [r for r in state.readings if r.phase == "recovery" and r.row.systolic_bp is not None]
    if left is not None and after:
        values["bp_before_leaving"] = _bp(after[-1])
    moaas = [e for e in state.valid_entries("score", "moaas") if start and e.at >= start]
    if moaas:
        values["sedation"] = "yes" if any((e.value or 5) < 5 for e in moaas) else "no"
    cadss = [e for e in state.entries if e.kind == "score" and e.code in ("cadss", "cadss6")]
    cadss = [e for e in cadss if e.entered_in_error_at is None]
    if start is not None:
        before = [e.value or 0 for e in cadss if e.at < start]
        post = [e.value or 0 for e in cadss if e.at >= start]
        if post:
            values["dissociation"] = "yes" if max(post) > (before[-1] if before else 0) else "no"
    return values


def _reading_at(state: view.SessionView, at_min: float) -> view.Reading | None:
    return next(
        (
            r
            for r in state.readings
            if r.at_min is not None and abs(max(0.0, r.at_min) - at_min) < 1e-6
        ),
        None,
    )


def form_values(state: view.SessionView) -> dict[str, Any]:
    record_row = state.monitoring_record
    if record_row is not None and record_row.snapshot is not None:
        return dict(record_row.snapshot)
    values = auto_values(state)
    answers = record_row.answers if record_row else {}
    for f in TEMPLATE:
        if f.kind != "auto":
            values[f.id] = answers.get(f.id)
    return values


def missing_fields(values: dict[str, Any]) -> list[str]:
    return [f.label for f in TEMPLATE if values.get(f.id) in (None, "")]


def _record_for(db: Session, session_id: int) -> tuple[InfusionSession, MonitoringRecord]:
    row = load(db, session_id)
    found = db.scalar(select(MonitoringRecord).where(MonitoringRecord.session_id == session_id))
    if found is None:
        raise Conflict("this session has no monitoring record (not an esketamine session)")
    return row, found


def answer_record(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    answers: dict[str, str],
) -> MonitoringRecord:
    require(actor, RUNNERS, "filling the monitoring record")
    row, found = _record_for(db, session_id)
    if found.signed_at is not None:
        raise Conflict("the monitoring record is signed and can no longer change")
    merged = dict(found.answers or {})
    for key, value in answers.items():
        spec = FIELDS.get(key)
        if spec is None or spec.kind == "auto":
            raise Invalid(
                f"{key!r} is not a field you answer on this form", fields={key: "unknown"}
            )
        text = (value or "").strip()
        if spec.kind == "yes_no" and text not in ("yes", "no", ""):
            raise Invalid(f"{spec.label}: answer yes or no", fields={key: "yes or no"})
        if len(text) > 2000:
            raise Invalid(f"{spec.label}: too long", fields={key: "too long"})
        merged[key] = text or None
    found.answers = merged
    found.updated_by, found.updated_at = actor.username, utcnow()
    record(
        db,
        actor,
        "rems.answer",
        row,
        object_type="rems_monitoring_record",
        object_id=found.id,
        detail=", ".join(sorted(answers)),
    )
    db.flush()
    return found


RECORD_MEANING = "attested this REMS patient monitoring form"


def sign_record(
    db: Session, *, actor: Actor, session_id: int, password: str, now: datetime | None = None
) -> MonitoringRecord:
    """Signed only when every field of the template has a value; the values freeze. The
    signer types their password again and the signature records its meaning
    (``accounts.confirm_signature``), as the session note's does."""
    require(actor, RUNNERS, "signing the monitoring record")
    row, found = _record_for(db, session_id)
    if found.signed_at is not None:
        raise Conflict(f"already signed by {found.signed_by}")
    if row.status in ("open", "cancelled"):
        raise Conflict("the monitoring record is signed after discharge")
    state = view.build(db, actor=actor, row=row, now=now)
    values = form_values(state)
    missing = missing_fields(values)
    if missing:
        raise Invalid(
            "the monitoring record is incomplete: " + "; ".join(missing),
            fields={"record": "incomplete"},
        )
    signature = accounts.confirm_signature(
        db,
        actor=actor,
        password=password,
        meaning=RECORD_MEANING,
        object_type="rems_monitoring_record",
        object_id=found.id,
        patient_id=row.patient_id,
    )
    found.snapshot = values
    found.signed_by, found.signed_at = signature.username, now or signature.at
    found.signed_by_name, found.signature_meaning = signature.printed_name, signature.meaning
    record(
        db,
        actor,
        "rems.sign",
        row,
        object_type="rems_monitoring_record",
        object_id=found.id,
        detail=f"{signature.printed_name}: {signature.meaning}",
    )
    db.flush()
    return found


def file_record(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    reference: str = "",
    now: datetime | None = None,
) -> MonitoringRecord:
    """The signed record has been submitted to the programme: who filed it and when."""
    require(actor, RUNNERS, "filing the monitoring record")
    row, found = _record_for(db, session_id)
    if found.signed_at is None:
        raise Conflict("sign the monitoring record before filing it")
    if found.filed_at is not None:
        raise Conflict(f"already filed by {found.filed_by}")
    found.filed_by, found.filed_at = actor.username, now or utcnow()
    found.filing_reference = reference.strip()[:80] or None
    record(
        db,
        actor,
        "rems.file",
        row,
        object_type="rems_monitoring_record",
        object_id=found.id,
        detail=found.filing_reference or "",
    )
    db.flush()
    return found


@dataclass(frozen=True)
class ToFile:
    session_id: int
    patient_id: int
    patient_name: str
    session_on: date
    due_on: date
    days_left: int
    signed: bool
    session_status: str


def records_to_file(db: Session, *, actor: Actor, today: date | None = None) -> list[ToFile]:
    """Monitoring records not yet filed, the oldest deadline first."""
    require(actor, RUNNERS, "reading the monitoring records")
    today = today or datetime.now(get_settings().zone).date()
    rows = db.execute(
        select(MonitoringRecord, InfusionSession)
        .join(InfusionSession, InfusionSession.id == MonitoringRecord.session_id)
        .where(MonitoringRecord.filed_at.is_(None), InfusionSession.status != "cancelled")
        .order_by(MonitoringRecord.due_on, MonitoringRecord.session_on, MonitoringRecord.id)
    ).all()
    names = patients.display_names(db, {r.patient_id for r, _ in rows})
    out = [
        ToFile(
            r.session_id,
            r.patient_id,
            names[r.patient_id],
            r.session_on,
            r.due_on,
            (r.due_on - today).days,
            r.signed_at is not None,
            s.status,
        )
        for r, s in rows
    ]
    for item in out:
        audit.note_read(
            db,
            actor=actor,
            action="session.rems.dashboard",
            patient_id=item.patient_id,
            object_type="rems_monitoring_record",
            object_id=item.session_id,
        )
    db.flush()
    return out
