"""Course decisions: what the prescriber decides on, the decision that creates the next
order draft and planned sessions or switches route (``decide``), and the decisions that
came due, sent to the primary clinician first and escalated when unanswered."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.candidacy import service as candidacy
from ketaclinic.care.models import BoosterProposal, CourseDecision
from ketaclinic.care.service.common import (
    CARE_JOB,
    CHOICES,
    DECIDERS,
    PLAN_READERS,
    _decisions,
    _maintenance_rows,
    _maintenance_since,
    _primaries,
    _read,
    _record,
    _require,
    _text,
)
from ketaclinic.care.service.medications import medication_changes_for_order
from ketaclinic.care.service.team import primary_clinician_username
from ketaclinic.clinical import calendar, dosing
from ketaclinic.clinical.course import plan as clinical_plan
from ketaclinic.configuration import service as configuration
from ketaclinic.orders import service as orders
from ketaclinic.outcomes import service as outcomes
from ketaclinic.patients import service as patients
from ketaclinic.platform import ports
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.clock import clinic_today
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Invalid
from ketaclinic.platform.settings import get_settings
from ketaclinic.sessions import service as sessions


@dataclass
class DecisionScreen:
    course: orders.Course
    patient: patients.Patient
    outcomes: Any  # outcomes.patient_outcomes: the standing and its classification
    given: list[Any]  # sessions.completed_sessions of the course: dose, CADSS, side effects
    course_orders: list[orders.Order]
    current: orders.Order | None
    planned: list[orders.PlannedSession]
    next_step: float | None
    schedules: list[clinical_plan.MaintenanceSchedule]
    decisions: list[CourseDecision]
    proposals: list[BoosterProposal]
    medication_changes: list[ports.MedicationChange]
    in_maintenance: bool = False
    switch_options: list[SwitchOption] = field(default_factory=list)
    # The most sessions of each kind one decision plans (``planning_limits``).
    limits: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SwitchOption:
    """A protocol on another route the course may switch to, and whether the patient's
    candidacy decision covers that route (else where to evaluate it)."""

    protocol_id: str
    label: str
    route: str
    infusion: bool
    covered: bool
    why: str
    evaluate_path: str


def _other_routes(course: orders.Course) -> list[dosing.Protocol]:
    table = {p.id: p for p in dosing.protocols()}
    here = table[course.protocol_id].route if course.protocol_id in table else None
    return [p for p in table.values() if p.route != here]


def switch_options(db: Session, *, actor: Actor, course: orders.Course) -> list[SwitchOption]:
    """The protocols of the other routes, each with what the patient's current
    candidacy decision says of its route: a course opens only on a route a decision
    clears (``orders.open_course``)."""
    cleared = candidacy.clearance(db, actor=actor, patient_id=course.patient_id)
    decided_route = cleared.decision.route if cleared.decision is not None else None
    found = []
    for p in _other_routes(course):
        covered = cleared.cleared and decided_route == p.route
        if covered:
            why = f"candidacy decided for the {p.route} route: {cleared.why}"
        elif cleared.cleared:
            why = (
                f"the candidacy decision covers the {decided_route} route, not {p.route}: "
                f"record an intake for the {p.route} route and decide candidacy on it first"
            )
        else:
            why = f"no candidacy decision clears a course: {cleared.why}"
        found.append(
            SwitchOption(
                p.id,
                f"{p.name} ({p.route})",
                p.route,
                p.infusion,
                covered,
                why,
                f"/patients/{course.patient_id}/intake/new?route={p.route}",
            )
        )
    return found


def decision_screen(
    db: Session, *, actor: Actor, course_id: int, now: datetime | None = None
) -> DecisionScreen:
    """Everything the prescriber decides on: the trajectory (scores against baseline,
    sessions given with doses, side effects and dissociation), the classification with its
    rule, the orders and planned sessions, and the choices with their schedules."""
    _require(actor, DECIDERS, "decide on a course")
    course = orders.get_course(db, actor=actor, course_id=course_id)
    seen = outcomes.patient_outcomes(db, actor=actor, patient_id=course.patient_id, now=now)
    given = [
        s
        for s in sessions.completed_sessions(db, actor=actor, patient_id=course.patient_id)
        if s.protocol_id == course.protocol_id
    ]
    rows = orders.course_orders(db, actor=actor, course_id=course.id)
    current = next((o for o in rows if o.status == "signed"), None)
    route = current.route if current is not None else None
    schedules = [
        s for s in _maintenance_rows(db).values() if route is None or s.route in (route, "")
    ] or list(_maintenance_rows(db).values())
    proposals = list(
        db.scalars(
            select(BoosterProposal)
            .where(BoosterProposal.course_id == course.id)
            .order_by(BoosterProposal.proposed_at.desc())
        )
    )
    return DecisionScreen(
        course=course,
        patient=seen.patient,
        outcomes=seen,
        given=given,
        course_orders=rows,
        current=current,
        planned=orders.planned_sessions(db, actor=actor, course_id=course.id),
        next_step=orders.next_titration_step(current) if current is not None else None,
        schedules=schedules,
        decisions=_decisions(db, course.id),
        proposals=proposals,
        medication_changes=medication_changes_for_order(
            db, actor=actor, patient_id=course.patient_id
        ),
        in_maintenance=_maintenance_since(db, course.id) is not None,
        switch_options=switch_options(db, actor=actor, course=course)
        if course.status == "active"
        else [],
        limits=planning_limits(db),
    )


@dataclass
class Decided:
    decision: CourseDecision
    order: orders.Order | None
    planned: list[orders.PlannedSession] = field(default_factory=list)
    next_course: orders.Course | None = None


def _classification_words(db: Session, actor: Actor, patient_id: int) -> str:
    seen = outcomes.patient_outcomes(db, actor=actor, patient_id=patient_id)
    status = seen.standing.status
    if status is None:
        return seen.standing.problem or "no scores to classify"
    return "; ".join(status.reasons)[:4000]


def planning_limits(db: Session) -> dict[str, int]:
    """The most sessions of each kind one decision plans, with the clinic's overrides
    (``course.planning_limits``): the decision form's bounds and its checks."""
    overrides = configuration.overrides_for(db, "course.planning_limits")
    return {
        key: clinical_plan.planning_limit(key, overrides).most
        for key in clinical_plan.PLANNING_LIMITS
    }


