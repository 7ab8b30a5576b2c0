"""Course and order pages: open a course, draft with the dose arithmetic shown, sign,
supersede, titrate; the print-friendly order; the chart section."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from ketaclinic.candidacy import service as candidacy
from ketaclinic.clinical import dosing, screening
from ketaclinic.orders import planning, service
from ketaclinic.orders.home import HOME_SECTIONS as HOME_SECTIONS  # the home page's parts
from ketaclinic.orders.models import Course, Order
from ketaclinic.orders.schemas import CourseIn, OrderIn
from ketaclinic.patients import service as patients
from ketaclinic.platform import ports
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import ChartSection
from ketaclinic.platform.auth import allow, get_db
from ketaclinic.platform.errors import ClinicError, NotFound
from ketaclinic.platform.forms import form_values, parse
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role
from ketaclinic.platform.web import render

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
CLINICAL = (Role.prescriber, Role.nurse)
ORDER_FIELDS = {"dose_mg_per_kg", "dose_mg", "concentration_mg_per_ml", "bag_volume_ml", "notes"}


def parse_order(form: dict[str, Any], protocol_id: str) -> tuple[OrderIn | None, dict[str, str]]:
    values = form_values(form, ORDER_FIELDS)
    override = form_values(form, {"override_field", "override_value", "override_reason"})
    if override.get("override_field"):
        values["overrides"] = [
            {
                "target": protocol_id,
                "field": override["override_field"],
                "value": override.get("override_value"),
                "reason": override.get("override_reason", ""),
            }
        ]
    try:
        return OrderIn.model_validate(values), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            loc = err["loc"]
            name = str(loc[0]) if loc else "form"
            if name == "overrides" and len(loc) >= 3:
                name = f"override_{loc[2]}"
            errors.setdefault(name, err["msg"].removeprefix("Value error, "))
        return None, errors


def _errors_of(exc: ClinicError) -> dict[str, str]:
    errors = {
        (f"override_{k.split('.')[-1]}" if k.startswith("overrides") else k): v
        for k, v in exc.fields.items()
    }
    errors["form"] = exc.detail
    return errors


def _order_defaults(p: dosing.Protocol, order: Order | None = None) -> dict[str, Any]:
    if order is not None:
        form: dict[str, Any] = {
            "dose_mg_per_kg": order.dose_mg_per_kg,
            "dose_mg": order.dose_mg if p.dose_unit == "mg" else None,
            "concentration_mg_per_ml": order.concentration_mg_per_ml,
            "bag_volume_ml": order.bag_volume_ml,
        }
        if order.overrides:
            first = order.overrides[0]
            form.update(
                override_field=first["field"],
                override_value=first["value"],
                override_reason=first["reason"],
            )
        return form
    return {
        "dose_mg_per_kg": p.default_dose if p.dose_unit == "mg/kg" else None,
        "dose_mg": p.default_dose if p.dose_unit == "mg" else None,
        "bag_volume_ml": p.default_bag_volume_ml,
    }


# ------------------------------------------------------------------ courses


def _new_course_page(
    request: Request,
    db: Session,
    actor: Actor,
    patient_id: int,
    form: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    patient = patients.get_patient(db, actor=actor, patient_id=patient_id, purpose="course")
    clearance = candidacy.clearance(db, actor=actor, patient_id=patient_id)
    route = clearance.decision.route if clearance.decision else None
    indications = [r for r in screening.rules() if r.kind == "indication"]
    return render(
        request,
        "orders/course_form.html",
        {
            "patient": patient,
            "clearance": clearance,
            "protocols": [p for p in dosing.protocols() if route is None or p.route == route],
            "series_length": planning.series_length,
            "indications": indications,
            "form": form,
            "errors": errors,
        },
        status_code=status_code,
    )


@router.get("/patients/{patient_id}/courses/new", response_class=HTMLResponse)
def new_course(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(Role.prescriber)
) -> Response:
    return _new_course_page(request, db, actor, patient_id, {}, {})


@router.post("/patients/{patient_id}/courses", response_class=HTMLResponse)
async def open_course(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(Role.prescriber)
) -> Response:
    form = dict(await request.form())
    data, errors = parse(CourseIn, form)
    if data is not None:
        try:
            course = service.open_course(
                db, actor=actor, patient_id=patient_id, **data.model_dump()
            )
        except ClinicError as exc:
            db.rollback()
            errors = _errors_of(exc)
        else:
            return RedirectResponse(f"/patients/{patient_id}/courses/{course.id}", status_code=303)
    return _new_course_page(request, db, actor, patient_id, form, errors, status_code=422)


def _course_page(
    request: Request,
    db: Session,
    actor: Actor,
    course: Course,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    plan: dosing.DosePlan | None = None,
    status_code: int = 200,
) -> Response:
    patient = patients.get_patient(db, actor=actor, patient_id=course.patient_id, purpose="course")
    p = planning.protocol(course.protocol_id)
    orders = service.course_orders(db, actor=actor, course_id=course.id)
    current = next((o for o in orders if o.status == "signed"), None)
    draft = next((o for o in orders if o.status == "draft"), None)
    weight, height = patients.current_body(patient)
    return render(
        request,
        "orders/course.html",
        {
            "patient": patient,
            "course": course,
            "protocol": p,
            "orders": orders,
            "current": current,
            "draft": draft,
            "sessions": service.planned_sessions(db, actor=actor, course_id=course.id),
            "weight": weight,
            "height": height,
            "form": form if form is not None else _order_defaults(p),
            "errors": errors or {},
            "plan": plan,
            "can_prescribe": Role.prescriber in actor.roles,
            "med_changes": ports.medication_changes(db, actor=actor, patient_id=patient.id),
        },
        status_code=status_code,
    )


def _course_of(db: Session, actor: Actor, patient_id: int, course_id: int) -> Course:
    course = service.get_course(db, actor=actor, course_id=course_id)
    if course.patient_id != patient_id:
        raise NotFound("this course belongs to another patient")
    return course


@router.get("/patients/{patient_id}/courses/{course_id}", response_class=HTMLResponse)
def course_page(
    request: Request,
    db: DB,
    patient_id: RecordId,
    course_id: RecordId,
    actor: Actor = allow(*CLINICAL),
) -> Response:
    course = _course_of(db, actor, patient_id, course_id)
    return _course_page(request, db, actor, course)


@router.post("/patients/{patient_id}/courses/{course_id}/orders", response_class=HTMLResponse)
async def draft_order(
    request: Request,
    db: DB,
    patient_id: RecordId,
    course_id: RecordId,
    actor: Actor = allow(Role.prescriber),
) -> Response:
    form = dict(await request.form())
    course = _course_of(db, actor, patient_id, course_id)
    data, errors = parse_order(form, course.protocol_id)
    plan = None
    if data is not None:
        try:
            if form.get("action") == "preview":
                plan = service.preview_order(db, actor=actor, course_id=course.id, data=data)
            else:
                order = service.draft_order(db, actor=actor, course_id=course.id, data=data)
                return RedirectResponse(f"/orders/{order.id}", status_code=303)
        except ClinicError as exc:
            db.rollback()
            errors = _errors_of(exc)
    status = 200 if plan is not None and not errors else 422
    return _course_page(request, db, actor, course, form, errors, plan, status_code=status)


# ------------------------------------------------------------------ orders


def _order_page(
    request: Request,
    db: Session,
    actor: Actor,
    order: Order,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    patient = patients.get_patient(db, actor=actor, patient_id=order.patient_id, purpose="order")
    course = service.get_course(db, actor=actor, course_id=order.course_id)
    p = planning.protocol(order.protocol_id)
    return render(
        request,
        "orders/order.html",
        {
            "patient": patient,
            "course": course,
            "order": order,
            "protocol": p,
            "form": form if form is not None else _order_defaults(p, order),
            "errors": errors or {},
            "next_step": service.next_titration_step(order) if order.status == "signed" else None,
            "can_prescribe": Role.prescriber in actor.roles,
            "med_changes": ports.medication_changes(db, actor=actor, patient_id=patient.id)
            if order.status == "draft"
            else [],
        },
        status_code=status_code,
    )


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(
    request: Request, db: DB, order_id: RecordId, actor: Actor = allow(*CLINICAL)
) -> Response:
    order = service.get_order(db, actor=actor, order_id=order_id)
    return _order_page(request, db, actor, order)


@router.post("/orders/{order_id}/sign", response_class=HTMLResponse)
async def sign(
    request: Request, db: DB, order_id: RecordId, actor: Actor = allow(Role.prescriber)
) -> Response:
    form = await request.form()
    try:
        service.sign_order(
            db, actor=actor, order_id=order_id, password=str(form.get("password") or "")
        )
    except ClinicError as exc:
        db.rollback()
        order = service.get_order(db, actor=actor, order_id=order_id)
        return _order_page(
            request, db, actor, order, errors=_errors_of(exc), status_code=exc.status
        )
    return RedirectResponse(f"/orders/{order_id}", status_code=303)


async def _write(request: Request, db: Session, actor: Actor, order_id: int, what: str) -> Response:
    form = dict(await request.form())
    old = service.get_order(db, actor=actor, order_id=order_id)
    data, errors = parse_order(form, old.protocol_id)
    reason = str(form.get("reason") or "").strip()
    if what == "supersede" and len(reason) < 3:
        errors["reason"] = "say why the order changes"
    if data is not None and not errors:
        try:
            if what == "supersede":
                new = service.supersede_order(
                    db, actor=actor, order_id=order_id, data=data, reason=reason
                )
            else:
                new = service.revise_draft(db, actor=actor, order_id=order_id, data=data)
        except ClinicError as exc:
            db.rollback()
            errors = _errors_of(exc)
        else:
            return RedirectResponse(f"/orders/{new.id}", status_code=303)
    order = service.get_order(db, actor=actor, order_id=order_id)
    return _order_page(request, db, actor, order, form, errors, status_code=422)


@router.post("/orders/{order_id}/revise", response_class=HTMLResponse)
async def revise(
    request: Request, db: DB, order_id: RecordId, actor: Actor = allow(Role.prescriber)
) -> Response:
    return await _write(request, db, actor, order_id, "revise")


@router.post("/orders/{order_id}/supersede", response_class=HTMLResponse)
async def supersede(
    request: Request, db: DB, order_id: RecordId, actor: Actor = allow(Role.prescriber)
) -> Response:
    return await _write(request, db, actor, order_id, "supersede")


@router.post("/orders/{order_id}/titrate", response_class=HTMLResponse)
async def titrate(
    request: Request, db: DB, order_id: RecordId, actor: Actor = allow(Role.prescriber)
) -> Response:
    try:
        new = service.titrate(db, actor=actor, order_id=order_id)
    except ClinicError as exc:
        db.rollback()
        order = service.get_order(db, actor=actor, order_id=order_id)
        return _order_page(
            request, db, actor, order, errors=_errors_of(exc), status_code=exc.status
        )
    return RedirectResponse(f"/orders/{new.id}", status_code=303)


def _chart(db: Session, actor: Actor, patient: patients.Patient) -> dict[str, Any]:
    if not actor.roles & service.ORDER_READERS:
        return {"allowed": False}
    course = service.active_course(db, actor=actor, patient_id=patient.id)
    if course is None:
        return {"allowed": True, "course": None, "can_prescribe": Role.prescriber in actor.roles}
    return {
        "allowed": True,
        "course": course,
        "order": service.current_order(db, actor=actor, course_id=course.id),
        "sessions": service.planned_sessions(db, actor=actor, course_id=course.id),
        "can_prescribe": Role.prescriber in actor.roles,
    }


CHART_SECTIONS = [ChartSection("orders", "Treatment plan and orders", "orders/_chart.html", _chart)]
