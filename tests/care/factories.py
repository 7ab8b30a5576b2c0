"""Care teams, therapists and courses in maintenance for tests, built through the real
services."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ketaclinic.care import service
from ketaclinic.care.models import CareTeamMember
from ketaclinic.orders.models import Course
from ketaclinic.patients.models import Patient
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.scheduling.models import Chair
from tests.conftest import committed, make_user
from tests.orders.factories import a_course, a_signed_order, a_weighed_patient, signer


@committed
def a_user(db: Session, role: str | list[str], username: str) -> Actor:
    return accounts.actor_for(make_user(db, role, username=username))


@committed
def on_team(
    db: Session, patient: Patient, user: Actor, role: str, *, primary: bool = False
) -> CareTeamMember:
    assert user.user_id is not None
    return service.add_member(
        db,
        actor=signer(db),
        patient_id=patient.id,
        role=role,
        user_id=user.user_id,
        primary=primary,
    )


@committed
def a_room(db: Session, name: str = "Therapy room 1") -> Chair:
    room = Chair(name=name, kind="room", active=True)
    db.add(room)
    db.flush()
    return room


def a_patient_on_course(db: Session, **kw: object) -> tuple[Patient, Course]:
    """A weighed patient with an IV course and its signed first order."""
    patient = a_weighed_patient(db, **kw)
    course = a_course(db, patient)
    a_signed_order(db, course)
    return patient, course