def _planning_limit(db: Session, key: str) -> int:
    """One of ``planning_limits``, read for the choice that plans sessions of its kind."""
    overrides = configuration.overrides_for(db, "course.planning_limits")
    return clinical_plan.planning_limit(key, overrides).most


def _extension_refused(most: int) -> Invalid:
    return Invalid(f"extend by 1 to {most} sessions", fields={"extra_sessions": f"1 to {most}"})


def _extend_induction(
    db: Session, actor: Actor, course: orders.Course, extra: int, reason: str, most: int
) -> list[orders.PlannedSession]:
    """Plan ``extra`` more induction sessions (1 to ``most``, the clinic's planning
    limit), as an extension or with a titration."""
    if not 1 <= extra <= most:
        raise _extension_refused(most)
    return orders.add_planned_sessions(
        db,
        actor=actor,
        course_id=course.id,
        kind="induction",
        earliest_on=[None] * extra,
        reason=reason,
    )


def decide(
    db: Session,
    *,
    actor: Actor,
    course_id: int,
    choice: str,
    reason: str,
    extra_sessions: int | None = None,
    schedule_id: str | None = None,
    weekly: int | None = None,
    fortnightly: int | None = None,
    monthly: int | None = None,
    protocol_id: str | None = None,
    concentration_mg_per_ml: float | None = None,
    bag_volume_ml: float | None = None,
    series_sessions: int | None = None,
    now: datetime | None = None,
) -> Decided:
    """Record the prescriber's decision with its reason and the classification it was
    made on, and do what it means through the orders service: the next order draft (to
    sign) and the planned sessions (for the front desk to book).

    Switching route (``protocol_id`` on another route) stops the course and opens the
    next one on that protocol, with its induction series planned and a draft order at
    the protocol's standard dose (``concentration_mg_per_ml`` and ``bag_volume_ml`` for
    an infusion; ``series_sessions`` where the protocol sets no series length), when
    the patient's candidacy decision covers that route. When it does not, nothing is
    changed: the refusal says so and where to evaluate candidacy for that route."""
    _require(actor, DECIDERS, "decide on a course")
    if choice not in CHOICES:
        raise Invalid(
            f"choose one of: {', '.join(CHOICES.values())}", fields={"choice": "required"}
        )
    reason = _text(reason, field="reason", what="the reason for the decision", required=True)
    course = orders.get_course(db, actor=actor, course_id=course_id)
    if course.status != "active":
        raise Conflict(f"the course is {course.status}: nothing left to decide")
    current = orders.current_order(db, actor=actor, course_id=course.id)
    words = _classification_words(db, actor, course.patient_id)
    order = None
    next_course = None
    planned: list[orders.PlannedSession] = []
    schedule: dict[str, Any] | None = None
    label = CHOICES[choice]
    if choice in ("extend", "titrate", "maintenance") and current is None:
        raise Conflict("the course has no signed order to continue: sign its first order")
    if choice == "extend":
        most = _planning_limit(db, "induction_extension")
        if extra_sessions is None:
            raise _extension_refused(most)
        planned = _extend_induction(
            db,
            actor,
            course,
            extra_sessions,
            f"decision: extend by {extra_sessions}: {reason}",
            most,
        )
        assert current is not None
        order = orders.repeat_order(
            db, actor=actor, order_id=current.id, reason=f"induction extended by {extra_sessions}"
        )
    elif choice == "titrate":
        assert current is not None
        order = orders.titrate(db, actor=actor, order_id=current.id)
        if extra_sessions:
            why = f"decision: titrate and extend by {extra_sessions}: {reason}"
            planned = _extend_induction(
                db, actor, course, extra_sessions, why, _planning_limit(db, "induction_extension")
            )
    elif choice == "maintenance":
        rows = _maintenance_rows(db)
        if schedule_id not in rows:
            raise Invalid("choose a maintenance schedule", fields={"schedule_id": "required"})
        declared = rows[schedule_id]
        counts = {
            "weekly": declared.weekly if weekly is None else weekly,
            "fortnightly": declared.fortnightly if fortnightly is None else fortnightly,
            "monthly": declared.monthly if monthly is None else monthly,
        }
        most = _planning_limit(db, "boosters_per_spacing")
        if any(not 0 <= v <= most for v in counts.values()) or not sum(counts.values()):
            raise Invalid(
                f"plan 0 to {most} boosters of each spacing, at least one in all",
                fields={"weekly": f"0 to {most}"},
            )
        gaps = (7,) * counts["weekly"] + (14,) * counts["fortnightly"] + (28,) * counts["monthly"]
        changed = {
            k: {"declared": getattr(declared, k), "chosen": v}
            for k, v in counts.items()
            if v != getattr(declared, k)
        }
        schedule = {
            "schedule": declared.id,
            "gaps_days": list(gaps),
            "source": declared.source,
            "evidence": declared.evidence,
            "changed_for_this_course": changed,
        }
        dates = clinical_plan.booster_dates(clinic_today(), gaps)
        planned = orders.add_planned_sessions(
            db,
            actor=actor,
            course_id=course.id,
            kind="booster",
            earliest_on=list(dates),
            reason=f"decision: maintenance ({declared.id}): {reason}",
        )
        assert current is not None
        order = orders.repeat_order(
            db, actor=actor, order_id=current.id, reason=f"maintenance boosters ({declared.id})"
        )
        label = f"{label}: {declared.label}" + (" (changed for this course)" if changed else "")
    elif choice == "switch_route":
        target = _switch_target(db, actor, course, protocol_id)
        if target.infusion and concentration_mg_per_ml is None:
            raise Invalid(
                "give the drug concentration of the infusion's order",
                fields={"concentration_mg_per_ml": "required for an infusion"},
            )
        orders.end_course(
            db,
            actor=actor,
            course_id=course.id,
            status="stopped",
            reason=f"switching route to {target.protocol_id} ({target.route}): {reason}",
        )
        next_course = orders.open_course(
            db,
            actor=actor,
            patient_id=course.patient_id,
            protocol_id=target.protocol_id,
            indication=course.indication,
            series_sessions=series_sessions,
        )
        order = orders.draft_order(
            db,
            actor=actor,
            course_id=next_course.id,
            data=orders.OrderIn(
                concentration_mg_per_ml=concentration_mg_per_ml if target.infusion else None,
                bag_volume_ml=bag_volume_ml if target.infusion else None,
                notes=f"Route switched from course {course.id} ({course.protocol_id})",
            ),
        )
        planned = orders.planned_sessions(db, actor=actor, course_id=next_course.id)
        label = f"{label} to {target.label}: course {next_course.id}"
    else:
        orders.end_course(db, actor=actor, course_id=course.id, status="stopped", reason=reason)
    decision = CourseDecision(
        course_id=course.id,
        patient_id=course.patient_id,
        choice=choice,
        reason=reason,
        extra_sessions=extra_sessions,
        schedule_id=schedule_id if choice == "maintenance" else None,
        schedule=schedule,
        classification=words,
        order_id=order.id if order is not None else None,
        planned_session_ids=[p.id for p in planned],
        decided_by=actor.username,
        decided_at=now or utcnow(),
    )
    db.add(decision)
    db.flush()
    _record(
        db,
        actor,
        "course.decision",
        course.patient_id,
        "course_decision",
        decision.id,
        f"{label}: {reason}; {len(planned)} session(s) planned"
        + (f"; order draft {order.id}" if order is not None else ""),
    )
    db.flush()
    return Decided(decision, order, planned, next_course)


