"""Treatment courses, signed orders and planned sessions. Every read and write of
patient data is audited; only prescribers open courses and write orders.

Other areas call: ``active_course``, ``current_order``, ``planned_sessions``,
``next_planned_session``, ``mark_planned_session``, ``get_order``, and name the types
they get through this module (``Course``, ``Order``, ``PlannedSession``). The lookups at
the end (``order_by_id`` ...) are for another area's act that audits itself, or for
work over the whole clinic that audits what it shows: they note no read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ketaclinic.candidacy import service as candidacy
from ketaclinic.clinical import dosing, screening
from ketaclinic.clinical.overrides import Override
from ketaclinic.configuration import service as configuration
from ketaclinic.orders import planning
from ketaclinic.orders.models import Course, Order, PlannedSession
from ketaclinic.orders.schemas import OrderIn, OverrideIn
from ketaclinic.patients import service as patients
from ketaclinic.platform import ports
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import rows_by_id, utcnow
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid, NotFound
from ketaclinic.platform.roles import Role

# The clinic's tables an order's arithmetic and checks read.
DOSING_TABLES = ("dosing.protocols", "dosing.input_limits", "dosing.order_ranges")

PRESCRIBING = frozenset({Role.prescriber})
# Doses are clinical: prescribers and nurses read orders.
ORDER_READERS = frozenset({Role.prescriber, Role.nurse})
# Front desk books the planned sessions, so it sees courses and their sessions.
PLAN_READERS = frozenset({Role.prescriber, Role.nurse, Role.front_desk})
PLANNED_STATUSES = ("planned", "booked", "completed", "cancelled")
TITRATION = "titration"


def _require(actor: Actor, roles: frozenset[Role], what: str) -> None:
    if not actor.roles & roles:
        raise Forbidden(f"your role does not permit you to {what}")


def _audit(
    db: Session,
    actor: Actor,
    action: str,
    patient_id: int,
    kind: str,
    oid: object,
    detail: str = "",
) -> None:
    audit.record(
        db,
        actor=actor,
        action=action,
        patient_id=patient_id,
        object_type=kind,
        object_id=oid,
        detail=detail,
    )


def _read(db: Session, actor: Actor, action: str, patient_id: int, kind: str, oid: object) -> None:
    audit.note_read(
        db, actor=actor, action=action, patient_id=patient_id, object_type=kind, object_id=oid
    )


def _course(db: Session, course_id: int) -> Course:
    row = db.get(Course, course_id)
    if row is None:
        raise NotFound(f"no course with id {course_id}")
    return row


def _order(db: Session, order_id: int) -> Order:
    row = db.get(Order, order_id)
    if row is None:
        raise NotFound(f"no order with id {order_id}")
    return row


def _active(db: Session, patient_id: int) -> Course | None:
    return db.scalars(
        select(Course)
        .where(Course.patient_id == patient_id, Course.status == "active")
        .order_by(Course.id.desc())
        .limit(1)
    ).first()


def _current(db: Session, course_id: int) -> Order | None:
    return db.scalars(
        select(Order)
        .where(Order.course_id == course_id, Order.status == "signed")
        .order_by(Order.id.desc())
        .limit(1)
    ).first()


def _open_draft(db: Session, course_id: int) -> Order | None:
    return db.scalars(
        select(Order).where(Order.course_id == course_id, Order.status == "draft").limit(1)
    ).first()


# ------------------------------------------------------------------ courses


def open_course(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    protocol_id: str,
    indication: str,
    started_on: date | None = None,
    series_sessions: int | None = None,
) -> Course:
    """Open a course after an eligible candidacy decision; plans its induction series."""
    _require(actor, PRESCRIBING, "open a treatment course")
    p = planning.protocol(protocol_id)
    indications = {r.id for r in screening.rules() if r.kind == "indication"}
    if indication not in indications:
        raise Invalid(
            f"unknown indication {indication!r}", fields={"indication": "unknown indication"}
        )
    cleared = candidacy.clearance(db, actor=actor, patient_id=patient_id)
    if not cleared.cleared:
        raise Conflict(f"a course cannot be opened: {cleared.why}")
    assert cleared.decision is not None
    if cleared.decision.route != p.route:
        raise Invalid(
            f"candidacy was decided for the {cleared.decision.route} route; protocol {p.id} "
            f"is {p.route}: record an intake for that route first",
            fields={"protocol_id": "route differs from the candidacy decision"},
        )
    existing = _active(db, patient_id)
    if existing is not None:
        raise Conflict(f"the patient already has an active course ({existing.protocol_id})")
    length = planning.series_length(p)
    if length is None and series_sessions is None:
        raise Invalid(
            f"protocol {p.id} sets no series length ({p.typical_series}): give the number of "
            "sessions",
            fields={"series_sessions": "required for this protocol"},
        )
    if length is not None and series_sessions is not None and series_sessions != length:
        raise Invalid(
            f"protocol {p.id} plans {length} sessions; change the protocol through a clinic "
            "override, not on one course",
            fields={"series_sessions": f"protocol plans {length}"},
        )
    count = length if length is not None else series_sessions
    assert count is not None
    course = Course(
        patient_id=patient_id,
        protocol_id=p.id,
        indication=indication,
        series_sessions=count,
        started_on=started_on,
        created_by=actor.username,
    )
    db.add(course)
    db.flush()
    for number in range(1, count + 1):
        db.add(
            PlannedSession(
                course_id=course.id,
                patient_id=patient_id,
                number=number,
                kind="induction",
                status="planned",
                earliest_on=started_on if number == 1 else None,
            )
        )
    _audit(
        db,
        actor,
        "course.open",
        patient_id,
        "course",
        course.id,
        f"{p.id} for {indication}, {count} sessions; candidacy decision {cleared.decision.id}",
    )
    db.flush()
    # Outcomes keeps where each course stands: a new course starts its row.
    ports.course_facts_changed(db, patient_id=patient_id)
    return course


def get_course(db: Session, *, actor: Actor, course_id: int) -> Course:
    _require(actor, PLAN_READERS, "read treatment courses")
    course = _course(db, course_id)
    _read(db, actor, "course.view", course.patient_id, "course", course.id)
    db.flush()
    return course


def courses(db: Session, *, actor: Actor, patient_id: int) -> list[Course]:
    """Every course of the patient, newest first."""
    _require(actor, PLAN_READERS, "read treatment courses")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    rows = list(
        db.scalars(select(Course).where(Course.patient_id == patient_id).order_by(Course.id.desc()))
    )
    _read(db, actor, "course.list", patient_id, "course", None)
    db.flush()
    return rows


def active_course(db: Session, *, actor: Actor, patient_id: int) -> Course | None:
    _require(actor, PLAN_READERS, "read treatment courses")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    course = _active(db, patient_id)
    _read(db, actor, "course.view", patient_id, "course", course.id if course else None)
    db.flush()
    return course


def planned_sessions(db: Session, *, actor: Actor, course_id: int) -> list[PlannedSession]:
    _require(actor, PLAN_READERS, "read planned sessions")
    course = _course(db, course_id)
    rows = list(
        db.scalars(
            select(PlannedSession)
            .where(PlannedSession.course_id == course_id)
            .order_by(PlannedSession.number, PlannedSession.id)
        )
    )
    _read(db, actor, "planned_session.list", course.patient_id, "course", course.id)
    db.flush()
    return rows


def next_planned_session(db: Session, *, actor: Actor, patient_id: int) -> PlannedSession | None:
    """The lowest-numbered session of the active course still to happen (planned or
    booked); None without an active course or when every session is done."""
    _require(actor, PLAN_READERS, "read planned sessions")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    course = _active(db, patient_id)
    row = None
    if course is not None:
        row = db.scalars(
            select(PlannedSession)
            .where(
                PlannedSession.course_id == course.id,
                PlannedSession.status.in_(("planned", "booked")),
            )
            .order_by(PlannedSession.number, PlannedSession.id)
            .limit(1)
        ).first()
    _read(db, actor, "planned_session.next", patient_id, "planned_session", row.id if row else None)
    return row


def mark_planned_session(
    db: Session, *, actor: Actor, planned_session_id: int, status: str
) -> PlannedSession:
    """Booked by scheduling, completed by the session, cancelled or back to planned.
    A completed session stays completed."""
    _require(actor, PLAN_READERS, "change a planned session")
    if status not in PLANNED_STATUSES:
        raise Invalid(
            f"status must be one of {', '.join(PLANNED_STATUSES)}", fields={"status": status}
        )
    row = db.get(PlannedSession, planned_session_id)
    if row is None:
        raise NotFound(f"no planned session with id {planned_session_id}")
    if row.status == status:
        return row
    if row.status == "completed":
        raise Conflict(f"planned session {row.number} is completed and stays completed")
    before = row.status
    row.status = status
    _audit(
        db,
        actor,
        "planned_session.mark",
        row.patient_id,
        "planned_session",
        row.id,
        f"session {row.number}: {before} -> {status}",
    )
    db.flush()
    return row


def add_planned_sessions(
    db: Session,
    *,
    actor: Actor,
    course_id: int,
    kind: str,
    earliest_on: list[date | None],
    reason: str,
) -> list[PlannedSession]:
    """Plan more sessions of an active course, one per entry of ``earliest_on``: an
    extended induction (``kind`` "induction", the series grows by as many) or boosters.
    Numbered after the course's last planned session."""
    _require(actor, PRESCRIBING, "plan sessions")
    course = _course(db, course_id)
    if course.status != "active":
        raise Conflict(f"the course is {course.status}: open a new course")
    if kind not in ("induction", "booster"):
        raise Invalid("kind must be induction or booster", fields={"kind": kind})
    if not earliest_on or len(earliest_on) > 52:
        raise Invalid("plan 1 to 52 sessions at a time", fields={"count": "1 to 52"})
    if len(reason.strip()) < 3:
        raise Invalid("say why the sessions are planned", fields={"reason": "required"})
    last = db.scalar(
        select(func.max(PlannedSession.number)).where(PlannedSession.course_id == course.id)
    )
    rows = [
        PlannedSession(
            course_id=course.id,
            patient_id=course.patient_id,
            number=(last or 0) + i,
            kind=kind,
            status="planned",
            earliest_on=day,
        )
        for i, day in enumerate(earliest_on, start=1)
    ]
    db.add_all(rows)
    if kind == "induction":
        course.series_sessions += len(rows)
    db.flush()
    if kind == "induction":
        # A longer series changes where the course stands (outcomes keeps that).
        ports.course_facts_changed(db, patient_id=course.patient_id)
    _audit(
        db,
        actor,
        "planned_session.add",
        course.patient_id,
        "course",
        course.id,
        f"{len(rows)} {kind} session(s), numbers {rows[0].number}-{rows[-1].number}: "
        f"{reason.strip()}"[:300],
    )
    db.flush()
    return rows


