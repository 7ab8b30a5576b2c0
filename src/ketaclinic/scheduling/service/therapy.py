"""Therapy sessions on the calendar: a therapy room (a room, not an infusion chair) held
for the session's length, with no nurse. Who the therapist is, and the session's phase,
belong to the care area that asks for the booking."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Invalid
from ketaclinic.platform.roles import Role
from ketaclinic.scheduling.models import Appointment, Chair
from ketaclinic.scheduling.schemas import ChairIn
from ketaclinic.scheduling.service.common import overlapping, record, require
from ketaclinic.scheduling.service.staff import add_chair

THERAPY_KIND = "therapy"
# Front desk and prescribers book as for any visit; a therapist books their own sessions.
THERAPY_BOOKERS = frozenset({Role.front_desk, Role.prescriber, Role.therapist})


def therapy_rooms(db: Session) -> list[Chair]:
    """The rooms in use (treatment chairs are for dosing sessions)."""
    return list(
        db.scalars(
            select(Chair).where(Chair.kind == "room", Chair.active.is_(True)).order_by(Chair.name)
        )
    )


def book_therapy(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    room_id: int,
    starts_at: datetime,
    minutes: int,
    label: str,
    now: datetime | None = None,
) -> Appointment:
    """Hold ``room_id`` for a therapy session of ``minutes`` from ``starts_at`` (UTC).
    The room must be a room in use and free; the patient must have no other visit then."""
    require(actor, THERAPY_BOOKERS, "book therapy sessions")
    patients.get_patient(db, actor=actor, patient_id=patient_id, purpose="booking")
    if starts_at.tzinfo is None:
        raise Invalid("the start needs a time zone", fields={"starts_at": "no zone"})
    if starts_at < (now or utcnow()):
        raise Invalid("the session would start in the past", fields={"starts_at": "in the past"})
    if not 10 <= minutes <= 240:
        raise Invalid("a therapy session lasts 10 to 240 minutes", fields={"minutes": "10-240"})
    room = db.get(Chair, room_id)
    if room is None or not room.active:
        raise Invalid("no such room in use", fields={"room_id": "unknown or inactive"})
    if room.kind != "room":
        raise Invalid(
            f"{room.name} is a treatment chair: book therapy in a therapy room",
            fields={"room_id": "not a room"},
        )
    ends_at = starts_at + timedelta(minutes=minutes)
    if overlapping(db, starts_at, ends_at, chair_id=room.id):
        raise Conflict(f"{room.name} is already booked then", fields={"room_id": "double booking"})
    if overlapping(db, starts_at, ends_at, patient_id=patient_id):
        raise Conflict(
            "the patient already has an appointment then", fields={"starts_at": "patient booked"}
        )
    row = Appointment(
        patient_id=patient_id,
        chair_id=room.id,
        nurse_user_id=None,
        planned_session_id=None,
        kind=THERAPY_KIND,
        starts_at=starts_at,
        ends_at=ends_at,
        treatment_min=minutes,
        recovery_min=0,
        status="booked",
        booked_by=actor.username,
        booked_at=now or utcnow(),
        notes=label,
    )
    db.add(row)
    db.flush()
    record(db, actor, "book", row, f"{label} in {room.name}, {minutes} min")
    db.flush()
    return row


def complete_therapy(db: Session, *, actor: Actor, appointment_id: int) -> Appointment:
    """The therapy session took place: its appointment is completed."""
    require(actor, THERAPY_BOOKERS, "complete therapy sessions")
    row = db.get(Appointment, appointment_id)
    if row is None or row.kind != THERAPY_KIND:
        raise Invalid("no such therapy appointment", fields={"appointment_id": "unknown"})
    if row.status == "completed":
        return row
    if row.status != "booked":
        raise Conflict(f"this appointment is {row.status} and cannot be completed")
    row.status = "completed"
    record(db, actor, "complete", row, "therapy session held")
    db.flush()
    return row


def add_therapy_room(db: Session, *, actor: Actor, name: str) -> Chair:
    """A therapy room on the calendar (a room, not a treatment chair)."""
    return add_chair(db, actor=actor, data=ChairIn(name=name, kind="room"))