def _switch_target(
    db: Session, actor: Actor, course: orders.Course, protocol_id: str | None
) -> SwitchOption:
    """The protocol a switch goes to, refused (before anything is written) unless it is
    on another route and the patient's candidacy decision covers that route."""
    if not protocol_id:
        raise Invalid(
            "choose the protocol of the route to switch to", fields={"protocol_id": "required"}
        )
    options = {o.protocol_id: o for o in switch_options(db, actor=actor, course=course)}
    if protocol_id not in options:
        raise Invalid(
            f"{protocol_id} is not a protocol on another route than this course's",
            fields={"protocol_id": "not another route"},
        )
    target = options[protocol_id]
    if not target.covered:
        raise Conflict(
            f"the course is not switched: {target.why} ({target.evaluate_path})",
            fields={"protocol_id": "candidacy does not cover this route"},
        )
    return target


def course_decisions(db: Session, *, actor: Actor, course_id: int) -> list[CourseDecision]:
    _require(actor, PLAN_READERS, "read course decisions")
    course = orders.get_course(db, actor=actor, course_id=course_id)
    rows = _decisions(db, course.id)
    _read(db, actor, "course.decisions", course.patient_id, "course_decision", f"{len(rows)}")
    db.flush()
    return rows


@dataclass
class DecisionDue:
    course: orders.Course
    patient_name: str
    mine: bool


