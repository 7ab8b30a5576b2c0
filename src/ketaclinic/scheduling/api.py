"""Scheduling JSON routes under /api/scheduling. Times sent are the clinic's local
wall-clock times; times returned are UTC."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from ketaclinic.platform.actors import Actor
from ketaclinic.platform.auth import allow, get_db
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role
from ketaclinic.scheduling import service
from ketaclinic.scheduling.models import Appointment, Chair, StaffAvailability
from ketaclinic.scheduling.schemas import (
    AppointmentOut,
    AvailabilityIn,
    AvailabilityOut,
    BookingIn,
    CancelIn,
    ChairIn,
    ChairOut,
    ChairUpdate,
    ConfirmationIn,
    RescheduleIn,
    StatusIn,
)

router = APIRouter(prefix="/api/scheduling", tags=["scheduling"])
DB = Annotated[Session, Depends(get_db)]
MANAGE = (Role.admin, Role.front_desk)
READ = (Role.front_desk, Role.prescriber, Role.nurse)
BOOK = (Role.front_desk, Role.prescriber)


def _zone(request: Request) -> ZoneInfo:
    zone: ZoneInfo = request.app.state.settings.zone
    return zone


def chair_out(row: Chair) -> ChairOut:
    return ChairOut(id=row.id, name=row.name, kind=row.kind, active=row.active, notes=row.notes)


def availability_out(row: StaffAvailability) -> AvailabilityOut:
    return AvailabilityOut(
        id=row.id,
        user_id=row.user_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        created_by=row.created_by,
    )


def appointment_out(row: Appointment) -> AppointmentOut:
    return AppointmentOut.model_validate(row, from_attributes=True)


@router.get("/chairs")
def chairs(db: DB, actor: Actor = allow(*MANAGE, *READ)) -> list[ChairOut]:
    return [chair_out(c) for c in service.list_chairs(db, actor=actor)]


@router.post("/chairs", status_code=201)
def add_chair(body: ChairIn, db: DB, actor: Actor = allow(*MANAGE)) -> ChairOut:
    return chair_out(service.add_chair(db, actor=actor, data=body))


@router.patch("/chairs/{chair_id}")
def update_chair(
    chair_id: RecordId, body: ChairUpdate, db: DB, actor: Actor = allow(*MANAGE)
) -> ChairOut:
    return chair_out(service.update_chair(db, actor=actor, chair_id=chair_id, data=body))


@router.get("/availability")
def availability(
    request: Request, db: DB, start: date, days: int = 7, actor: Actor = allow(*MANAGE, *READ)
) -> list[AvailabilityOut]:
    """On-duty spans from local day ``start`` for ``days`` days (nurses: their own)."""
    zone = _zone(request)
    days = max(1, min(days, 62))
    starts, _ = service.day_bounds(start, zone)
    _, ends = service.day_bounds(start + timedelta(days=days - 1), zone)
    rows = service.availability(db, actor=actor, starts=starts, ends=ends)
    return [availability_out(r) for r in rows]


@router.post("/availability", status_code=201)
def add_availability(
    request: Request, body: AvailabilityIn, db: DB, actor: Actor = allow(*MANAGE)
) -> AvailabilityOut:
    return availability_out(
        service.add_availability(db, actor=actor, data=body, zone=_zone(request))
    )


@router.get("/appointments")
def appointments(
    request: Request,
    db: DB,
    day: date,
    nurse_user_id: RecordId | None = None,
    actor: Actor = allow(*READ),
) -> list[AppointmentOut]:
    rows = service.appointments_for_day(
        db, actor=actor, day=day, nurse_user_id=nurse_user_id, zone=_zone(request)
    )
    return [appointment_out(r) for r in rows]


@router.post("/appointments", status_code=201)
def book(request: Request, body: BookingIn, db: DB, actor: Actor = allow(*BOOK)) -> AppointmentOut:
    return appointment_out(service.book(db, actor=actor, data=body, zone=_zone(request)))


@router.get("/appointments/{appointment_id}")
def read(
    appointment_id: RecordId, db: DB, actor: Actor = allow(*READ, Role.patient)
) -> AppointmentOut:
    return appointment_out(service.get_appointment(db, actor=actor, appointment_id=appointment_id))


@router.post("/appointments/{appointment_id}/cancel")
def cancel(
    appointment_id: RecordId, body: CancelIn, db: DB, actor: Actor = allow(*BOOK)
) -> AppointmentOut:
    return appointment_out(
        service.cancel(db, actor=actor, appointment_id=appointment_id, reason=body.reason)
    )


@router.post("/appointments/{appointment_id}/reschedule", status_code=201)
def reschedule(
    request: Request,
    appointment_id: RecordId,
    body: RescheduleIn,
    db: DB,
    actor: Actor = allow(*BOOK),
) -> AppointmentOut:
    return appointment_out(
        service.reschedule(
            db, actor=actor, appointment_id=appointment_id, data=body, zone=_zone(request)
        )
    )


@router.post("/appointments/{appointment_id}/confirmation")
def confirm(
    appointment_id: RecordId, body: ConfirmationIn, db: DB, actor: Actor = allow(*READ)
) -> AppointmentOut:
    return appointment_out(
        service.confirm(
            db,
            actor=actor,
            appointment_id=appointment_id,
            fasting=body.fasting,
            ride_home=body.ride_home,
            no_nasal_decongestant=body.no_nasal_decongestant,
            note=body.note,
        )
    )


@router.post("/appointments/{appointment_id}/status")
def mark(
    appointment_id: RecordId, body: StatusIn, db: DB, actor: Actor = allow(*READ)
) -> AppointmentOut:
    return appointment_out(
        service.mark_appointment(db, actor=actor, appointment_id=appointment_id, status=body.status)
    )


@router.get("/patients/{patient_id}/upcoming")
def upcoming(
    patient_id: RecordId, db: DB, actor: Actor = allow(*READ, Role.patient)
) -> list[AppointmentOut]:
    rows = service.upcoming_for_patient(db, actor=actor, patient_id=patient_id)
    return [appointment_out(r) for r in rows]
