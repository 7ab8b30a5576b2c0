"""Opening a session (from an appointment or as a walk-in) and charting the infusion:
start, pause, resume, rate change, stop, and the nasal devices of an esketamine session.
Every act is a timestamped event; the state is replayed from them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.controlled import service as controlled
from ketaclinic.orders import service as orders
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Invalid
from ketaclinic.scheduling import service as scheduling
from ketaclinic.sessions import pump
from ketaclinic.sessions.models import InfusionSession, SessionEvent
from ketaclinic.sessions.service import summaries, view
from ketaclinic.sessions.service.common import (
    RUNNERS,
    charted_time,
    load_open,
    minutes,
    reason_text,
    record,
    require,
)


def _number(db: Session, course_id: int | None, planned_number: int | None) -> int:
    if planned_number is not None:
        return planned_number
    if course_id is None:
        return 1
    given = db.scalar(
        select(func.count(InfusionSession.id)).where(
            InfusionSession.course_id == course_id, InfusionSession.status != "cancelled"
        )
    )
    return int(given or 0) + 1


def _open(
    db: Session,
    actor: Actor,
    *,
    patient_id: int,
    order: orders.Order,
    appointment_id: int | None,
    planned_session_id: int | None,
    planned_number: int | None,
    now: datetime | None,
) -> InfusionSession:
    if order.patient_id != patient_id:
        raise Conflict("the order belongs to another patient")
    if order.status != "signed":
        raise Conflict("only a signed order can be given: ask the prescriber to sign it")
    route = view.route_of(order)
    if route == "iv" and not (order.rate_ml_per_h and order.total_volume_ml):
        raise Conflict("the order has no pump rate or bag volume: the prescriber must complete it")
    row = InfusionSession(
        patient_id=patient_id,
        course_id=order.course_id,
        order_id=order.id,
        appointment_id=appointment_id,
        planned_session_id=planned_session_id,
        number=_number(db, order.course_id, planned_number),
        protocol_id=order.protocol_id,
        route=route,
        status="open",
        created_by=actor.username,
        created_at=now or utcnow(),
    )
    db.add(row)
    db.flush()
    if route == "esketamine_nasal":
        from ketaclinic.sessions.service import esketamine

        esketamine.open_record(db, row)
    record(db, actor, "open", row, detail=f"order {order.id}, {order.protocol_id}")
    summaries.refresh(db, row.id)
    return row


def start_session_for_appointment(
    db: Session, *, actor: Actor, appointment_id: int, now: datetime | None = None
) -> InfusionSession:
    """The nurse opens the session of a booked appointment (the patient has arrived)."""
    require(actor, RUNNERS, "running a session")
    existing = db.scalar(
        select(InfusionSession).where(InfusionSession.appointment_id == appointment_id)
    )
    if existing is not None:
        return existing
    appointment = scheduling.get_appointment(db, actor=actor, appointment_id=appointment_id)
    # A completed appointment may still be charted late; a missed one may not.
    if appointment.status in ("cancelled", "no_show"):
        raise Conflict(f"this appointment is {appointment.status.replace('_', ' ')}")
    if appointment.kind == "consultation":
        raise Conflict("a consultation has no treatment session")
    course = orders.active_course(db, actor=actor, patient_id=appointment.patient_id)
    order = orders.current_order(db, actor=actor, course_id=course.id) if course else None
    if order is None:
        raise Conflict("the patient has no signed order in an active course")
    planned_number = None
    if appointment.planned_session_id is not None:
        planned = orders.planned_session_by_id(db, appointment.planned_session_id)
        planned_number = planned.number if planned else None
    row = _open(
        db,
        actor,
        patient_id=appointment.patient_id,
        order=order,
        appointment_id=appointment.id,
        planned_session_id=appointment.planned_session_id,
        planned_number=planned_number,
        now=now,
    )
    db.flush()
    if appointment.status == "booked":
        scheduling.mark_appointment(
            db, actor=actor, appointment_id=appointment.id, status="checked_in"
        )
    # Opened before the booked time: the schedule follows the patient's real start.
    scheduling.follow_early_start(
        db, actor=actor, appointment_id=appointment.id, started_at=row.created_at
    )
    return row


def start_walk_in_session(
    db: Session, *, actor: Actor, patient_id: int, now: datetime | None = None
) -> InfusionSession:
    """A session without an appointment, under the patient's current signed order."""
    require(actor, RUNNERS, "running a session")
    course = orders.active_course(db, actor=actor, patient_id=patient_id)
    order = orders.current_order(db, actor=actor, course_id=course.id) if course else None
    if order is None:
        raise Conflict("the patient has no signed order in an active course")
    open_one = db.scalar(
        select(InfusionSession.id).where(
            InfusionSession.patient_id == patient_id, InfusionSession.status == "open"
        )
    )
    if open_one is not None:
        raise Conflict(f"session {open_one} of this patient is still open: finish it first")
    row = _open(
        db,
        actor,
        patient_id=patient_id,
        order=order,
        appointment_id=None,
        planned_session_id=None,
        planned_number=None,
        now=now,
    )
    db.flush()
    return row