def end_course(db: Session, *, actor: Actor, course_id: int, status: str, reason: str) -> Course:
    """Stop (or complete) an active course with a reason; its sessions still planned are
    cancelled, booked ones stay for the front desk to cancel with the patient."""
    _require(actor, PRESCRIBING, "end a treatment course")
    if status not in ("stopped", "completed"):
        raise Invalid("a course ends stopped or completed", fields={"status": status})
    if len(reason.strip()) < 3:
        raise Invalid("say why the course ends", fields={"reason": "required"})
    course = _course(db, course_id)
    if course.status != "active":
        raise Conflict(f"the course is already {course.status}")
    course.status = status
    course.ended_at = utcnow()
    course.end_reason = reason.strip()
    planned = list(
        db.scalars(
            select(PlannedSession).where(
                PlannedSession.course_id == course.id, PlannedSession.status == "planned"
            )
        )
    )
    for row in planned:
        row.status = "cancelled"
    _audit(
        db,
        actor,
        f"course.{status}",
        course.patient_id,
        "course",
        course.id,
        f"{reason.strip()}; {len(planned)} planned session(s) cancelled"[:300],
    )
    db.flush()
    return course


# ------------------------------------------------------------------ orders


def _plan_for(
    db: Session, actor: Actor, course: Course, data: OrderIn
) -> tuple[dosing.DosePlan, float | None, float | None]:
    patient = patients.get_patient(db, actor=actor, patient_id=course.patient_id, purpose="order")
    weight, height = patients.current_body(patient)
    p = planning.protocol(course.protocol_id)
    # The clinic's standing overrides first, the prescriber's own for this order last,
    # so that the prescriber's decision wins where both touch the same field.
    overrides = configuration.clinic_overrides(db, *DOSING_TABLES)
    overrides += planning.overrides_of(actor, p.id, data)
    # The order date is the day it is written (the older-adult esketamine start at 65).
    age = planning.age_on(patient.date_of_birth, utcnow().date())
    plan = planning.compute(
        p, data, overrides, weight_kg=weight, height_cm=height, sex=patient.sex, age_years=age
    )
    return plan, weight, height