def _courses_due(db: Session) -> list[tuple[orders.Course, datetime | None]]:
    """The courses waiting for a decision, each with the time of its latest decision."""
    courses = orders.courses_with_induction_done(db)
    if not courses:
        return []
    latest: dict[int, CourseDecision] = {}
    for row in db.scalars(
        select(CourseDecision)
        .where(CourseDecision.course_id.in_([c.id for c in courses]))
        .order_by(CourseDecision.decided_at, CourseDecision.id)
    ):
        latest[row.course_id] = row
    return [
        (c, latest[c.id].decided_at if c.id in latest else None)
        for c in courses
        if c.id not in latest
        or (latest[c.id].choice in ("extend", "titrate") and latest[c.id].extra_sessions)
    ]


def _told_at(db: Session, action: str, course_id: int, since: datetime | None) -> datetime | None:
    """When the job last sent this course's decision ``action`` (after its latest
    decision), from the audit trail that records each message."""
    query = select(AuditEvent.at).where(
        AuditEvent.action == action,
        AuditEvent.object_type == "course",
        AuditEvent.object_id == str(course_id),
    )
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    return db.scalar(query.order_by(AuditEvent.at.desc()).limit(1))


def _tell(
    db: Session,
    course: orders.Course,
    team: list[str],
    action: str,
    *,
    subject: str,
    body: str,
    detail: str,
) -> None:
    """Message the team about the course's decision and record it under ``action``: the
    record is what ``_told_at`` reads to know the message went, so the two go together."""
    outcomes.message_staff(
        db,
        usernames=team,
        kind="course_decision",
        subject=subject,
        body=body,
        patient_id=course.patient_id,
        path=f"/care/courses/{course.id}/decision",
    )
    _record(db, CARE_JOB, action, course.patient_id, "course", course.id, detail)


