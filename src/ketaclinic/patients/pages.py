"""Patient pages: register, search, create, edit, the chart."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ketaclinic.clinical import disclosure
from ketaclinic.configuration import service as configuration
from ketaclinic.patients import service
from ketaclinic.patients.schemas import MeasurementIn, PatientIn, PatientUpdate
from ketaclinic.platform import ports
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import HomeSection, chart_sections
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.auth import allow, get_db
from ketaclinic.platform.errors import ClinicError
from ketaclinic.platform.forms import parse
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role
from ketaclinic.platform.web import render

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
DESK = (Role.prescriber, Role.nurse, Role.front_desk)
CLINICAL = (Role.prescriber, Role.nurse)


NAV = [("Patients", "/patients", frozenset(DESK))]


def _own(db: Session, actor: Actor) -> service.Patient | None:
    if actor.patient_id is None:
        return None
    return service.get_patient(db, actor=actor, patient_id=actor.patient_id)


def _cohort(db: Session, actor: Actor) -> dict[str, Any]:
    """The researcher's cohort counts, each cell under the clinic's minimum shown
    suppressed (``disclosure.suppression``)."""
    found = service.deidentified_summary(db, actor=actor, today=date.today())
    rule = disclosure.research_rule(configuration.overrides_for(db, "disclosure.suppression"))
    return {
        "total": disclosure.shown(found["total"], rule),
        "by_sex": {k: disclosure.shown(v, rule) for k, v in found["by_sex"].items()},
        "by_age_band": {k: disclosure.shown(v, rule) for k, v in found["by_age_band"].items()},
    }


HOME_SECTIONS = [
    HomeSection(
        "recent",
        frozenset(DESK),
        lambda db, actor: service.recently_updated(db, actor=actor, limit=10),
    ),
    HomeSection("cohort", frozenset({Role.researcher}), _cohort),
    HomeSection("own", frozenset({Role.patient}), _own),
]


@router.get("/patients", response_class=HTMLResponse)
def register(request: Request, db: DB, q: str = "", actor: Actor = allow(*DESK)) -> Response:
    found = service.search_patients(db, actor=actor, query=q, limit=100)
    return render(request, "patients/list.html", {"patients": found, "q": q})


@router.get("/patients/new", response_class=HTMLResponse)
def new_form(request: Request, _: Actor = allow(*DESK)) -> Response:
    return render(request, "patients/form.html", {"form": {}, "errors": {}, "patient": None})


@router.post("/patients", response_class=HTMLResponse)
async def create(request: Request, db: DB, actor: Actor = allow(*DESK)) -> Response:
    form = dict(await request.form())
    data, errors = parse(PatientIn, form)
    if data is not None:
        try:
            patient = service.create_patient(db, actor=actor, data=data)
        except ClinicError as exc:
            db.rollback()
            errors = exc.fields or {"form": exc.detail}
        else:
            return RedirectResponse(_landing(actor, patient.id), status_code=303)
    return render(
        request,
        "patients/form.html",
        {"form": form, "errors": errors, "patient": None},
        status_code=422,
    )


def _landing(actor: Actor, patient_id: int) -> str:
    if actor.has_any(set(CLINICAL)):
        return f"/patients/{patient_id}"
    return f"/patients/{patient_id}/edit"


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def chart(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*CLINICAL)
) -> Response:
    patient = service.get_patient(db, actor=actor, patient_id=patient_id, purpose="chart")
    weight, height = service.current_body(patient)
    sections = [(s, s.load(db, actor, patient)) for s in chart_sections()]
    return render(
        request,
        "patients/chart.html",
        {
            "meds": ports.medication_summary(db, actor=actor, patient_id=patient.id),
            "patient": patient,
            "weight": weight,
            "height": height,
            "sections": sections,
            "errors": {},
            "form": {},
        },
    )


def contact_context(
    patient: service.Patient,
    *,
    action: str,
    own: bool = False,
    errors: dict[str, str] | None = None,
    form: dict[str, object] | None = None,
) -> dict[str, object]:
    """What ``patients/_contact_preferences.html`` shows (the portal uses it too)."""
    return {
        "cp_action": action,
        "cp_errors": errors or {},
        "cp_form": form,
        "own": own,
        "contact_preferences": service.CONTACT_PREFERENCES,
        "consent_wording": service.TEXT_CONSENT_WORDING,
    }


@router.get("/patients/{patient_id}/edit", response_class=HTMLResponse)
def edit_form(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*DESK)
) -> Response:
    patient = service.get_patient(db, actor=actor, patient_id=patient_id, purpose="edit")
    form = {name: getattr(patient, name) for name in service.DEMOGRAPHIC_FIELDS}
    return render(
        request,
        "patients/form.html",
        {
            "form": form,
            "errors": {},
            "patient": patient,
            **contact_context(patient, action=f"/patients/{patient.id}/contact-preferences"),
        },
    )


@router.post("/patients/{patient_id}/contact-preferences", response_class=HTMLResponse)
async def contact_preferences(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*DESK)
) -> Response:
    """Staff record how the patient wants to hear from the clinic, and their consent to
    text messages as the patient gave it (the record says who recorded it, and when)."""
    form = dict(await request.form())
    preference = str(form.get("contact_preference") or "")
    consent = form.get("text_consent") == "yes"
    try:
        service.set_contact_preferences(
            db, actor=actor, patient_id=patient_id, preference=preference, text_consent=consent
        )
    except ClinicError as exc:
        db.rollback()
        errors = exc.fields or {"form": exc.detail}
        patient = service.get_patient(db, actor=actor, patient_id=patient_id, purpose="edit")
        values = {name: getattr(patient, name) for name in service.DEMOGRAPHIC_FIELDS}
        return render(
            request,
            "patients/form.html",
            {
                "form": values,
                "errors": {},
                "patient": patient,
                **contact_context(
                    patient,
                    action=f"/patients/{patient.id}/contact-preferences",
                    errors=errors,
                    form={"contact_preference": preference, "text_consent": consent},
                ),
            },
            status_code=exc.status,
        )
    return RedirectResponse(f"/patients/{patient_id}/edit#contact-preferences", status_code=303)


@router.post("/patients/{patient_id}/edit", response_class=HTMLResponse)
async def edit(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*DESK)
) -> Response:
    form = dict(await request.form())
    data, errors = parse(PatientUpdate, form)
    if data is not None:
        try:
            version = int(str(form.get("version", ""))) if form.get("version") else None
            service.update_patient(
                db, actor=actor, patient_id=patient_id, data=data, expected_version=version
            )
        except ClinicError as exc:
            db.rollback()
            errors = exc.fields or {"form": exc.detail}
        else:
            return RedirectResponse(_landing(actor, patient_id), status_code=303)
    patient = service.get_patient(db, actor=actor, patient_id=patient_id, purpose="edit")
    return render(
        request,
        "patients/form.html",
        {
            "form": form,
            "errors": errors,
            "patient": patient,
            **contact_context(patient, action=f"/patients/{patient.id}/contact-preferences"),
        },
        status_code=422,
    )


@router.post("/patients/{patient_id}/measurements", response_class=HTMLResponse)
async def add_measurement(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*DESK)
) -> Response:
    form = dict(await request.form())
    data, errors = parse(MeasurementIn, form)
    if data is not None:
        try:
            service.add_measurement(db, actor=actor, patient_id=patient_id, data=data)
        except ClinicError as exc:
            db.rollback()
            errors = exc.fields or {"form": exc.detail}
        else:
            return RedirectResponse(f"{_landing(actor, patient_id)}#measurements", status_code=303)
    detail = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in errors.items())
    return render(
        request,
        "error.html",
        {"title": "Measurement not saved", "detail": detail, "back": _landing(actor, patient_id)},
        status_code=422,
    )


@router.post(
    "/patients/{patient_id}/measurements/{measurement_id}/error", response_class=HTMLResponse
)
async def measurement_in_error(
    request: Request,
    db: DB,
    patient_id: RecordId,
    measurement_id: RecordId,
    actor: Actor = allow(*CLINICAL),
) -> Response:
    form = await request.form()
    service.mark_measurement_in_error(
        db,
        actor=actor,
        patient_id=patient_id,
        measurement_id=measurement_id,
        reason=str(form.get("reason", "")),
    )
    return RedirectResponse(f"/patients/{patient_id}#measurements", status_code=303)


@router.get("/patients/{patient_id}/history", response_class=HTMLResponse)
def history(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*DESK)
) -> Response:
    patient = service.get_patient(db, actor=actor, patient_id=patient_id, purpose="history")
    rows = service.versions(db, actor=actor, patient_id=patient_id)
    return render(request, "patients/history.html", {"patient": patient, "versions": rows})


@router.get("/admin/patients/{patient_id}/access", response_class=HTMLResponse)
def access_log(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(Role.admin)
) -> Response:
    # Audited itself, and clinical detail withheld from admins without a clinical role.
    events = audit.view_trail(db, actor=actor, patient_id=patient_id, limit=200)
    return render(request, "patients/access.html", {"patient_id": patient_id, "events": events})