def preview_order(db: Session, *, actor: Actor, course_id: int, data: OrderIn) -> dosing.DosePlan:
    """The dose arithmetic for these choices, without saving anything."""
    _require(actor, PRESCRIBING, "prepare an order")
    course = _course(db, course_id)
    plan, _, _ = _plan_for(db, actor, course, data)
    _read(db, actor, "order.preview", course.patient_id, "course", course.id)
    db.flush()
    return plan


def _fill(
    order: Order, plan: dosing.DosePlan, weight: float | None, height: float | None, data: OrderIn
) -> None:
    order.route = plan.route
    order.dose_mg = plan.dose_mg
    order.dose_mg_per_kg = plan.dose_mg_per_kg
    order.weight_kg = weight
    order.height_cm = height
    order.dose_weight_kg = plan.dose_weight_kg
    order.dose_weight_basis = plan.dose_weight_basis
    order.concentration_mg_per_ml = plan.concentration_mg_per_ml
    order.bag_volume_ml = plan.bag_volume_ml
    order.drug_volume_ml = plan.drug_volume_ml
    order.total_volume_ml = plan.total_volume_ml
    order.rate_ml_per_h = plan.rate_ml_per_h
    order.duration_min = plan.duration_min
    order.devices = plan.devices
    order.plan_steps = list(plan.steps)
    order.overrides = [
        {"target": o.target, "field": o.field, "value": o.value, "by": o.by, "reason": o.reason}
        for o in plan.overrides_applied
    ]
    order.notes = data.notes