def escalate_decisions_due(db: Session, *, now: datetime) -> tuple[int, int]:
    """A course decision that came due is sent to the primary clinician first (every
    prescriber without one); unanswered after the clinic's business days, to every
    prescriber. Returns (sent first, escalated)."""
    rule = clinical_plan.escalation_rules(configuration.clinic_overrides(db, "course.escalation"))[
        "course_decision"
    ]
    zone = get_settings().zone
    first = escalated = 0
    for course, since in _courses_due(db):
        told = _told_at(db, "course.decision_notify", course.id, since)
        if told is None:
            primary = primary_clinician_username(db, patient_id=course.patient_id)
            team = [primary] if primary else outcomes.prescriber_usernames(db)
            _tell(
                db,
                course,
                team,
                "course.decision_notify",
                subject="Course decision due",
                body="The induction series is given: the course waits for a decision:",
                detail=f"to {len(team)} clinician(s)",
            )
            first += 1
            continue
        local = told.astimezone(zone)
        due_at = datetime.combine(
            calendar.add_business_days(
                local.date(), rule.business_days, configuration.holidays(db)
            ),
            local.timetz(),
        )
        if due_at > now or _told_at(db, "course.decision_escalate", course.id, since):
            continue
        team = outcomes.prescriber_usernames(db)
        _tell(
            db,
            course,
            team,
            "course.decision_escalate",
            subject="Course decision unanswered: escalated",
            body="A course decision waits past its time. Decide:",
            detail=f"unanswered: to {len(team)} prescriber(s)",
        )
        escalated += 1
    db.flush()
    return first, escalated


def decisions_due(db: Session, *, actor: Actor) -> list[DecisionDue]:
    """Courses whose induction series is given and that wait for the prescriber's
    decision: the courses whose primary clinician is the actor first, then the rest of
    the clinic's (so that a decision reaches the primary clinician first, and is not lost
    when they are away)."""
    _require(actor, DECIDERS, "decide on a course")
    due = [course for course, _ in _courses_due(db)]
    if not due:
        return []
    ids = {c.patient_id for c in due}
    names = patients.display_names(db, ids)
    primaries = _primaries(db, ids)
    for pid in sorted(ids):
        _read(db, actor, "course.decision_due", pid, "course", "decisions due")
    db.flush()
    rows = [
        DecisionDue(c, names.get(c.patient_id, ""), primaries.get(c.patient_id) == actor.username)
        for c in due
    ]
    return sorted(rows, key=lambda r: (not r.mine, r.course.id))
