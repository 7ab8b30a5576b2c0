"""The orders and scheduling areas, reached only through their services.

Those areas are being built side by side with this one: their services are imported
late, and while a function is not there yet its read is answered from its own table
(read only, never written) so that sessions work on a tree where orders or scheduling
have only their tables. Writes to another area (marking an appointment or a planned
session) are skipped until that area's service exists. Remove the fallbacks once both
services have landed.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from importlib import import_module
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.orders.models import Course, Order
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.errors import NotFound
from ketaclinic.scheduling.models import Appointment


def _service(area: str, name: str) -> Any | None:
    try:
        module: ModuleType = import_module(f"ketaclinic.{area}.service")
    except ModuleNotFoundError:
        return None
    return getattr(module, name, None)


def get_order(db: Session, *, actor: Actor, order_id: int) -> Order:
    call = _service("orders", "get_order")
    if call is not None:
        order: Order = call(db, actor=actor, order_id=order_id)
        return order
    found = db.get(Order, order_id)
    if found is None:
        raise NotFound(f"no order with id {order_id}")
    return found


def current_order(db: Session, *, actor: Actor, course_id: int) -> Order | None:
    call = _service("orders", "current_order")
    if call is not None:
        order: Order | None = call(db, actor=actor, course_id=course_id)
        return order
    return db.scalar(
        select(Order)
        .where(Order.course_id == course_id, Order.status == "signed")
        .order_by(Order.signed_at.desc(), Order.id.desc())
        .limit(1)
    )


def active_course(db: Session, *, actor: Actor, patient_id: int) -> Course | None:
    call = _service("orders", "active_course")
    if call is not None:
        course: Course | None = call(db, actor=actor, patient_id=patient_id)
        return course
    return db.scalar(
        select(Course)
        .where(Course.patient_id == patient_id, Course.status == "active")
        .order_by(Course.created_at.desc(), Course.id.desc())
        .limit(1)
    )


def mark_planned_session(
    db: Session, *, actor: Actor, planned_session_id: int | None, status: str
) -> None:
    call = _service("orders", "mark_planned_session")
    if call is not None and planned_session_id is not None:
        call(db, actor=actor, planned_session_id=planned_session_id, status=status)


def get_appointment(db: Session, *, actor: Actor, appointment_id: int) -> Appointment:
    call = _service("scheduling", "get_appointment")
    if call is not None:
        found: Appointment = call(db, actor=actor, appointment_id=appointment_id)
        return found
    row = db.get(Appointment, appointment_id)
    if row is None:
        raise NotFound(f"no appointment with id {appointment_id}")
    return row


def appointments_for_day(
    db: Session, *, actor: Actor, day: date, zone: ZoneInfo, nurse_user_id: int | None = None
) -> list[Appointment]:
    call = _service("scheduling", "appointments_for_day")
    if call is not None:
        rows: list[Appointment] = call(
            db, actor=actor, day=day, nurse_user_id=nurse_user_id, zone=zone
        )
        return rows
    start = datetime.combine(day, time(0), zone)
    query = (
        select(Appointment)
        .where(Appointment.starts_at >= start, Appointment.starts_at < start + timedelta(days=1))
        .order_by(Appointment.starts_at)
    )
    if nurse_user_id is not None:
        query = query.where(Appointment.nurse_user_id == nurse_user_id)
    return list(db.scalars(query))


def mark_appointment(db: Session, *, actor: Actor, appointment_id: int | None, status: str) -> None:
    call = _service("scheduling", "mark_appointment")
    if call is not None and appointment_id is not None:
        call(db, actor=actor, appointment_id=appointment_id, status=status)