def _override_words(order: Order) -> str:
    return "; ".join(
        f"override {o['target']}.{o['field']}={o['value']} by {o['by']}: {o['reason']}"
        for o in order.overrides
    )


def _new_draft(
    db: Session,
    actor: Actor,
    course: Course,
    data: OrderIn,
    supersedes: Order | None,
    reason: str | None,
) -> Order:
    if course.status != "active":
        raise Conflict(f"the course is {course.status}: open a new course")
    draft = _open_draft(db, course.id)
    if draft is not None:
        raise Conflict(f"order {draft.id} is an unsigned draft of this course: revise or sign it")
    plan, weight, height = _plan_for(db, actor, course, data)
    order = Order(
        course_id=course.id,
        patient_id=course.patient_id,
        protocol_id=course.protocol_id,
        status="draft",
        created_by=actor.username,
        supersedes_id=supersedes.id if supersedes else None,
        change_reason=reason,
    )
    _fill(order, plan, weight, height, data)
    db.add(order)
    db.flush()
    detail = f"{order.dose_mg} mg" + (
        f", supersedes {supersedes.id}: {reason}" if supersedes else ""
    )
    if order.overrides:
        detail += "; " + _override_words(order)
    _audit(db, actor, "order.draft", course.patient_id, "order", order.id, detail)
    db.flush()
    return order


def draft_order(db: Session, *, actor: Actor, course_id: int, data: OrderIn) -> Order:
    """The first order of a course, unsigned. Changes to a signed order go through
    ``supersede_order`` or ``titrate``."""
    _require(actor, PRESCRIBING, "write an order")
    course = _course(db, course_id)
    current = _current(db, course.id)
    if current is not None:
        raise Conflict(
            f"order {current.id} is signed for this course: change it with a superseding "
            "order (or titrate) and a reason"
        )
    return _new_draft(db, actor, course, data, None, None)


def revise_draft(db: Session, *, actor: Actor, order_id: int, data: OrderIn) -> Order:
    _require(actor, PRESCRIBING, "write an order")
    order = _order(db, order_id)
    if order.status != "draft":
        raise Conflict(
            f"order {order.id} is {order.status} and cannot change: a change is a new order "
            "that supersedes it, with a reason"
        )
    course = _course(db, order.course_id)
    plan, weight, height = _plan_for(db, actor, course, data)
    _fill(order, plan, weight, height, data)
    detail = f"{order.dose_mg} mg"
    if order.overrides:
        detail += "; " + _override_words(order)
    _audit(db, actor, "order.revise", order.patient_id, "order", order.id, detail)
    db.flush()
    return order


