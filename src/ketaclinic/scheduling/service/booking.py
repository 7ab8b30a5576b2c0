"""Booking, cancelling and rescheduling. A booking holds a chair and a nurse for the
treatment time plus the recovery time, both derived (never typed): treatment from the
course's signed order, recovery from the clinical core's minimum observation time."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.clinical.dosing import Protocol
from ketaclinic.configuration import service as configuration
from ketaclinic.orders import service as orders
from ketaclinic.patients import service as patients
from ketaclinic.platform import ports
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Invalid, NotFound
from ketaclinic.platform.roles import Role
from ketaclinic.scheduling.models import Appointment, Chair, StaffAvailability
from ketaclinic.scheduling.rules import (
    KIND_LABELS,
    PATIENTS_PER_NURSE,
    TREATMENT_KINDS,
    SchedulingRules,
    clinic_rules,
)
from ketaclinic.scheduling.schemas import BookingIn, RescheduleIn
from ketaclinic.scheduling.service.common import (
    BOOKERS,
    LONGEST_VISIT,
    load,
    overlapping,
    record,
    require,
    zone_or_default,
)
from ketaclinic.scheduling.service.staff import uncovered


@dataclass(frozen=True)
class Length:
    """How long a visit holds its chair and nurse, and where each part comes from."""

    treatment_min: int
    recovery_min: int
    treatment_basis: str
    recovery_basis: str
    protocol: Protocol | None = None
    course_id: int | None = None
    course_started_on: date | None = None

    @property
    def total_min(self) -> int:
        return self.treatment_min + self.recovery_min

    @property
    def spacing_note(self) -> str:
        if self.protocol is None:
            return ""
        if self.protocol.min_spacing_hours is None:
            return "no minimum spacing defined for this protocol"
        return f"at least {self.protocol.min_spacing_hours:g} hours between sessions"


def rules_with_clinic_overrides(db: Session) -> SchedulingRules:
    """The clinic's booking settings with its overrides of protocols (spacing, device
    timing) and discharge criteria (observation time) from Clinical defaults."""
    overrides = configuration.clinic_overrides(db, "dosing.protocols", "monitoring.discharge")
    return dataclasses.replace(clinic_rules(), clinical_overrides=tuple(overrides))


def _active_course(db: Session, actor: Actor, patient_id: int) -> orders.Course:
    try:
        course = orders.active_course(db, actor=actor, patient_id=patient_id)
    except NotFound:
        course = None
    if course is None:
        raise Invalid(
            "this patient has no active treatment course: a prescriber must start one "
            "before a treatment session can be booked",
            fields={"patient_id": "no active course"},
        )
    return course


def session_length(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    kind: str,
    rules: SchedulingRules | None = None,
) -> Length:
    """Derive the treatment and recovery minutes for a visit of ``kind``."""
    rules = rules or rules_with_clinic_overrides(db)
    if kind == "consultation":
        return Length(
            rules.consultation_min, 0, "clinic setting for consultations (convention)", "none"
        )
    if kind not in TREATMENT_KINDS:
        raise Invalid(f"unknown kind {kind!r}", fields={"kind": "unknown"})
    course = _active_course(db, actor, patient_id)
    # Only the timing of the signed order: front desk books but does not read doses.
    order = orders.visit_timing(db, actor=actor, course_id=course.id)
    if order is None:
        raise Invalid(
            "the patient's course has no signed order yet: a prescriber must sign it first",
            fields={"kind": "no signed order"},
        )
    protocol = rules.protocol(order.protocol_id)
    if protocol is None:
        raise Invalid(f"the order names an unknown protocol {order.protocol_id!r}")
    if kind == "infusion":
        if not protocol.infusion or order.duration_min is None:
            raise Invalid(
                f"the course's protocol ({protocol.name}) is not an IV infusion; "
                "choose the kind that matches the order",
                fields={"kind": "does not match the order"},
            )
        treatment = math.ceil(order.duration_min)
        basis = f"signed order {order.order_id}: infusion over {order.duration_min:g} min"
    else:
        if protocol.device_interval_min is None or not order.devices:
            raise Invalid(
                f"the course's protocol ({protocol.name}) is not intranasal esketamine; "
                "choose the kind that matches the order",
                fields={"kind": "does not match the order"},
            )
        treatment = math.ceil(order.devices * protocol.device_interval_min)
        basis = (
            f"signed order {order.order_id}: {order.devices} devices x "
            f"{protocol.device_interval_min:g} min between devices"
        )
    recovery = rules.observation_min(kind)
    return Length(
        treatment,
        recovery,
        basis,
        f"minimum observation of {recovery} min (clinical discharge criteria)",
        protocol,
        course.id,
        course.started_on,
    )


def _planned_session(
    db: Session, actor: Actor, patient_id: int, course_id: int, planned_session_id: int | None
) -> orders.PlannedSession:
    sessions = orders.planned_sessions(db, actor=actor, course_id=course_id)
    if planned_session_id is None:
        for planned in sessions:
            if planned.status == "planned":
                return planned
        raise Invalid(
            "every planned session of this course is already booked or done",
            fields={"planned_session_id": "none left"},
        )
    for planned in sessions:
        if planned.id == planned_session_id:
            if planned.patient_id != patient_id:
                break
            if planned.status != "planned":
                raise Conflict(
                    f"planned session {planned.number} is already {planned.status}",
                    fields={"planned_session_id": planned.status},
                )
            return planned
    raise Invalid(
        f"planned session {planned_session_id} is not part of this patient's active course "
        "(it belongs to another patient or course)",
        fields={"planned_session_id": "not this patient's"},
    )


def _check_nurse(
    db: Session,
    nurse: User,
    starts: datetime,
    ends: datetime,
    rules: SchedulingRules,
    zone: ZoneInfo,
    ignore_id: int | None,
) -> None:
    spans = list(
        db.scalars(
            select(StaffAvailability).where(
                StaffAvailability.user_id == nurse.id,
                StaffAvailability.starts_at < ends,
                StaffAvailability.ends_at > starts,
            )
        )
    )
    gap = uncovered(spans, starts, ends)
    if gap is not None:
        raise Conflict(
            f"{nurse.full_name} is not on duty for the whole visit "
            f"({starts.astimezone(zone):%H:%M}-{ends.astimezone(zone):%H:%M}): "
            f"off duty from {gap.astimezone(zone):%H:%M}",
            fields={"nurse_user_id": "not on duty"},
        )
    held = overlapping(db, starts, ends, ignore_id=ignore_id, nurse_user_id=nurse.id)
    busiest, moment = _peak(held, starts, ends)
    if busiest + 1 > rules.patients_per_nurse:
        raise Conflict(
            f"{nurse.full_name} already has {busiest} patient(s) at "
            f"{moment.astimezone(zone):%H:%M}; the clinic allows {rules.patients_per_nurse} "
            f"per nurse ({PATIENTS_PER_NURSE.source})",
            fields={"nurse_user_id": "fully booked"},
        )


def _peak(rows: list[Appointment], starts: datetime, ends: datetime) -> tuple[int, datetime]:
    """Most appointments held at once within [starts, ends), and when."""
    events = sorted(
        [(max(r.starts_at, starts), 1) for r in rows] + [(min(r.ends_at, ends), -1) for r in rows],
        key=lambda e: (e[0], e[1]),
    )
    count = best = 0
    when = starts
    for moment, step in events:
        count += step
        if count > best:
            best, when = count, moment
    return best, when


def _check_spacing(
    db: Session,
    length: Length,
    patient_id: int,
    starts: datetime,
    zone: ZoneInfo,
    ignore_id: int | None,
) -> None:
    protocol = length.protocol
    if protocol is None or protocol.min_spacing_hours is None:
        return
    gap = timedelta(hours=protocol.min_spacing_hours)
    near = [
        r
        for r in overlapping(
            db, starts - gap, starts + gap, ignore_id=ignore_id, patient_id=patient_id
        )
        if r.kind in TREATMENT_KINDS and abs(r.starts_at - starts) < gap
    ]
    if near:
        raise Conflict(
            f"{protocol.name} asks for at least {protocol.min_spacing_hours:g} hours between "
            f"sessions; this patient has a session at "
            f"{near[0].starts_at.astimezone(zone):%Y-%m-%d %H:%M}",
            fields={"starts_at": "too close to another session"},
        )


def _validated(
    db: Session,
    actor: Actor,
    data: BookingIn,
    *,
    now: datetime,
    rules: SchedulingRules,
    zone: ZoneInfo,
    ignore_id: int | None = None,
    kept_planned_session_id: int | None = None,
) -> tuple[Appointment, Length, Any]:
    """Every booking rule, in the order a person fixes them. Writes nothing.
    ``kept_planned_session_id``: a rescheduled visit keeps its planned session."""
    patients.get_patient(db, actor=actor, patient_id=data.patient_id, purpose="booking")
    starts = data.starts_at.replace(tzinfo=zone).astimezone(UTC)
    if starts < now:
        raise Invalid(
            f"{starts.astimezone(zone):%Y-%m-%d %H:%M} is in the past",
            fields={"starts_at": "in the past"},
        )
    length = session_length(
        db, actor=actor, patient_id=data.patient_id, kind=data.kind, rules=rules
    )
    ends = starts + timedelta(minutes=length.total_min)
    if ends - starts > LONGEST_VISIT:
        raise Invalid(
            f"this visit would last {length.total_min} minutes ({length.treatment_basis}; "
            f"{length.recovery_basis}): a visit ends the day it begins, so check the "
            "treatment and observation times in Clinical defaults",
            fields={"kind": "longer than a day"},
        )
    begins = length.course_started_on
    if (
        data.kind in TREATMENT_KINDS
        and begins is not None
        and starts.astimezone(zone).date() < begins
    ):
        raise Invalid(
            f"the treatment course starts on {begins:%Y-%m-%d}: book this session on or "
            "after that date",
            fields={"starts_at": "before the course starts"},
        )
    planned = None
    if data.kind in TREATMENT_KINDS:
        if data.chair_id is None:
            raise Invalid("choose a chair for a treatment session", fields={"chair_id": "required"})
        if data.nurse_user_id is None:
            raise Invalid(
                "choose a nurse for a treatment session", fields={"nurse_user_id": "required"}
            )
        assert length.course_id is not None
        if kept_planned_session_id is None:
            planned = _planned_session(
                db, actor, data.patient_id, length.course_id, data.planned_session_id
            )
    elif data.planned_session_id is not None:
        raise Invalid(
            "a consultation is not a planned session of a course",
            fields={"planned_session_id": "only for treatment sessions"},
        )
    if data.chair_id is not None:
        chair = db.get(Chair, data.chair_id)
        if chair is None or not chair.active:
            raise Invalid("no such chair in use", fields={"chair_id": "unknown or inactive"})
        taken = overlapping(db, starts, ends, ignore_id=ignore_id, chair_id=chair.id)
        if taken:
            raise Conflict(
                f"{chair.name} is already booked from {taken[0].starts_at.astimezone(zone):%H:%M} "
                f"to {taken[0].ends_at.astimezone(zone):%H:%M}; choose another chair or time",
                fields={"chair_id": "double booking"},
            )
    if data.nurse_user_id is not None:
        nurse = db.get(User, data.nurse_user_id)
        if nurse is None or not nurse.active or Role.nurse.value not in nurse.role_names:
            raise Invalid("no such nurse", fields={"nurse_user_id": "not a nurse"})
        _check_nurse(db, nurse, starts, ends, rules, zone, ignore_id)
    clash = overlapping(db, starts, ends, ignore_id=ignore_id, patient_id=data.patient_id)
    if clash:
        raise Conflict(
            f"the patient already has an appointment from "
            f"{clash[0].starts_at.astimezone(zone):%Y-%m-%d %H:%M} to "
            f"{clash[0].ends_at.astimezone(zone):%H:%M}",
            fields={"starts_at": "patient already booked"},
        )
    _check_spacing(db, length, data.patient_id, starts, zone, ignore_id)
    row = Appointment(
        patient_id=data.patient_id,
        chair_id=data.chair_id,
        nurse_user_id=data.nurse_user_id,
        planned_session_id=planned.id if planned is not None else kept_planned_session_id,
        kind=data.kind,
        starts_at=starts,
        ends_at=ends,
        treatment_min=length.treatment_min,
        recovery_min=length.recovery_min,
        status="booked",
        booked_by=actor.username,
        booked_at=now,
        notes=data.notes,
    )
    return row, length, planned


def book(
    db: Session,
    *,
    actor: Actor,
    data: BookingIn,
    now: datetime | None = None,
    rules: SchedulingRules | None = None,
    zone: ZoneInfo | None = None,
) -> Appointment:
    """Book a visit. ``data.starts_at`` is the clinic's local time; ``now`` is for the
    demo and tests (a booking made back then)."""
    require(actor, BOOKERS, "book appointments")
    tz = zone_or_default(zone)
    row, length, planned = _validated(
        db,
        actor,
        data,
        now=now or utcnow(),
        rules=rules or rules_with_clinic_overrides(db),
        zone=tz,
    )
    db.add(row)
    db.flush()
    record(db, actor, "book", row, _describe(row, length))
    # Last, because another area's service may commit.
    if planned is not None:
        orders.mark_planned_session(db, actor=actor, planned_session_id=planned.id, status="booked")
    ports.appointment_booked(
        db,
        actor=actor,
        appointment_id=row.id,
        patient_id=row.patient_id,
        kind=row.kind,
        service_on=row.starts_at.astimezone(tz).date(),
        booked_on=(now or utcnow()).astimezone(tz).date(),
    )
    db.flush()
    return row


def _describe(row: Appointment, length: Length) -> str:
    return (
        f"{KIND_LABELS[row.kind]} {row.starts_at.isoformat()} to {row.ends_at.isoformat()}; "
        f"treatment {length.treatment_min} min ({length.treatment_basis}), "
        f"recovery {length.recovery_min} min ({length.recovery_basis})"
    )


def _cancel_row(actor: Actor, row: Appointment, reason: str, now: datetime) -> None:
    if row.status not in ("booked",):
        raise Conflict(
            f"this appointment is {row.status.replace('_', ' ')} and cannot be cancelled"
        )
    reason = reason.strip()
    if len(reason) < 3:
        raise Invalid("say why the appointment is cancelled", fields={"reason": "required"})
    row.status = "cancelled"
    row.cancelled_by = actor.username
    row.cancelled_at = now
    row.cancel_reason = reason


def cancel(
    db: Session, *, actor: Actor, appointment_id: int, reason: str, now: datetime | None = None
) -> Appointment:
    """Cancel with a reason; the appointment stays on the calendar, struck through, and
    its planned session is free to book again."""
    require(actor, BOOKERS, "cancel appointments")
    row = load(db, appointment_id)
    _cancel_row(actor, row, reason, now or utcnow())
    record(db, actor, "cancel", row, row.cancel_reason or "")
    if row.planned_session_id is not None:
        orders.mark_planned_session(
            db,
            actor=actor,
            planned_session_id=row.planned_session_id,
            status="planned",
        )
    db.flush()
    return row


def reschedule(
    db: Session,
    *,
    actor: Actor,
    appointment_id: int,
    data: RescheduleIn,
    now: datetime | None = None,
    rules: SchedulingRules | None = None,
    zone: ZoneInfo | None = None,
) -> Appointment:
    """Cancel and book anew in one transaction: the old slot stays, struck through, with
    the reason; the new one keeps the same patient, kind and planned session."""
    require(actor, BOOKERS, "reschedule appointments")
    moment = now or utcnow()
    tz = zone_or_default(zone)
    old = load(db, appointment_id)
    if old.status != "booked":
        raise Conflict(f"this appointment is {old.status.replace('_', ' ')} and cannot be moved")
    booking = BookingIn(
        patient_id=old.patient_id,
        kind=old.kind,  # type: ignore[arg-type]
        starts_at=data.starts_at,
        chair_id=data.chair_id if data.chair_id is not None else old.chair_id,
        nurse_user_id=data.nurse_user_id if data.nurse_user_id is not None else old.nurse_user_id,
        notes=old.notes,
    )
    # The old booking's planned session is re-used, so it must not count as taken.
    new, length, _ = _validated(
        db,
        actor,
        booking,
        now=moment,
        rules=rules or rules_with_clinic_overrides(db),
        zone=tz,
        ignore_id=old.id,
        kept_planned_session_id=old.planned_session_id,
    )
    _cancel_row(actor, old, f"rescheduled: {data.reason}", moment)
    db.add(new)
    db.flush()
    record(db, actor, "cancel", old, old.cancel_reason or "")
    record(
        db, actor, "book", new, f"rescheduled from appointment {old.id}; " + _describe(new, length)
    )
    db.flush()
    return new
