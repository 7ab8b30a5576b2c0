"""Candidacy pages: the intake form (new and correction), the candidacy page with the
verdict and the prescriber's decision, and the chart section."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ketaclinic.candidacy import forms, service
from ketaclinic.candidacy.home import HOME_SECTIONS as HOME_SECTIONS  # the home page's parts
from ketaclinic.candidacy.schemas import DecisionIn
from ketaclinic.clinical import dosing, screening
from ketaclinic.interop import service as interop
from ketaclinic.outcomes import service as outcomes
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import ChartSection
from ketaclinic.platform.auth import allow, get_db
from ketaclinic.platform.errors import ClinicError
from ketaclinic.platform.forms import parse
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role
from ketaclinic.platform.web import render
from ketaclinic.public import service as public

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
CLINICAL = (Role.prescriber, Role.nurse)
VERDICT_WORDS = {
    "eligible": "Eligible",
    "eligible_with_precautions": "Eligible with precautions",
    "not_eligible": "Not eligible",
    "needs_information": "Needs more information",
}


def _form_context(
    patient: patients.Patient, form: dict[str, Any], errors: dict[str, str], **extra: Any
) -> dict[str, Any]:
    route = forms.route_of(form)
    rules = service.applicable_rules(route)
    return {
        "patient": patient,
        "form": form,
        "errors": errors,
        "route": route,
        "routes": screening.ROUTES,
        "protocols": [p for p in dosing.protocols() if p.route == route],
        "sections": [
            (kind, [r for r in rules if r.kind == kind])
            for kind in ("indication", "contraindication", "precaution")
        ],
        "answer_text": forms.answer_text,
        "trial_rows": forms.trial_rows(form),
        "correcting": None,
        "imported": {},
        "diagnoses": [],
        **extra,
    }


def _lead_answers(db: Session, actor: Actor, lead_id: int) -> tuple[dict[str, Any], str | None]:
    """Answers of a public self-screen lead, or why they cannot be read."""
    try:
        lead = public.get_lead(db, actor=actor, lead_id=lead_id)
    except ClinicError as exc:
        db.rollback()
        return {}, exc.detail
    return dict(lead.answers or {}), None


@router.get("/patients/{patient_id}/intake/new", response_class=HTMLResponse)
def new_intake(
    request: Request,
    db: DB,
    patient_id: RecordId,
    route: str = screening.DEFAULT_ROUTE,
    lead: int | None = None,
    actor: Actor = allow(*CLINICAL),
) -> Response:
    patient = patients.get_patient(db, actor=actor, patient_id=patient_id, purpose="intake")
    form: dict[str, Any] = {"taken_on": date.today().isoformat(), "route": route}
    if patient.sex == "male":
        form["finding.pregnancy"] = "no"
    weight, height = patients.current_body(patient)
    form.update({"weight_kg": weight, "height_cm": height})
    # Facts imported from other systems fill the fields the clinic's own record leaves
    # empty, each marked with its source; the clinician reviews them and submits.
    facts = interop.imported_intake_facts(db, actor=actor, patient_id=patient.id)
    marks = {k: m for k, m in facts.marks.items() if form.get(k) is None}
    form.update({k: v for k, v in facts.values.items() if k in marks})
    notice = None
    if lead is not None:
        answers, notice = _lead_answers(db, actor, lead)
        form.update(forms.prefill_from_lead(answers, forms.route_of(form)))
        if notice is None:
            form["lead_id"] = lead
            notice = f"Pre-filled from self-screen lead {lead}: check every answer."
    return render(
        request,
        "candidacy/intake_form.html",
        _form_context(patient, form, {}, notice=notice, imported=marks, diagnoses=facts.diagnoses),
    )


@router.post("/patients/{patient_id}/intake", response_class=HTMLResponse)
async def create_intake(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*CLINICAL)
) -> Response:
    form = dict(await request.form())
    data, errors = forms.parse_intake(form)
    if data is not None:
        try:
            service.create_intake(db, actor=actor, patient_id=patient_id, data=data)
        except ClinicError as exc:
            db.rollback()
            errors = exc.fields or {"form": exc.detail}
        else:
            return RedirectResponse(f"/patients/{patient_id}/candidacy", status_code=303)
    patient = patients.get_patient(db, actor=actor, patient_id=patient_id, purpose="intake")
    return render(
        request,
        "candidacy/intake_form.html",
        _form_context(patient, form, errors),
        status_code=422,
    )


@router.get("/patients/{patient_id}/intakes/{intake_id}", response_class=HTMLResponse)
def view_intake(
    request: Request,
    db: DB,
    patient_id: RecordId,
    intake_id: RecordId,
    actor: Actor = allow(*CLINICAL),
) -> Response:
    intake = service.get_intake(db, actor=actor, intake_id=intake_id)
    patient = patients.get_patient(db, actor=actor, patient_id=intake.patient_id, purpose="intake")
    if intake.patient_id != patient_id:
        return RedirectResponse(f"/patients/{intake.patient_id}/intakes/{intake.id}", 303)
    rules = {r.id: r for r in service.applicable_rules(intake.route)}
    return render(
        request,
        "candidacy/intake_view.html",
        {"patient": patient, "intake": intake, "rules": rules, "answer_text": forms.answer_text},
    )


@router.get("/patients/{patient_id}/intakes/{intake_id}/correct", response_class=HTMLResponse)
def correct_form(
    request: Request,
    db: DB,
    patient_id: RecordId,
    intake_id: RecordId,
    route: str | None = None,
    actor: Actor = allow(*CLINICAL),
) -> Response:
    intake = service.get_intake(db, actor=actor, intake_id=intake_id)
    patient = patients.get_patient(db, actor=actor, patient_id=intake.patient_id, purpose="intake")
    form = forms.form_of(intake)
    if route:
        form["route"] = route
    return render(
        request,
        "candidacy/intake_form.html",
        _form_context(patient, form, {}, correcting=intake),
    )


@router.post("/patients/{patient_id}/intakes/{intake_id}/correct", response_class=HTMLResponse)
async def correct(
    request: Request,
    db: DB,
    patient_id: RecordId,
    intake_id: RecordId,
    actor: Actor = allow(*CLINICAL),
) -> Response:
    form = dict(await request.form())
    data, errors = forms.parse_intake(form)
    reason = str(form.get("reason") or "").strip()
    if len(reason) < 3:
        errors["reason"] = "say why the intake is corrected"
    if data is not None and not errors:
        try:
            service.correct_intake(db, actor=actor, intake_id=intake_id, data=data, reason=reason)
        except ClinicError as exc:
            db.rollback()
            errors = exc.fields or {"form": exc.detail}
        else:
            return RedirectResponse(f"/patients/{patient_id}/candidacy", status_code=303)
    intake = service.get_intake(db, actor=actor, intake_id=intake_id)
    patient = patients.get_patient(db, actor=actor, patient_id=intake.patient_id, purpose="intake")
    return render(
        request,
        "candidacy/intake_form.html",
        _form_context(patient, form, errors, correcting=intake),
        status_code=422,
    )


def baseline_scores(db: Session, actor: Actor, patient_id: int) -> list[outcomes.ScorePoint]:
    """Baseline questionnaire scores from the outcomes area."""
    points = outcomes.score_history(db, actor=actor, patient_id=patient_id)
    return [p for p in points if p.context == "baseline"]


def _scales(candidacy: service.Candidacy | None) -> list[str]:
    scales: list[str] = ["phq9"]
    if candidacy is not None:
        for reason in candidacy.evaluation.reasons:
            for scale in service.BASELINE_SCALES.get(reason.rule_id, ()):
                if scale not in scales:
                    scales.append(scale)
    return scales


def _candidacy_page(
    request: Request,
    db: Session,
    actor: Actor,
    patient_id: int,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    patient = patients.get_patient(db, actor=actor, patient_id=patient_id, purpose="candidacy")
    result = service.evaluate_candidacy(db, actor=actor, patient_id=patient_id)
    history = service.decisions(db, actor=actor, patient_id=patient_id)
    versions = service.intake_versions(db, actor=actor, patient_id=patient_id)
    return render(
        request,
        "candidacy/candidacy.html",
        {
            "patient": patient,
            "result": result,
            "decisions": history,
            "versions": versions,
            "baseline": baseline_scores(db, actor, patient_id),
            "scales": _scales(result),
            "verdict_words": VERDICT_WORDS,
            "verdicts": screening.VERDICTS,
            "can_decide": Role.prescriber in actor.roles,
            "form": form or {},
            "errors": errors or {},
            "rules": {r.id: r for r in screening.rules()},
        },
        status_code=status_code,
    )


@router.get("/patients/{patient_id}/candidacy", response_class=HTMLResponse)
def candidacy(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*CLINICAL)
) -> Response:
    return _candidacy_page(request, db, actor, patient_id)


@router.post("/patients/{patient_id}/candidacy/decision", response_class=HTMLResponse)
async def decide(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(Role.prescriber)
) -> Response:
    form = dict(await request.form())
    data, errors = parse(DecisionIn, form)
    if data is not None:
        try:
            service.decide(db, actor=actor, patient_id=patient_id, data=data)
        except ClinicError as exc:
            db.rollback()
            errors = exc.fields or {"form": exc.detail}
            if exc.fields:
                errors.setdefault("form", exc.detail)
        else:
            return RedirectResponse(f"/patients/{patient_id}/candidacy#decision", status_code=303)
    return _candidacy_page(request, db, actor, patient_id, form, errors, status_code=422)


def _chart(db: Session, actor: Actor, patient: patients.Patient) -> dict[str, Any]:
    if not actor.roles & service.INTAKE_ROLES:
        return {"allowed": False}
    intake = service.latest_intake(db, actor=actor, patient_id=patient.id)
    history = service.decisions(db, actor=actor, patient_id=patient.id)
    latest = history[0] if history else None
    verdict = None
    if intake is not None:
        result = service.evaluate_candidacy(db, actor=actor, patient_id=patient.id)
        verdict = result.evaluation.verdict if result else None
    return {
        "allowed": True,
        "intake": intake,
        "verdict": verdict,
        "decision": latest,
        "stale": latest is not None and intake is not None and latest.intake_id != intake.id,
        "verdict_words": VERDICT_WORDS,
    }


CHART_SECTIONS = [ChartSection("candidacy", "Candidacy", "candidacy/_chart.html", _chart)]