ORDER_SIGNATURE_MEANING = "authored and approved this order"


def sign_order(db: Session, *, actor: Actor, order_id: int, password: str) -> Order:
    """Draft to signed; the order it supersedes (still current) becomes superseded. The
    prescriber types their password again; the signature keeps its printed name, time
    and meaning (``accounts.confirm_signature``)."""
    _require(actor, PRESCRIBING, "sign an order")
    order = _order(db, order_id)
    if order.status != "draft":
        raise Conflict(f"order {order.id} is already {order.status}: a signed order is immutable")
    course = _course(db, order.course_id)
    current = _current(db, course.id)
    if order.supersedes_id is None and current is not None:
        raise Conflict(f"order {current.id} is already signed for this course")
    if order.supersedes_id is not None and (current is None or current.id != order.supersedes_id):
        raise Conflict(
            f"order {order.supersedes_id} is no longer the current order of the course: "
            "draft the change again from the current order"
        )
    _recheck(db, order)
    signature = accounts.confirm_signature(
        db,
        actor=actor,
        password=password,
        meaning=ORDER_SIGNATURE_MEANING,
        object_type="order",
        object_id=order.id,
        patient_id=order.patient_id,
    )
    if current is not None and order.supersedes_id is not None:
        current.status = "superseded"
    order.status = "signed"
    order.signed_by = signature.username
    order.signed_at = signature.at
    order.signed_by_name = signature.printed_name
    order.signature_meaning = signature.meaning
    db.flush()
    detail = f"{order.dose_mg} mg"
    if order.rate_ml_per_h is not None:
        detail += f" at {order.rate_ml_per_h} mL/h"
    if order.supersedes_id is not None:
        detail += f"; supersedes {order.supersedes_id}: {order.change_reason}"
    if order.overrides:
        detail += "; " + _override_words(order)
    detail += f"; signed by {signature.printed_name}: {signature.meaning}"
    _audit(db, actor, "order.sign", order.patient_id, "order", order.id, detail)
    db.flush()
    return order


def _recheck(db: Session, order: Order) -> None:
    """Signing checks the order's fields again against the clinic's ranges of today: a
    range the clinic tightened after the draft was saved refuses the draft at signing."""
    own = [
        Override(o["target"], o["field"], o["value"], by=o["by"], reason=o["reason"])
        for o in order.overrides
        if o["target"] == order.protocol_id
    ]
    planning.check_fields(
        order.protocol_id,
        configuration.clinic_overrides(db, *DOSING_TABLES) + own,
        concentration_mg_per_ml=order.concentration_mg_per_ml,
        bag_volume_ml=order.bag_volume_ml,
        total_volume_ml=order.total_volume_ml,
        rate_ml_per_h=order.rate_ml_per_h,
        duration_min=order.duration_min,
        dose_mg=order.dose_mg,
    )


def _supersedable(db: Session, order_id: int) -> tuple[Order, Course]:
    old = _order(db, order_id)
    if old.status != "signed":
        raise Conflict(
            f"only the current signed order can be changed; order {old.id} is {old.status}"
        )
    return old, _course(db, old.course_id)


def supersede_order(
    db: Session, *, actor: Actor, order_id: int, data: OrderIn, reason: str
) -> Order:
    """A draft that, once signed, replaces signed order ``order_id``."""
    _require(actor, PRESCRIBING, "change an order")
    if len(reason.strip()) < 3:
        raise Invalid("say why the order changes", fields={"reason": "required"})
    old, course = _supersedable(db, order_id)
    return _new_draft(db, actor, course, data, old, reason.strip())


def next_titration_step(order: Order) -> float | None:
    """The next mg/kg step above the order's dose in the protocol's titration steps."""
    p = planning.protocol(order.protocol_id)
    if order.dose_mg_per_kg is None:
        return None
    above = [s for s in p.titration_steps if s > order.dose_mg_per_kg + 1e-9]
    return min(above) if above else None


