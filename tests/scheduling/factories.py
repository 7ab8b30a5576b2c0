"""Building scheduling test data. Courses, orders and planned sessions are rows of the
orders area, built here directly through its models (the orders area owns their rules)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.orders.models import Course, Order, PlannedSession
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.scheduling import service
from ketaclinic.scheduling.schemas import AvailabilityIn, BookingIn, ChairIn
from tests.conftest import committed, make_user

ZONE = ZoneInfo("America/New_York")
# Bookings in these tests are made "on" this day, before every literal visit time.
NOW = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)


def actor(user: Any) -> Actor:
    return accounts.actor_for(user)


@committed
def a_team(db: Session) -> SimpleNamespace:
    """Front desk, admin, two nurses, a prescriber and a researcher."""
    return SimpleNamespace(
        desk=actor(make_user(db, "front_desk")),
        admin=actor(make_user(db, "admin")),
        nurse=actor(make_user(db, "nurse")),
        nurse2=actor(make_user(db, "nurse", username="nurse2")),
        prescriber=actor(make_user(db, "prescriber")),
        researcher=actor(make_user(db, "researcher")),
    )


@committed
def a_chair(db: Session, by: Actor, name: str = "Chair 1") -> Any:
    return service.add_chair(db, actor=by, data=ChairIn(name=name))


@committed
def on_duty(db: Session, by: Actor, nurse: Actor, day: str, starts: str, ends: str) -> Any:
    assert nurse.user_id is not None
    return service.add_availability(
        db,
        actor=by,
        data=AvailabilityIn(
            user_id=nurse.user_id,
            starts_at=datetime.fromisoformat(f"{day}T{starts}"),
            ends_at=datetime.fromisoformat(f"{day}T{ends}"),
        ),
        zone=ZONE,
    )


@committed
def a_course(
    db: Session,
    patient_id: int,
    *,
    protocol_id: str = "iv_ketamine",
    sessions: int = 6,
    duration_min: float | None = 40.0,
    devices: int | None = None,
) -> Course:
    """An active course with a signed order and its planned sessions."""
    esketamine = protocol_id.startswith("in_esketamine")
    course = Course(
        patient_id=patient_id,
        protocol_id=protocol_id,
        indication="treatment-resistant depression",
        series_sessions=sessions,
        started_on=date(2030, 3, 1),
        created_by="prescriber",
    )
    db.add(course)
    db.flush()
    db.add(
        Order(
            course_id=course.id,
            patient_id=patient_id,
            protocol_id=protocol_id,
            route="intranasal" if esketamine else "intravenous",
            status="signed",
            dose_mg=56.0 if esketamine else 35.0,
            duration_min=None if esketamine else duration_min,
            devices=(devices or 2) if esketamine else None,
            plan_steps=[],
            overrides=[],
            created_by="prescriber",
            signed_by="prescriber",
            signed_at=NOW,
        )
    )
    for number in range(1, sessions + 1):
        db.add(PlannedSession(course_id=course.id, patient_id=patient_id, number=number))
    db.commit()
    return course


@committed
def planned(db: Session, course: Course) -> list[PlannedSession]:
    return list(
        db.scalars(
            select(PlannedSession)
            .where(PlannedSession.course_id == course.id)
            .order_by(PlannedSession.number)
        )
    )


def booking(
    patient_id: int, starts: str, chair: Any = None, nurse: Actor | None = None, **kw: Any
) -> BookingIn:
    return BookingIn(
        patient_id=patient_id,
        kind=kw.pop("kind", "infusion"),
        starts_at=datetime.fromisoformat(starts),
        chair_id=chair.id if chair is not None else None,
        nurse_user_id=nurse.user_id if nurse is not None else None,
        **kw,
    )


@committed
def book(db: Session, by: Actor, data: BookingIn, **kw: Any) -> Any:
    kw.setdefault("now", NOW)
    kw.setdefault("zone", ZONE)
    return service.book(db, actor=by, data=data, **kw)
