"""Orders JSON routes under /api/orders: courses, orders, planned sessions."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from ketaclinic.orders import service
from ketaclinic.orders.models import Course, Order, PlannedSession
from ketaclinic.orders.schemas import (
    CourseIn,
    CourseOut,
    OrderIn,
    OrderOut,
    PlannedSessionOut,
    PlannedStatusIn,
    PlanOut,
    SignIn,
    SupersedeIn,
)
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.auth import allow, get_db
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role

router = APIRouter(prefix="/api/orders", tags=["orders"])
DB = Annotated[Session, Depends(get_db)]
CLINICAL = (Role.prescriber, Role.nurse)
PLAN = (Role.prescriber, Role.nurse, Role.front_desk)


def course_out(row: Course) -> CourseOut:
    return CourseOut.model_validate(row, from_attributes=True)


def order_out(row: Order) -> OrderOut:
    return OrderOut.model_validate(row, from_attributes=True)


def planned_out(row: PlannedSession) -> PlannedSessionOut:
    return PlannedSessionOut.model_validate(row, from_attributes=True)


# Literal path segments first, so that "/courses/..." never reads as an order id.
@router.post("/patients/{patient_id}/courses", status_code=201)
def open_course(
    patient_id: RecordId, body: CourseIn, db: DB, actor: Actor = allow(Role.prescriber)
) -> CourseOut:
    return course_out(
        service.open_course(db, actor=actor, patient_id=patient_id, **body.model_dump())
    )


@router.get("/patients/{patient_id}/courses")
def list_courses(patient_id: RecordId, db: DB, actor: Actor = allow(*PLAN)) -> list[CourseOut]:
    return [course_out(c) for c in service.courses(db, actor=actor, patient_id=patient_id)]


@router.get("/patients/{patient_id}/next-planned-session")
def next_planned(
    patient_id: RecordId, db: DB, actor: Actor = allow(*PLAN)
) -> PlannedSessionOut | None:
    row = service.next_planned_session(db, actor=actor, patient_id=patient_id)
    return planned_out(row) if row else None


@router.get("/courses/{course_id}")
def read_course(course_id: RecordId, db: DB, actor: Actor = allow(*PLAN)) -> CourseOut:
    return course_out(service.get_course(db, actor=actor, course_id=course_id))


@router.get("/courses/{course_id}/planned-sessions")
def list_planned(
    course_id: RecordId, db: DB, actor: Actor = allow(*PLAN)
) -> list[PlannedSessionOut]:
    return [planned_out(r) for r in service.planned_sessions(db, actor=actor, course_id=course_id)]


@router.post("/courses/{course_id}/preview")
def preview(
    course_id: RecordId, body: OrderIn, db: DB, actor: Actor = allow(Role.prescriber)
) -> PlanOut:
    plan = service.preview_order(db, actor=actor, course_id=course_id, data=body)
    fields = asdict(plan)
    fields["steps"] = list(plan.steps)
    return PlanOut(**{k: v for k, v in fields.items() if k in PlanOut.model_fields})


@router.post("/courses/{course_id}/orders", status_code=201)
def draft(
    course_id: RecordId, body: OrderIn, db: DB, actor: Actor = allow(Role.prescriber)
) -> OrderOut:
    return order_out(service.draft_order(db, actor=actor, course_id=course_id, data=body))


@router.get("/courses/{course_id}/orders")
def list_orders(course_id: RecordId, db: DB, actor: Actor = allow(*CLINICAL)) -> list[OrderOut]:
    return [order_out(o) for o in service.course_orders(db, actor=actor, course_id=course_id)]


@router.get("/courses/{course_id}/current-order")
def read_current(course_id: RecordId, db: DB, actor: Actor = allow(*CLINICAL)) -> OrderOut | None:
    row = service.current_order(db, actor=actor, course_id=course_id)
    return order_out(row) if row else None


@router.post("/planned-sessions/{planned_session_id}/status")
def mark_planned(
    planned_session_id: RecordId, body: PlannedStatusIn, db: DB, actor: Actor = allow(*PLAN)
) -> PlannedSessionOut:
    return planned_out(
        service.mark_planned_session(
            db, actor=actor, planned_session_id=planned_session_id, status=body.status
        )
    )


@router.get("/{order_id}")
def read_order(order_id: RecordId, db: DB, actor: Actor = allow(*CLINICAL)) -> OrderOut:
    return order_out(service.get_order(db, actor=actor, order_id=order_id))


@router.put("/{order_id}")
def revise(
    order_id: RecordId, body: OrderIn, db: DB, actor: Actor = allow(Role.prescriber)
) -> OrderOut:
    return order_out(service.revise_draft(db, actor=actor, order_id=order_id, data=body))


@router.post("/{order_id}/sign")
def sign(
    order_id: RecordId, body: SignIn, db: DB, actor: Actor = allow(Role.prescriber)
) -> OrderOut:
    return order_out(service.sign_order(db, actor=actor, order_id=order_id, password=body.password))


@router.post("/{order_id}/supersede", status_code=201)
def supersede(
    order_id: RecordId, body: SupersedeIn, db: DB, actor: Actor = allow(Role.prescriber)
) -> OrderOut:
    return order_out(
        service.supersede_order(
            db, actor=actor, order_id=order_id, data=body.order, reason=body.reason
        )
    )


@router.post("/{order_id}/titrate", status_code=201)
def titrate(order_id: RecordId, db: DB, actor: Actor = allow(Role.prescriber)) -> OrderOut:
    return order_out(service.titrate(db, actor=actor, order_id=order_id))