def titrate(db: Session, *, actor: Actor, order_id: int) -> Order:
    """A draft one titration step up from signed order ``order_id`` (reason "titration"),
    same concentration, bag and overrides."""
    _require(actor, PRESCRIBING, "titrate a dose")
    old, course = _supersedable(db, order_id)
    p = planning.protocol(old.protocol_id)
    if not p.titration_steps:
        raise Invalid(f"protocol {p.id} declares no titration steps", fields={"form": "no steps"})
    step = next_titration_step(old)
    if step is None:
        raise Invalid(
            f"{old.dose_mg_per_kg} mg/kg is already at or above the top titration step of "
            f"{p.id} ({max(p.titration_steps)} mg/kg)",
            fields={"dose_mg_per_kg": "top step reached"},
        )
    data = OrderIn(
        dose_mg_per_kg=step,
        concentration_mg_per_ml=old.concentration_mg_per_ml,
        bag_volume_ml=old.bag_volume_ml,
        overrides=[
            OverrideIn(target=o["target"], field=o["field"], value=o["value"], reason=o["reason"])
            for o in old.overrides
        ],
    )
    return _new_draft(db, actor, course, data, old, TITRATION)


def repeat_order(db: Session, *, actor: Actor, order_id: int, reason: str) -> Order:
    """A draft with the same dose and preparation as signed order ``order_id``, to be
    signed for the next part of the course (a decision to extend or to maintain)."""
    _require(actor, PRESCRIBING, "change an order")
    if len(reason.strip()) < 3:
        raise Invalid("say why the order is renewed", fields={"reason": "required"})
    old, course = _supersedable(db, order_id)
    p = planning.protocol(old.protocol_id)
    data = OrderIn(
        dose_mg_per_kg=old.dose_mg_per_kg if p.dose_unit == "mg/kg" else None,
        dose_mg=old.dose_mg if p.dose_unit == "mg" else None,
        concentration_mg_per_ml=old.concentration_mg_per_ml,
        bag_volume_ml=old.bag_volume_ml,
        overrides=[
            OverrideIn(target=o["target"], field=o["field"], value=o["value"], reason=o["reason"])
            for o in old.overrides
        ],
        notes=old.notes,
    )
    return _new_draft(db, actor, course, data, old, reason.strip())


def get_order(db: Session, *, actor: Actor, order_id: int) -> Order:
    _require(actor, ORDER_READERS, "read orders")
    order = _order(db, order_id)
    _read(db, actor, "order.view", order.patient_id, "order", order.id)
    db.flush()
    return order


def current_order(db: Session, *, actor: Actor, course_id: int) -> Order | None:
    """The signed order of the course that no later order superseded."""
    _require(actor, ORDER_READERS, "read orders")
    course = _course(db, course_id)
    order = _current(db, course.id)
    _read(db, actor, "order.view", course.patient_id, "order", order.id if order else None)
    db.flush()
    return order


@dataclass(frozen=True)
class VisitTiming:
    """What booking needs from the current signed order: how long dosing takes, and
    nothing about the dose itself (front desk books but does not read orders)."""

    order_id: int
    protocol_id: str
    duration_min: float | None
    devices: int | None


def visit_timing(db: Session, *, actor: Actor, course_id: int) -> VisitTiming | None:
    _require(actor, PLAN_READERS, "read visit timing")
    course = _course(db, course_id)
    order = _current(db, course.id)
    _read(db, actor, "order.timing", course.patient_id, "order", order.id if order else None)
    db.flush()
    if order is None:
        return None
    return VisitTiming(order.id, order.protocol_id, order.duration_min, order.devices)


def course_orders(db: Session, *, actor: Actor, course_id: int) -> list[Order]:
    """Every order of the course, newest first."""
    _require(actor, ORDER_READERS, "read orders")
    course = _course(db, course_id)
    rows = list(
        db.scalars(select(Order).where(Order.course_id == course_id).order_by(Order.id.desc()))
    )
    _read(db, actor, "order.list", course.patient_id, "course", course.id)
    db.flush()
    return rows


# ------------------------------------------------------------------ for other areas' acts


def order_by_id(db: Session, order_id: int) -> Order:
    """The order a session was opened under, for an act that audits itself."""
    return _order(db, order_id)


