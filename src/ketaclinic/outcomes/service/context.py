"""What outcomes needs from other areas: courses, sessions, appointments, the care team.

The orders and sessions services are being written alongside this area; each lookup
uses the other area's service when it offers the function, and until then reads that
area's tables (read only, never written here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from importlib import import_module
from importlib.util import find_spec
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.orders.models import Course, Order, PlannedSession
from ketaclinic.outcomes.service.schedule import CourseFacts, SessionTime
from ketaclinic.platform.accounts.models import User, UserRole
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.errors import ClinicError
from ketaclinic.platform.roles import Role
from ketaclinic.scheduling.models import Appointment


@dataclass(frozen=True)
class SessionGiven:
    number: int
    at: datetime
    kind: str = "induction"


def course_opened(course: Course) -> datetime:
    """When the course began for outcome purposes: when it was opened, or its start day
    if that is earlier (a course entered after the fact)."""
    if course.started_on is None:
        return course.created_at
    start = datetime.combine(course.started_on, time.min, tzinfo=UTC)
    return min(course.created_at, start)


def _service(area: str, function: str) -> Any | None:
    name = f"ketaclinic.{area}.service"
    try:
        if find_spec(f"ketaclinic.{area}") is None or find_spec(name) is None:
            return None
    except ModuleNotFoundError:
        return None
    return getattr(import_module(name), function, None)


def active_courses(db: Session) -> list[Course]:
    return list(db.scalars(select(Course).where(Course.status == "active").order_by(Course.id)))


def courses_created_between(db: Session, start: datetime, end: datetime) -> list[Course]:
    """Courses that began in [start, end)."""
    rows = db.scalars(select(Course).where(Course.created_at < end).order_by(Course.id))
    return [c for c in rows if start <= course_opened(c) < end]


def active_course(db: Session, *, actor: Actor, patient_id: int) -> Course | None:
    found = _service("orders", "active_course")
    if found is not None:
        try:
            course = found(db, actor=actor, patient_id=patient_id)
            return course if isinstance(course, Course) or course is None else None
        except (TypeError, ClinicError):
            pass
    return db.scalar(
        select(Course)
        .where(Course.patient_id == patient_id, Course.status == "active")
        .order_by(Course.id.desc())
        .limit(1)
    )


def latest_course(db: Session, *, actor: Actor, patient_id: int) -> Course | None:
    return active_course(db, actor=actor, patient_id=patient_id) or db.scalar(
        select(Course).where(Course.patient_id == patient_id).order_by(Course.id.desc()).limit(1)
    )


def sessions_given(db: Session, *, actor: Actor, patient_id: int) -> list[SessionGiven]:
    """Completed sessions, oldest first."""
    found = _service("sessions", "completed_sessions")
    if found is not None:
        try:
            items = found(db, actor=actor, patient_id=patient_id)
            given = sorted(
                (
                    SessionGiven(int(i.number), i.started_at, str(getattr(i, "kind", "induction")))
                    for i in items
                    if getattr(i, "started_at", None) is not None
                ),
                key=lambda s: s.at,
            )
            if given:
                return given
        except (TypeError, AttributeError, ClinicError):
            pass
    # Completed appointments of planned sessions (kept by scheduling and sessions).
    rows = db.execute(
        select(PlannedSession.number, PlannedSession.kind, Appointment.starts_at)
        .join(Appointment, Appointment.planned_session_id == PlannedSession.id)
        .where(PlannedSession.patient_id == patient_id, Appointment.status == "completed")
        .order_by(Appointment.starts_at)
    ).all()
    return [SessionGiven(number, at, kind) for number, kind, at in rows]


def upcoming_sessions(db: Session, *, patient_id: int, now: datetime) -> list[SessionTime]:
    rows = db.execute(
        select(PlannedSession.number, Appointment.starts_at)
        .join(Appointment, Appointment.planned_session_id == PlannedSession.id)
        .where(
            PlannedSession.patient_id == patient_id,
            Appointment.status.in_(("booked", "checked_in")),
            Appointment.starts_at > now,
        )
        .order_by(Appointment.starts_at)
    ).all()
    return [SessionTime(number, at) for number, at in rows]


def course_facts(db: Session, *, actor: Actor, course: Course, now: datetime) -> CourseFacts:
    opened = course_opened(course)
    given = [
        s
        for s in sessions_given(db, actor=actor, patient_id=course.patient_id)
        if s.at >= opened - timedelta(days=1)
    ]
    return CourseFacts(
        course_id=course.id,
        patient_id=course.patient_id,
        indication=course.indication,
        protocol_id=course.protocol_id,
        series_sessions=course.series_sessions,
        created_at=opened,
        completed=tuple(SessionTime(s.number, s.at) for s in given),
        upcoming=tuple(upcoming_sessions(db, patient_id=course.patient_id, now=now)),
    )


def _users_with(db: Session, role: Role) -> list[User]:
    return list(
        db.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == role.value, User.active.is_(True))
            .order_by(User.username)
        )
    )


def prescribers(db: Session) -> list[User]:
    return _users_with(db, Role.prescriber)


def medical_directors(db: Session) -> list[User]:
    """Users who are both prescriber and administrator."""
    admins = {u.id for u in _users_with(db, Role.admin)}
    return [u for u in prescribers(db) if u.id in admins]


def primary_clinician(db: Session, *, patient_id: int) -> User | None:
    """The prescriber who signed the patient's latest order (candidacy decisions are not
    yet recorded anywhere outcomes can read)."""
    signer = db.scalar(
        select(Order.signed_by)
        .where(Order.patient_id == patient_id, Order.signed_by.is_not(None))
        .order_by(Order.signed_at.desc(), Order.id.desc())
        .limit(1)
    )
    if signer is None:
        return None
    user = db.scalar(select(User).where(User.username == signer, User.active.is_(True)))
    return user
