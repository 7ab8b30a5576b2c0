"""What outcomes needs from other areas: courses, sessions, appointments, the care team,
each read through that area's service. Outcomes' own acts audit what they show, so the
lookups here note no reads of their own, except the active course (``orders`` notes
the prescriber's or nurse's read of it, as for any reader of a course).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.orders import service as orders
from ketaclinic.outcomes.service.schedule import CourseFacts, SessionTime
from ketaclinic.platform import ports
from ketaclinic.platform.accounts.models import User, UserRole
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.roles import Role
from ketaclinic.scheduling import service as scheduling
from ketaclinic.sessions import service as sessions


@dataclass(frozen=True)
class SessionGiven:
    number: int
    at: datetime
    kind: str = "induction"


def course_opened(course: orders.Course) -> datetime:
    """When the course began for outcome purposes: when it was opened, or its start day
    if that is earlier (a course entered after the fact)."""
    if course.started_on is None:
        return course.created_at
    start = datetime.combine(course.started_on, time.min, tzinfo=UTC)
    return min(course.created_at, start)


def active_courses(db: Session) -> list[orders.Course]:
    return orders.active_courses(db)


def courses_created_between(db: Session, start: datetime, end: datetime) -> list[orders.Course]:
    """Courses that began in [start, end)."""
    return [c for c in orders.courses_created_before(db, end) if start <= course_opened(c) < end]


def active_course(db: Session, *, actor: Actor, patient_id: int) -> orders.Course | None:
    return orders.active_course(db, actor=actor, patient_id=patient_id)


def latest_course(db: Session, *, actor: Actor, patient_id: int) -> orders.Course | None:
    return active_course(db, actor=actor, patient_id=patient_id) or orders.latest_course(
        db, patient_id
    )


def sessions_given(db: Session, *, actor: Actor, patient_id: int) -> list[SessionGiven]:
    """Completed sessions, oldest first: those the sessions area charted or, for a
    patient with none charted there (sessions given before the clinic charted them in
    ketaclinic, and the demo's older visits), the completed appointments of the
    patient's planned sessions."""
    # When each session's dosing began is kept with it: one statement, the sessions'
    # readings, scores and events unread.
    charted = [
        SessionGiven(number, at)
        for number, at in sessions.dose_starts(db, patient_ids=[patient_id]).get(patient_id, [])
    ]
    if charted:
        return charted
    visits = scheduling.planned_visits(db, patient_id=patient_id, statuses=("completed",))
    return [SessionGiven(v.number, v.starts_at, v.kind) for v in visits]


def sessions_given_of(
    db: Session, *, patient_ids: Collection[int]
) -> dict[int, list[SessionGiven]]:
    """``sessions_given`` of many patients in a fixed number of statements (the clinic's
    outcomes): dosing starts by aggregate SQL, the fallback visits in one read."""
    charted = {
        pid: [SessionGiven(number, at) for number, at in rows]
        for pid, rows in sessions.dose_starts(db, patient_ids=patient_ids).items()
        if rows
    }
    rest = set(patient_ids) - set(charted)
    visits = (
        scheduling.planned_visits_of(db, patient_ids=rest, statuses=("completed",)) if rest else {}
    )
    for pid, found in visits.items():
        charted[pid] = [SessionGiven(v.number, v.starts_at, v.kind) for v in found]
    return charted


def upcoming_sessions(db: Session, *, patient_id: int, now: datetime) -> list[SessionTime]:
    visits = scheduling.planned_visits(
        db, patient_id=patient_id, statuses=("booked", "checked_in"), after=now
    )
    return [SessionTime(v.number, v.starts_at) for v in visits]


def course_facts(db: Session, *, actor: Actor, course: orders.Course, now: datetime) -> CourseFacts:
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
    """The primary clinician named on the patient's care team (asked of the care area
    through ``platform.ports``); without one, the prescriber who signed the patient's
    latest order."""
    named = ports.primary_clinician(db, patient_id=patient_id)
    signer = named or orders.latest_signer(db, patient_id)
    if signer is None:
        return None
    user = db.scalar(select(User).where(User.username == signer, User.active.is_(True)))
    return user
