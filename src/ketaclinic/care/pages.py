"""Care plan pages: the care team, the medication plan, therapy sessions and their
signed notes, the prescriber's course decision, booster proposals, the patient's own
plan in the portal."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ketaclinic.care import service
from ketaclinic.care.home import HOME_SECTIONS as HOME_SECTIONS  # the home page's parts
from ketaclinic.care.schemas import DecisionIn, MedicationIn, MemberIn, NoteIn, StopIn, TherapyIn
from ketaclinic.clinical import instruments
from ketaclinic.orders import service as orders
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import ChartSection
from ketaclinic.platform.auth import allow, get_db
from ketaclinic.platform.errors import ClinicError, Invalid, NotFound
from ketaclinic.platform.forms import parse
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role
from ketaclinic.platform.web import render

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
READERS = (Role.prescriber, Role.nurse, Role.front_desk, Role.therapist)
KEEPERS = (Role.prescriber, Role.front_desk)
MEDICATION_WRITERS = (Role.prescriber, Role.nurse)
THERAPY_BOOKERS = (Role.therapist, Role.prescriber, Role.front_desk)
THERAPY_READERS = (Role.therapist, Role.prescriber, Role.nurse)
THERAPY_WRITERS = (Role.therapist, Role.prescriber)

NAV = [
    ("My patients", "/care/patients", frozenset({Role.therapist})),
    ("Boosters", "/care/boosters", frozenset({Role.prescriber})),
    ("My plan", "/portal/plan", frozenset({Role.patient})),
]
CSSRS = instruments.get("cssrs_screen")


def _errors(exc: ClinicError) -> dict[str, str]:
    return {**exc.fields, "form": exc.detail}


# ------------------------------------------------------------------ patients and team


@router.get("/care/patients", response_class=HTMLResponse)
def my_patients(request: Request, db: DB, q: str = "", actor: Actor = allow(*READERS)) -> Response:
    found = service.my_patients(db, actor=actor, query=q)
    return render(request, "care/patients.html", {"patients": found, "q": q})


def _plan_page(
    request: Request,
    db: Session,
    actor: Actor,
    patient_id: int,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    which: str = "",
    status_code: int = 200,
) -> Response:
    plan = service.care_plan(db, actor=actor, patient_id=patient_id)
    return render(
        request,
        "care/plan.html",
        {
            "plan": plan,
            "patient": plan.patient,
            "form": form or {},
            "errors": errors or {},
            "which": which,
            "phases": service._phase_rows(db),
            "phase_label": service.phase_label,
        },
        status_code=status_code,
    )


@router.get("/care/patients/{patient_id}", response_class=HTMLResponse)
def care_plan(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*READERS)
) -> Response:
    return _plan_page(request, db, actor, patient_id)


async def _submit(
    request: Request,
    db: Session,
    actor: Actor,
    patient_id: int,
    which: str,
    model: type[Any],
    act: Any,
) -> Response:
    form = dict(await request.form())
    data, errors = parse(model, form)
    if data is not None:
        try:
            act(data)
        except ClinicError as exc:
            db.rollback()
            errors = _errors(exc)
        else:
            return RedirectResponse(f"/care/patients/{patient_id}#{which}", status_code=303)
    return _plan_page(
        request, db, actor, patient_id, form=form, errors=errors, which=which, status_code=422
    )


@router.post("/care/patients/{patient_id}/team", response_class=HTMLResponse)
async def add_member(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*KEEPERS)
) -> Response:
    def act(data: MemberIn) -> None:
        service.add_member(db, actor=actor, patient_id=patient_id, **data.model_dump())

    return await _submit(request, db, actor, patient_id, "team", MemberIn, act)


@router.post("/care/team/{member_id}/end", response_class=HTMLResponse)
async def end_member(
    request: Request, db: DB, member_id: RecordId, actor: Actor = allow(*KEEPERS)
) -> Response:
    form = await request.form()
    row = service.end_member(
        db, actor=actor, member_id=member_id, reason=str(form.get("reason") or "")
    )
    return RedirectResponse(f"/care/patients/{row.patient_id}#team", status_code=303)


@router.post("/care/team/{member_id}/primary", response_class=HTMLResponse)
async def make_primary(
    request: Request, db: DB, member_id: RecordId, actor: Actor = allow(*KEEPERS)
) -> Response:
    row = service.make_primary(db, actor=actor, member_id=member_id)
    return RedirectResponse(f"/care/patients/{row.patient_id}#team", status_code=303)


# ------------------------------------------------------------------ medications


@router.post("/care/patients/{patient_id}/medications", response_class=HTMLResponse)
async def add_medication(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*MEDICATION_WRITERS)
) -> Response:
    def act(data: MedicationIn) -> None:
        service.add_medication(db, actor=actor, patient_id=patient_id, **data.model_dump())

    return await _submit(request, db, actor, patient_id, "medications", MedicationIn, act)


@router.post("/care/medications/{entry_id}/stop", response_class=HTMLResponse)
async def stop_medication(
    request: Request, db: DB, entry_id: RecordId, actor: Actor = allow(*MEDICATION_WRITERS)
) -> Response:
    form = dict(await request.form())
    data, errors = parse(StopIn, form)
    if data is None:
        raise Invalid("give the stop date and why it stops", fields=errors)
    row = service.stop_medication(db, actor=actor, entry_id=entry_id, **data.model_dump())
    return RedirectResponse(f"/care/patients/{row.patient_id}#medications", status_code=303)


# ------------------------------------------------------------------ therapy


@router.post("/care/patients/{patient_id}/therapy", response_class=HTMLResponse)
async def schedule_therapy(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*THERAPY_BOOKERS)
) -> Response:
    zone = request.app.state.settings.zone

    def act(data: TherapyIn) -> None:
        values = data.model_dump()
        starts = values.pop("starts_at")
        if starts.tzinfo is None:
            starts = starts.replace(tzinfo=zone)
        service.schedule_therapy(db, actor=actor, patient_id=patient_id, starts_at=starts, **values)

    return await _submit(request, db, actor, patient_id, "therapy", TherapyIn, act)


def _therapy_page(
    request: Request,
    db: Session,
    actor: Actor,
    therapy_session_id: int,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    record = service.get_therapy_session(db, actor=actor, therapy_session_id=therapy_session_id)
    patient = patients.get_patient(
        db, actor=actor, patient_id=record.session.patient_id, purpose="therapy"
    )
    return render(
        request,
        "care/therapy.html",
        {
            "record": record,
            "patient": patient,
            "form": form or {},
            "errors": errors or {},
            "phase_label": service.phase_label,
            "cssrs": CSSRS,
            "can_write": bool(actor.roles & set(THERAPY_WRITERS)),
        },
        status_code=status_code,
    )


@router.get("/care/therapy/{therapy_session_id}", response_class=HTMLResponse)
def therapy_page(
    request: Request, db: DB, therapy_session_id: RecordId, actor: Actor = allow(*THERAPY_READERS)
) -> Response:
    return _therapy_page(request, db, actor, therapy_session_id)


@router.post("/care/therapy/{therapy_session_id}/note", response_class=HTMLResponse)
async def sign_note(
    request: Request, db: DB, therapy_session_id: RecordId, actor: Actor = allow(*THERAPY_WRITERS)
) -> Response:
    form = dict(await request.form())
    data, errors = parse(NoteIn, form)
    answers = {
        item.id: int(str(form[f"cssrs_{item.id}"]))
        for item in CSSRS.items
        if str(form.get(f"cssrs_{item.id}", "")) in ("0", "1")
    }
    if data is not None:
        try:
            values = data.model_dump()
            password = values.pop("password")
            service.sign_therapy_note(
                db,
                actor=actor,
                therapy_session_id=therapy_session_id,
                password=password,
                cssrs_answers=answers or None,
                **values,
            )
        except ClinicError as exc:
            db.rollback()
            errors = _errors(exc)
        else:
            return RedirectResponse(f"/care/therapy/{therapy_session_id}", status_code=303)
    form.pop("password", None)
    return _therapy_page(
        request, db, actor, therapy_session_id, form=form, errors=errors, status_code=422
    )


@router.post("/care/therapy/{therapy_session_id}/addendum", response_class=HTMLResponse)
async def add_addendum(
    request: Request, db: DB, therapy_session_id: RecordId, actor: Actor = allow(*THERAPY_WRITERS)
) -> Response:
    form = dict(await request.form())
    try:
        service.add_therapy_addendum(
            db,
            actor=actor,
            therapy_session_id=therapy_session_id,
            text=str(form.get("text") or ""),
            password=str(form.get("password") or ""),
        )
    except ClinicError as exc:
        db.rollback()
        form.pop("password", None)
        errors = {("addendum_" + k): v for k, v in exc.fields.items()}
        errors["addendum"] = exc.detail
        return _therapy_page(
            request, db, actor, therapy_session_id, form=form, errors=errors, status_code=422
        )
    return RedirectResponse(f"/care/therapy/{therapy_session_id}", status_code=303)


# ------------------------------------------------------------------ decisions


def _decision_page(
    request: Request,
    db: Session,
    actor: Actor,
    course_id: int,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    screen = service.decision_screen(db, actor=actor, course_id=course_id)
    return render(
        request,
        "care/decision.html",
        {
            "screen": screen,
            "patient": screen.patient,
            "choices": service.CHOICES,
            "form": form or {},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/care/courses/{course_id}/decision", response_class=HTMLResponse)
def decision_page(
    request: Request, db: DB, course_id: RecordId, actor: Actor = allow(Role.prescriber)
) -> Response:
    return _decision_page(request, db, actor, course_id)


@router.post("/care/courses/{course_id}/decision", response_class=HTMLResponse)
async def decide(
    request: Request, db: DB, course_id: RecordId, actor: Actor = allow(Role.prescriber)
) -> Response:
    form = dict(await request.form())
    data, errors = parse(DecisionIn, form)
    if data is not None:
        try:
            done = service.decide(db, actor=actor, course_id=course_id, **data.model_dump())
        except ClinicError as exc:
            db.rollback()
            errors = _errors(exc)
        else:
            target = (
                f"/orders/{done.order.id}"
                if done.order is not None
                else f"/care/courses/{course_id}/decision"
            )
            return RedirectResponse(target, status_code=303)
    return _decision_page(request, db, actor, course_id, form=form, errors=errors, status_code=422)


# ------------------------------------------------------------------ boosters


@router.get("/care/boosters", response_class=HTMLResponse)
def boosters(request: Request, db: DB, actor: Actor = allow(Role.prescriber)) -> Response:
    rows = service.open_proposals(db, actor=actor)
    return render(request, "care/boosters.html", {"rows": rows})


def _proposal_page(
    request: Request,
    db: Session,
    actor: Actor,
    proposal_id: int,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    proposal = service.get_proposal(db, actor=actor, proposal_id=proposal_id)
    patient = patients.get_patient(
        db, actor=actor, patient_id=proposal.patient_id, purpose="booster"
    )
    return render(
        request,
        "care/booster.html",
        {"proposal": proposal, "patient": patient, "errors": errors or {}},
        status_code=status_code,
    )


@router.get("/care/boosters/{proposal_id}", response_class=HTMLResponse)
def booster(
    request: Request, db: DB, proposal_id: RecordId, actor: Actor = allow(Role.prescriber)
) -> Response:
    return _proposal_page(request, db, actor, proposal_id)


@router.post("/care/boosters/{proposal_id}/{answer}", response_class=HTMLResponse)
async def answer_booster(
    request: Request,
    db: DB,
    proposal_id: RecordId,
    answer: str,
    actor: Actor = allow(Role.prescriber),
) -> Response:
    form = await request.form()
    try:
        if answer == "accept":
            service.accept_booster(db, actor=actor, proposal_id=proposal_id)
        elif answer == "decline":
            service.decline_booster(
                db, actor=actor, proposal_id=proposal_id, reason=str(form.get("reason") or "")
            )
        else:
            raise NotFound("answer accept or decline")
    except ClinicError as exc:
        db.rollback()
        return _proposal_page(
            request, db, actor, proposal_id, errors=_errors(exc), status_code=exc.status
        )
    return RedirectResponse(f"/care/boosters/{proposal_id}", status_code=303)


# ------------------------------------------------------------------ the portal


@router.get("/portal/plan", response_class=HTMLResponse)
def my_plan(request: Request, db: DB, actor: Actor = allow(Role.patient)) -> Response:
    plan = service.my_plan(db, actor=actor)
    return render(
        request,
        "care/portal_plan.html",
        {"plan": plan, "phase_label": service.phase_label, "errors": {}},
    )


@router.post("/portal/booster", response_class=HTMLResponse)
async def ask_for_booster(request: Request, db: DB, actor: Actor = allow(Role.patient)) -> Response:
    form = await request.form()
    try:
        service.request_booster(db, actor=actor, note=str(form.get("note") or ""))
    except ClinicError as exc:
        db.rollback()
        plan = service.my_plan(db, actor=actor)
        return render(
            request,
            "care/portal_plan.html",
            {"plan": plan, "phase_label": service.phase_label, "errors": _errors(exc)},
            status_code=exc.status,
        )
    return RedirectResponse("/portal/plan#booster", status_code=303)


# ------------------------------------------------------------------ chart and home


def _chart(db: Session, actor: Actor, patient: patients.Patient) -> dict[str, Any]:
    team = service.care_team(db, actor=actor, patient_id=patient.id)
    meds = service.medication_plan(db, actor=actor, patient_id=patient.id)
    return {
        "team": team,
        "current_meds": [m for m in meds if m.entry.stopped_on is None],
        "can_decide": Role.prescriber in actor.roles,
        "course": patients_course(db, actor, patient.id),
    }


def patients_course(db: Session, actor: Actor, patient_id: int) -> Any:
    return orders.active_course(db, actor=actor, patient_id=patient_id)


CHART_SECTIONS = [ChartSection("care", "Care team and plan", "care/_chart.html", _chart)]
