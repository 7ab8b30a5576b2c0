"""Scheduling pages: day and week calendar, booking, the day-before confirmation,
a nurse's day, chairs and the duty rota. Times are shown and typed in the clinic's zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ketaclinic.orders import service as orders
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.auth import allow, get_db
from ketaclinic.platform.errors import ClinicError, Invalid
from ketaclinic.platform.forms import parse
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role
from ketaclinic.platform.web import render
from ketaclinic.scheduling import service
from ketaclinic.scheduling.home import HOME_SECTIONS as HOME_SECTIONS  # the home page's parts
from ketaclinic.scheduling.models import Appointment
from ketaclinic.scheduling.rules import KIND_LABELS, KINDS
from ketaclinic.scheduling.schemas import (
    AvailabilityIn,
    BookingIn,
    ChairIn,
    ChairUpdate,
    ConfirmationIn,
    RescheduleIn,
)

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
MANAGE = (Role.admin, Role.front_desk)
READ = (Role.front_desk, Role.prescriber, Role.nurse)
BOOK = (Role.front_desk, Role.prescriber)

NAV = [
    ("Schedule", "/schedule", frozenset(BOOK)),
    ("To confirm", "/schedule/to-confirm", frozenset({Role.front_desk})),
    ("My day", "/schedule/my-day", frozenset({Role.nurse})),
    ("Chairs and rota", "/schedule/chairs", frozenset({Role.admin})),
]


def _zone(request: Request) -> ZoneInfo:
    zone: ZoneInfo = request.app.state.settings.zone
    return zone


def _today(request: Request) -> date:
    return datetime.now(_zone(request)).date()


def _date(value: str | None, default: date, name: str) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(f"{name} must be a date written YYYY-MM-DD", fields={name: value}) from exc


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _people(db: Session, actor: Actor, rows: list[Appointment]) -> dict[str, Any]:
    """Names of the patients (read through the patients area, audited) and staff."""
    return {
        "names": service.patient_names(db, actor=actor, patient_ids={r.patient_id for r in rows}),
        "staff": service.staff_names(db),
        "chairs": {c.id: c.name for c in service.list_chairs(db, actor=actor)},
        "kinds": KIND_LABELS,
        "concerns": {r.id: service.confirmation_concerns(r) for r in rows},
    }


# ------------------------------------------------------------------ calendar


@router.get("/schedule", response_class=HTMLResponse)
def day_view(
    request: Request, db: DB, day: str | None = None, actor: Actor = allow(*BOOK)
) -> Response:
    zone = _zone(request)
    shown = _date(day, _today(request), "day")
    rows = service.appointments_for_day(db, actor=actor, day=shown, zone=zone)
    chairs = [
        c
        for c in service.list_chairs(db, actor=actor)
        if c.active or any(r.chair_id == c.id for r in rows)
    ]
    columns = [(c, [r for r in rows if r.chair_id == c.id]) for c in chairs]
    without_chair = [r for r in rows if r.chair_id is None]
    starts, ends = service.day_bounds(shown, zone)
    duty = service.day_rota(db, actor=actor, starts=starts, ends=ends)
    visits: dict[int, int] = {}
    for r in rows:
        if r.nurse_user_id is not None and r.status != "cancelled":
            visits[r.nurse_user_id] = visits.get(r.nurse_user_id, 0) + 1
    return render(
        request,
        "scheduling/day.html",
        {
            "day": shown,
            "previous": shown - timedelta(days=1),
            "next": shown + timedelta(days=1),
            "week_start": shown - timedelta(days=shown.weekday()),
            "columns": columns,
            "without_chair": without_chair,
            "duty": duty,
            "visits_of": visits,
            "can_book": actor.has_any(set(BOOK)),
            **_people(db, actor, rows),
        },
    )


@router.get("/schedule/week", response_class=HTMLResponse)
def week_view(
    request: Request, db: DB, start: str | None = None, actor: Actor = allow(*BOOK)
) -> Response:
    today = _today(request)
    first = _date(start, today - timedelta(days=today.weekday()), "start")
    days = service.appointments_for_week(db, actor=actor, start=first, zone=_zone(request))
    rows = [r for day_rows in days.values() for r in day_rows]
    return render(
        request,
        "scheduling/week.html",
        {
            "start": first,
            "days": days,
            "previous": first - timedelta(days=7),
            "next": first + timedelta(days=7),
            **_people(db, actor, rows),
        },
    )


@router.get("/schedule/my-day", response_class=HTMLResponse)
def my_day(
    request: Request, db: DB, day: str | None = None, actor: Actor = allow(Role.nurse)
) -> Response:
    shown = _date(day, _today(request), "day")
    rows = service.appointments_for_day(
        db, actor=actor, day=shown, nurse_user_id=actor.user_id, zone=_zone(request)
    )
    starts, ends = service.day_bounds(shown, _zone(request))
    duty = service.availability(db, actor=actor, starts=starts, ends=ends)
    return render(
        request,
        "scheduling/my_day.html",
        {
            "day": shown,
            "previous": shown - timedelta(days=1),
            "next": shown + timedelta(days=1),
            "rows": rows,
            "duty": duty,
            **_people(db, actor, rows),
        },
    )


@router.get("/schedule/to-confirm", response_class=HTMLResponse)
def to_confirm(
    request: Request, db: DB, day: str | None = None, actor: Actor = allow(*READ)
) -> Response:
    shown = _date(day, _today(request) + timedelta(days=1), "day")
    rows = service.to_confirm(db, actor=actor, day=shown, zone=_zone(request))
    return render(
        request,
        "scheduling/to_confirm.html",
        {"day": shown, "rows": rows, **_people(db, actor, rows)},
    )


# ------------------------------------------------------------------ booking


def _booking_context(
    request: Request, db: DB, actor: Actor, patient_id: int | None, form: dict[str, Any]
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "form": form,
        "errors": {},
        "patient": None,
        "kinds": KINDS,
        "kind_labels": KIND_LABELS,
        "chairs": service.list_chairs(db, actor=actor, include_inactive=False),
        "nurses": service.nurses(db),
        "lengths": {},
        "planned": [],
        "course_note": "",
        "found": [],
    }
    if patient_id is None:
        query = str(form.get("q", ""))
        context["found"] = (
            patients.search_patients(db, actor=actor, query=query, limit=20) if query else []
        )
        return context
    context["patient"] = patients.get_patient(
        db, actor=actor, patient_id=patient_id, purpose="booking"
    )
    for kind in KINDS:
        try:
            context["lengths"][kind] = service.session_length(
                db, actor=actor, patient_id=patient_id, kind=kind
            )
        except ClinicError as exc:
            db.rollback()
            context["lengths"][kind] = exc.detail
    try:
        course = orders.active_course(db, actor=actor, patient_id=patient_id)
        if course is not None:
            context["planned"] = [
                p
                for p in orders.planned_sessions(db, actor=actor, course_id=course.id)
                if p.status == "planned"
            ]
    except ClinicError as exc:
        db.rollback()
        context["course_note"] = exc.detail
    return context


@router.get("/schedule/book", response_class=HTMLResponse)
def booking_form(
    request: Request,
    db: DB,
    patient_id: str | None = None,
    q: str = "",
    day: str | None = None,
    chair_id: str | None = None,
    actor: Actor = allow(*BOOK),
) -> Response:
    shown = _date(day, _today(request), "day")
    form = {"q": q, "starts_at": f"{shown.isoformat()}T09:00", "chair_id": chair_id or ""}
    return render(
        request,
        "scheduling/book.html",
        _booking_context(request, db, actor, _int(patient_id), form),
    )


@router.post("/schedule/book", response_class=HTMLResponse)
async def book(request: Request, db: DB, actor: Actor = allow(*BOOK)) -> Response:
    form = dict(await request.form())
    data, errors = parse(BookingIn, form)
    message = ""
    if data is not None:
        try:
            row = service.book(db, actor=actor, data=data, zone=_zone(request))
        except ClinicError as exc:
            db.rollback()
            errors, message = exc.fields, exc.detail
        else:
            day = row.starts_at.astimezone(_zone(request)).date()
            return RedirectResponse(f"/schedule?day={day.isoformat()}#a{row.id}", status_code=303)
    context = _booking_context(request, db, actor, _int(str(form.get("patient_id", ""))), form)
    context["errors"] = errors
    context["message"] = message or "The booking was not saved: correct the fields marked below."
    return render(request, "scheduling/book.html", context, status_code=409 if message else 422)


# ------------------------------------------------------------------ one appointment


def _appointment_page(
    request: Request, db: DB, actor: Actor, appointment_id: int, **extra: Any
) -> dict[str, Any]:
    row = service.get_appointment(db, actor=actor, appointment_id=appointment_id)
    return {
        "row": row,
        "can_book": actor.has_any(set(BOOK)),
        "chair_list": service.list_chairs(db, actor=actor, include_inactive=False),
        "nurses": service.nurses(db),
        "errors": {},
        "form": {},
        "message": "",
        **_people(db, actor, [row]),
        **extra,
    }


@router.get("/schedule/appointments/{appointment_id}", response_class=HTMLResponse)
def appointment(
    request: Request, db: DB, appointment_id: RecordId, actor: Actor = allow(*READ)
) -> Response:
    return render(
        request,
        "scheduling/appointment.html",
        _appointment_page(request, db, actor, appointment_id),
    )


def _back(request: Request, row: Appointment) -> str:
    return f"/schedule/appointments/{row.id}"


@router.post("/schedule/appointments/{appointment_id}/cancel", response_class=HTMLResponse)
async def cancel(
    request: Request, db: DB, appointment_id: RecordId, actor: Actor = allow(*BOOK)
) -> Response:
    form = await request.form()
    try:
        row = service.cancel(
            db, actor=actor, appointment_id=appointment_id, reason=str(form.get("reason", ""))
        )
    except ClinicError as exc:
        db.rollback()
        context = _appointment_page(request, db, actor, appointment_id, message=exc.detail)
        return render(request, "scheduling/appointment.html", context, status_code=exc.status)
    return RedirectResponse(_back(request, row), status_code=303)


@router.post("/schedule/appointments/{appointment_id}/reschedule", response_class=HTMLResponse)
async def reschedule(
    request: Request, db: DB, appointment_id: RecordId, actor: Actor = allow(*BOOK)
) -> Response:
    form = dict(await request.form())
    data, errors = parse(RescheduleIn, form)
    message = "The appointment was not moved: correct the fields marked below."
    if data is not None:
        try:
            row = service.reschedule(
                db, actor=actor, appointment_id=appointment_id, data=data, zone=_zone(request)
            )
        except ClinicError as exc:
            db.rollback()
            errors, message = exc.fields, exc.detail
        else:
            return RedirectResponse(_back(request, row), status_code=303)
    context = _appointment_page(
        request, db, actor, appointment_id, errors=errors, form=form, message=message
    )
    return render(request, "scheduling/appointment.html", context, status_code=409)


@router.post("/schedule/appointments/{appointment_id}/status", response_class=HTMLResponse)
async def mark(
    request: Request, db: DB, appointment_id: RecordId, actor: Actor = allow(*READ)
) -> Response:
    form = await request.form()
    try:
        row = service.mark_appointment(
            db, actor=actor, appointment_id=appointment_id, status=str(form.get("status", ""))
        )
    except ClinicError as exc:
        db.rollback()
        context = _appointment_page(request, db, actor, appointment_id, message=exc.detail)
        return render(request, "scheduling/appointment.html", context, status_code=exc.status)
    return RedirectResponse(_back(request, row), status_code=303)


def _answers(form: dict[str, Any]) -> dict[str, Any]:
    """Radio answers 'yes'/'no' become booleans; an unanswered question stays missing."""
    values: dict[str, Any] = {"note": form.get("note", "")}
    for name in ("fasting", "ride_home", "no_nasal_decongestant"):
        answer = form.get(name)
        if answer in ("yes", "no"):
            values[name] = answer == "yes"
    return values


@router.get("/schedule/appointments/{appointment_id}/confirm", response_class=HTMLResponse)
def confirm_form(
    request: Request, db: DB, appointment_id: RecordId, actor: Actor = allow(*READ)
) -> Response:
    return render(
        request, "scheduling/confirm.html", _appointment_page(request, db, actor, appointment_id)
    )


@router.post("/schedule/appointments/{appointment_id}/confirm", response_class=HTMLResponse)
async def confirm(
    request: Request, db: DB, appointment_id: RecordId, actor: Actor = allow(*READ)
) -> Response:
    form = dict(await request.form())
    answers = _answers(form)
    data, errors = parse(ConfirmationIn, answers)
    message = "The confirmation was not saved: answer every question."
    if data is not None:
        try:
            service.confirm(
                db,
                actor=actor,
                appointment_id=appointment_id,
                fasting=data.fasting,
                ride_home=data.ride_home,
                no_nasal_decongestant=data.no_nasal_decongestant,
                note=data.note,
            )
        except ClinicError as exc:
            db.rollback()
            errors, message = exc.fields, exc.detail
        else:
            target = "/schedule/my-day" if Role.nurse in actor.roles else "/schedule/to-confirm"
            return RedirectResponse(target, status_code=303)
    context = _appointment_page(
        request, db, actor, appointment_id, errors=errors, form=form, message=message
    )
    return render(request, "scheduling/confirm.html", context, status_code=422)


# ------------------------------------------------------------------ chairs and rota


def _chairs_page(request: Request, db: DB, actor: Actor, **extra: Any) -> Response:
    context = {
        "chairs": service.list_chairs(db, actor=actor),
        "errors": {},
        "form": {},
        "message": "",
    }
    context.update(extra)
    status = 422 if context["message"] else 200
    return render(request, "scheduling/chairs.html", context, status_code=status)


@router.get("/schedule/chairs", response_class=HTMLResponse)
def chairs(request: Request, db: DB, actor: Actor = allow(*MANAGE)) -> Response:
    return _chairs_page(request, db, actor)


@router.post("/schedule/chairs", response_class=HTMLResponse)
async def add_chair(request: Request, db: DB, actor: Actor = allow(*MANAGE)) -> Response:
    form = dict(await request.form())
    data, errors = parse(ChairIn, form)
    message = "The chair was not added."
    if data is not None:
        try:
            service.add_chair(db, actor=actor, data=data)
        except ClinicError as exc:
            db.rollback()
            errors, message = exc.fields, exc.detail
        else:
            return RedirectResponse("/schedule/chairs", status_code=303)
    return _chairs_page(request, db, actor, errors=errors, form=form, message=message)


@router.post("/schedule/chairs/{chair_id}", response_class=HTMLResponse)
async def update_chair(
    request: Request, db: DB, chair_id: RecordId, actor: Actor = allow(*MANAGE)
) -> Response:
    form = dict(await request.form())
    data, errors = parse(ChairUpdate, form)
    message = "; ".join(f"{k}: {v}" for k, v in errors.items())
    if data is not None:
        try:
            service.update_chair(db, actor=actor, chair_id=chair_id, data=data)
        except ClinicError as exc:
            db.rollback()
            message = exc.detail
        else:
            return RedirectResponse("/schedule/chairs", status_code=303)
    return _chairs_page(request, db, actor, message=message)


def _rota_page(request: Request, db: DB, actor: Actor, start: date, **extra: Any) -> Response:
    zone = _zone(request)
    starts, _ = service.day_bounds(start, zone)
    _, ends = service.day_bounds(start + timedelta(days=13), zone)
    context: dict[str, Any] = {
        "start": start,
        "previous": start - timedelta(days=14),
        "next": start + timedelta(days=14),
        "spans": service.availability(db, actor=actor, starts=starts, ends=ends),
        "staff": service.staff_names(db),
        "people": service.on_duty_staff(db),
        "can_manage": actor.has_any(set(MANAGE)),
        "errors": {},
        "form": {},
        "message": "",
    }
    context.update(extra)
    return render(
        request, "scheduling/rota.html", context, status_code=422 if context["message"] else 200
    )


@router.get("/schedule/availability", response_class=HTMLResponse)
def rota(
    request: Request,
    db: DB,
    start: str | None = None,
    actor: Actor = allow(*MANAGE, Role.nurse, Role.prescriber),
) -> Response:
    return _rota_page(request, db, actor, _date(start, _today(request), "start"))


@router.post("/schedule/availability", response_class=HTMLResponse)
async def add_span(request: Request, db: DB, actor: Actor = allow(*MANAGE)) -> Response:
    form = dict(await request.form())
    values = dict(form)
    day = str(form.get("day", ""))
    for name in ("starts_at", "ends_at"):
        clock = str(form.get(name.replace("_at", ""), ""))
        values[name] = f"{day}T{clock}" if day and clock else ""
    data, errors = parse(AvailabilityIn, values)
    message = "The span was not added: correct the fields marked below."
    if data is not None:
        try:
            service.add_availability(db, actor=actor, data=data, zone=_zone(request))
        except ClinicError as exc:
            db.rollback()
            errors, message = exc.fields, exc.detail
        else:
            return RedirectResponse(f"/schedule/availability?start={day}", status_code=303)
    start = _date(day if len(day) == 10 else None, _today(request), "day")
    return _rota_page(request, db, actor, start, errors=errors, form=form, message=message)