def cancel_session(
    db: Session, *, actor: Actor, session_id: int, reason: str, now: datetime | None = None
) -> InfusionSession:
    """Close a session where no dose was given (a no-go, a patient who left)."""
    require(actor, RUNNERS, "cancelling a session")
    row = load_open(db, session_id)
    text = reason_text(reason)
    dosed = db.scalar(
        select(SessionEvent.id).where(
            SessionEvent.session_id == row.id,
            SessionEvent.kind.in_(("start", "device")),
            SessionEvent.entered_in_error_at.is_(None),
        )
    )
    if dosed is not None:
        raise Conflict("dosing has started: stop it and discharge the patient instead")
    row.status = "cancelled"
    row.cancelled_reason = text
    db.add(
        SessionEvent(
            session_id=row.id,
            kind="cancel",
            at=now or utcnow(),
            reason=text,
            recorded_by=actor.username,
        )
    )
    record(db, actor, "cancel", row, detail=text)
    db.flush()
    summaries.refresh(db, row.id)
    return row


def chart_pump(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    kind: str,
    at: datetime | None = None,
    rate_ml_per_h: float | None = None,
    reason: str | None = None,
    now: datetime | None = None,
    lot_id: int | None = None,
) -> SessionEvent:
    """Start, pause, resume, change the rate of, or stop the IV infusion. The start draws
    the order's dose from a ledger lot (``lot_id``, or the first expiring); the stop
    records in the ledger the mg the pump record says went in."""
    require(actor, RUNNERS, "charting the infusion")
    row = load_open(db, session_id)
    if row.route != "iv":
        raise Invalid(
            "this is a nasal esketamine session: chart its devices", fields={"kind": kind}
        )
    if kind not in view.PUMP_KINDS:
        raise Invalid(f"unknown infusion act {kind!r}", fields={"kind": "unknown"})
    moment = charted_time(at, now=now)
    state = view.build(db, actor=actor, row=row, now=moment)
    if kind == "start" and not state.may_start:
        unmet = [i.rule.label for i in state.checklist if not i.met]
        raise Conflict(
            "the checklist is incomplete (" + "; ".join(unmet) + "): complete it, or a "
            "prescriber overrides it with a reason"
        )
    previous = view.valid(state.events)
    if previous and moment < previous[-1].at and kind in view.PUMP_KINDS:
        raise Invalid(
            "this act is charted before the last one: chart acts in the order they happened",
            fields={"at": "before the previous act"},
        )
    if kind == "rate_change":
        if rate_ml_per_h is None or not 0 < rate_ml_per_h <= 1000:
            raise Invalid(
                "give the new rate in mL/h (above 0, at most 1000)",
                fields={"rate_ml_per_h": "required"},
            )
    elif rate_ml_per_h is not None:
        raise Invalid(
            "a rate is charted only with a rate change", fields={"rate_ml_per_h": "not here"}
        )
    text = None
    if kind == "stop":
        text = reason_text(reason, what="why the infusion stops (e.g. complete, BP, patient asked)")
    elif reason:
        text = reason.strip()[:2000]
    if kind != "start":
        current = state.pump.state if state.pump else "not_started"
        problem = pump.check_next(current, kind)  # type: ignore[arg-type]
        if problem:
            raise Conflict(problem)
    elif state.pump is not None:
        raise Conflict("the infusion has already started")
    event = SessionEvent(
        session_id=row.id,
        kind=kind,
        at=moment,
        rate_ml_per_h=rate_ml_per_h,
        reason=text,
        recorded_by=actor.username,
    )
    db.add(event)
    db.flush()
    record(
        db,
        actor,
        f"infusion.{kind}",
        row,
        object_type="session_event",
        object_id=event.id,
        detail=f"at {moment.isoformat()}" + (f", {rate_ml_per_h:g} mL/h" if rate_ml_per_h else ""),
    )
    if kind == "start":
        controlled.draw_for_dose(
            db,
            actor=actor,
            session_id=row.id,
            patient_id=row.patient_id,
            route=row.route,
            mg=state.order.dose_mg,
            lot_id=lot_id,
            at=moment,
        )
    elif kind == "stop" and state.pump is not None:
        # The amount given is the chart's own (the pump replay up to the stop).
        controlled.record_given(db, actor=actor, session_id=row.id, mg=state.pump.mg, at=moment)
    db.flush()
    summaries.refresh(db, event.session_id)
    return event