def orders_by_id(db: Session, ids: Iterable[int]) -> dict[int, Order]:
    """Several orders at once, for an act of another area that audits itself."""
    return rows_by_id(db, Order, ids)


def planned_session_by_id(db: Session, planned_session_id: int) -> PlannedSession | None:
    return db.get(PlannedSession, planned_session_id)


def planned_sessions_by_id(db: Session, ids: Iterable[int]) -> dict[int, PlannedSession]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = db.scalars(select(PlannedSession).where(PlannedSession.id.in_(wanted)))
    return {row.id: row for row in rows}


def active_courses(db: Session) -> list[Course]:
    """Every active course, oldest first (the outcomes work and dashboard)."""
    return list(db.scalars(select(Course).where(Course.status == "active").order_by(Course.id)))


def courses_created_before(db: Session, end: datetime) -> list[Course]:
    """Every course opened before ``end``, oldest first (clinic statistics)."""
    return list(db.scalars(select(Course).where(Course.created_at < end).order_by(Course.id)))


def latest_course(db: Session, patient_id: int) -> Course | None:
    """The patient's newest course, whatever its status."""
    return db.scalar(
        select(Course).where(Course.patient_id == patient_id).order_by(Course.id.desc()).limit(1)
    )


def latest_signer(db: Session, patient_id: int) -> str | None:
    """Who signed the patient's latest signed order (the prescriber outcomes alerts)."""
    return db.scalar(
        select(Order.signed_by)
        .where(Order.patient_id == patient_id, Order.signed_by.is_not(None))
        .order_by(Order.signed_at.desc(), Order.id.desc())
        .limit(1)
    )


def planned_sessions_of_patient(db: Session, patient_id: int) -> list[PlannedSession]:
    """Every planned session of the patient's courses, in course and number order, for
    another area's act that audits itself (the patient's own plan in the portal)."""
    return list(
        db.scalars(
            select(PlannedSession)
            .where(PlannedSession.patient_id == patient_id)
            .order_by(PlannedSession.course_id, PlannedSession.number)
        )
    )


def courses_with_induction_done(db: Session) -> list[Course]:
    """Active courses whose induction sessions are all given (as many completed as the
    series plans), in one aggregate query, for another area's work over the clinic that
    audits what it shows (the course decisions due)."""
    done = func.sum(
        case(
            (
                (PlannedSession.kind == "induction") & (PlannedSession.status == "completed"),
                1,
            ),
            else_=0,
        )
    )
    return list(
        db.scalars(
            select(Course)
            .join(PlannedSession, PlannedSession.course_id == Course.id)
            .where(Course.status == "active")
            .group_by(Course.id)
            .having(done >= func.max(Course.series_sessions))
            .order_by(Course.id)
        )
    )


def courses_of_patients(
    db: Session, patient_ids: Iterable[int] | None = None, *, ids: Iterable[int] | None = None
) -> list[Course]:
    """Every course of the patients (``None``: every patient), oldest first, for another
    area's act that audits itself (the interop area's FHIR reads)."""
    query = select(Course).order_by(Course.id)
    if ids is not None:
        query = query.where(Course.id.in_(sorted(set(ids))))
    if patient_ids is not None:
        query = query.where(Course.patient_id.in_(sorted(set(patient_ids))))
    return list(db.scalars(query))


@dataclass(frozen=True)
class DraftToSign:
    order: Order
    patient_name: str
    drafted_by_name: str  # the person who drafted it, as the clinic knows them


def drafts_to_sign(db: Session, *, actor: Actor, limit: int = 50) -> list[DraftToSign]:
    """Drafted orders waiting for a prescriber's signature, oldest first (one query, one
    for the patients' names and one for the drafters')."""
    _require(actor, PRESCRIBING, "sign orders")
    rows = list(
        db.scalars(
            select(Order)
            .where(Order.status == "draft")
            .order_by(Order.created_at, Order.id)
            .limit(limit)
        )
    )
    names = patients.display_names(db, {r.patient_id for r in rows})
    drafters = accounts.full_names(db, {r.created_by for r in rows})
    for r in rows:
        _read(db, actor, "order.to_sign", r.patient_id, "order", r.id)
    return [
        DraftToSign(r, names.get(r.patient_id, "?"), drafters.get(r.created_by, r.created_by))
        for r in rows
    ]
