"""The current plan as the patient's progress report prints it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.care.models import CareTeamMember, TherapySession
from ketaclinic.care.service.common import (
    CHOICES,
    TEAM_READERS,
    _current_members,
    _decisions,
    _maintenance_rows,
    _read,
    _require,
)
from ketaclinic.orders import service as orders
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.errors import NotFound
from ketaclinic.platform.settings import get_settings


@dataclass
class ReportPlan:
    """The current plan as a progress report prints it: the course's next sessions,
    maintenance, the psychotherapy around it, and who referred the patient."""

    course: orders.Course | None
    done: int
    next_sessions: list[orders.PlannedSession]
    decision: str | None  # the prescriber's latest course decision, in words
    maintenance: str | None  # the maintenance schedule when the course is in maintenance
    therapy_done: int
    therapy_next: list[TherapySession]
    referring: list[CareTeamMember]


def report_plan(db: Session, *, actor: Actor, patient_id: int) -> ReportPlan:
    """The patient's own plan, or a care-team reader's; audited as one read."""
    if actor.patient_only:
        if actor.patient_id != patient_id:
            raise NotFound("no such patient")
    else:
        _require(actor, TEAM_READERS, "read care plans")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    course = orders.latest_course(db, patient_id)
    planned = [
        p
        for p in orders.planned_sessions_of_patient(db, patient_id)
        if course is None or p.course_id == course.id
    ]
    decisions = _decisions(db, course.id) if course is not None else []
    latest = decisions[0] if decisions else None
    maintenance = None
    if latest is not None and latest.choice == "maintenance" and latest.schedule_id:
        rows = _maintenance_rows(db)
        row = rows.get(latest.schedule_id)
        gaps = (latest.schedule or {}).get("gaps_days") or []
        maintenance = (
            f"{row.label if row else latest.schedule_id}: {len(gaps)} boosters planned "
            f"from {latest.decided_at.astimezone(get_settings().zone):%Y-%m-%d}"
        )
    therapy = list(
        db.scalars(
            select(TherapySession)
            .where(TherapySession.patient_id == patient_id)
            .order_by(TherapySession.starts_at)
        )
    )
    referring = [m for m in _current_members(db, patient_id) if m.role == "referring"]
    _read(db, actor, "care.report_plan", patient_id, "planned_session", f"{len(planned)} sessions")
    db.flush()
    return ReportPlan(
        course=course,
        done=sum(1 for p in planned if p.status == "completed"),
        next_sessions=[p for p in planned if p.status in ("planned", "booked")],
        decision=(
            f"{CHOICES.get(latest.choice, latest.choice)} "
            f"({latest.decided_at.astimezone(get_settings().zone):%Y-%m-%d}, {latest.decided_by})"
            if latest is not None
            else None
        ),
        maintenance=maintenance,
        therapy_done=sum(1 for t in therapy if t.status == "completed"),
        therapy_next=[t for t in therapy if t.status == "booked"],
        referring=referring,
    )