def chart_device(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    at: datetime | None = None,
    now: datetime | None = None,
    lot_id: int | None = None,
) -> SessionEvent:
    """One nasal device (two sprays, the protocol's device size) given, at least the
    protocol's spacing after the one before (``dosing.device_interval_min``)."""
    require(actor, RUNNERS, "charting a nasal device")
    row = load_open(db, session_id)
    if row.route != "esketamine_nasal":
        raise Invalid("devices are charted only in esketamine sessions", fields={"kind": "device"})
    moment = charted_time(at, now=now)
    state = view.build(db, actor=actor, row=row, now=moment)
    if not state.devices and not state.may_start:
        unmet = [i.rule.label for i in state.checklist if not i.met]
        raise Conflict(
            "the checklist is incomplete (" + "; ".join(unmet) + "): complete it, or a "
            "prescriber overrides it with a reason"
        )
    if state.enrolment is None or state.enrolment.enrolled_on > moment.date():
        raise Conflict(
            "the patient is not enrolled in the REMS programme: record the enrolment first"
        )
    if len(state.devices) >= state.devices_planned:
        raise Conflict(
            f"all {state.devices_planned} devices of the order ({state.order.dose_mg:g} mg) "
            "are charted"
        )
    assert state.device_mg is not None and state.device_interval_min is not None
    interval = state.device_interval_min
    if state.devices:
        since = minutes(moment, state.devices[-1].at)
        if since < interval:
            ready = state.devices[-1].at + timedelta(minutes=interval)
            raise Conflict(
                f"wait {interval:g} minutes between devices (the protocol's spacing): the "
                f"next one from {ready.strftime('%H:%M')} UTC",
            )
    number = len(state.devices) + 1
    event = SessionEvent(
        session_id=row.id,
        kind="device",
        at=moment,
        detail={"number": number, "mg": state.device_mg},
        recorded_by=actor.username,
    )
    db.add(event)
    db.flush()
    record(
        db,
        actor,
        "esketamine.device",
        row,
        object_type="session_event",
        object_id=event.id,
        detail=f"device {number} of {state.devices_planned}",
    )
    drawn = controlled.draw_for_dose(
        db,
        actor=actor,
        session_id=row.id,
        patient_id=row.patient_id,
        route=row.route,
        mg=state.device_mg,
        lot_id=lot_id,
        administered=True,
        at=moment,
    )
    record_row = state.monitoring_record
    if drawn is not None and record_row is not None and record_row.signed_at is None:
        # REMS asks for the lot on the monitoring form: the ledger's lot, not a retyping.
        lot = controlled.lot_by_id(db, drawn.lot_id).lot_number
        answers = dict(record_row.answers or {})
        lots = [x for x in (answers.get("lot_number") or "").split(", ") if x]
        if lot not in lots:
            answers["lot_number"] = ", ".join([*lots, lot])
            record_row.answers = answers
    db.flush()
    summaries.refresh(db, event.session_id)
    return event


def end_dosing_early(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    reason: str,
    at: datetime | None = None,
    now: datetime | None = None,
) -> SessionEvent:
    """Esketamine: no further device will be given today (the dose ends short)."""
    require(actor, RUNNERS, "ending dosing")
    row = load_open(db, session_id)
    if row.route != "esketamine_nasal":
        raise Invalid("stop an IV infusion with the stop act", fields={"kind": "stop"})
    text = reason_text(reason)
    moment = charted_time(at, now=now)
    state = view.build(db, actor=actor, row=row, now=moment)
    if not state.devices:
        raise Conflict("no device has been given: cancel the session instead")
    if state.dose_end is not None:
        raise Conflict("dosing has already ended")
    event = SessionEvent(
        session_id=row.id, kind="stop", at=moment, reason=text, recorded_by=actor.username
    )
    db.add(event)
    db.flush()
    record(
        db,
        actor,
        "esketamine.stop",
        row,
        object_type="session_event",
        object_id=event.id,
        detail=text,
    )
    db.flush()
    summaries.refresh(db, event.session_id)
    return event


def mark_event_in_error(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    event_id: int,
    reason: str,
    now: datetime | None = None,
) -> SessionEvent:
    """A wrongly charted act: marked, never deleted; the state replays without it."""
    require(actor, RUNNERS, "correcting the chart")
    row = load_open(db, session_id)
    event = db.get(SessionEvent, event_id)
    if event is None or event.session_id != row.id:
        raise Invalid(f"no act {event_id} in this session", fields={"event_id": "unknown"})
    if event.entered_in_error_at is not None:
        raise Conflict("this act is already marked entered in error")
    if event.kind in ("discharge", "cancel", "checklist_override"):
        raise Conflict("this act cannot be withdrawn: write a note instead")
    text = reason_text(reason)
    state = view.build(db, actor=actor, row=row, now=now)
    if event.kind in view.PUMP_KINDS:
        rest = [
            e for e in view.valid(state.events) if e.id != event.id and e.kind in view.PUMP_KINDS
        ]
        if rest and any(e.kind == "start" for e in rest):
            origin = next(e.at for e in rest if e.kind == "start")
            try:
                pump.replay(
                    [
                        pump.PumpEvent(e.kind, minutes(e.at, origin), e.rate_ml_per_h)  # type: ignore[arg-type]
                        for e in rest
                    ],
                    now_min=minutes(state.now, origin),
                    initial_rate_ml_per_h=state.order.rate_ml_per_h or 0.0,
                    total_volume_ml=state.order.total_volume_ml or 0.0,
                    dose_mg=state.order.dose_mg,
                )
            except ValueError as exc:
                raise Conflict(
                    f"without this act the rest of the chart no longer adds up ({exc}): "
                    "mark the later acts first"
                ) from exc
        elif rest:
            raise Conflict("mark the later acts in error before the start")
    event.entered_in_error_at = now or utcnow()
    event.entered_in_error_by = actor.username
    event.error_reason = text
    record(
        db,
        actor,
        "event.entered_in_error",
        row,
        object_type="session_event",
        object_id=event.id,
        detail=event.error_reason,
    )
    db.flush()
    summaries.refresh(db, event.session_id)
    return event
