"""Intakes and decisions for tests, built through the real services."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.candidacy import service
from ketaclinic.candidacy.models import CandidacyDecision, Intake
from ketaclinic.candidacy.schemas import DecisionIn, IntakeIn
from ketaclinic.clinical import screening
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.roles import Role
from tests.conftest import committed

PRESCRIBER = Actor(user_id=None, username="dr.test", roles=frozenset({Role.prescriber}))
NURSE = Actor(user_id=None, username="nurse.test", roles=frozenset({Role.nurse}))
DESK = Actor(user_id=None, username="desk.test", roles=frozenset({Role.front_desk}))


def all_answers(route: str = "intravenous", **yes: Any) -> dict[str, Any]:
    """Every rule asked for ``route`` answered no (numbers 0; age from the date of birth, a
    BP of 120/80), then ``yes`` on top; treatment-resistant depression with 2 failed trials
    unless told otherwise."""
    answers: dict[str, Any] = {}
    for rule in screening.rules():
        if rule.applies_to(route):
            answers[rule.id] = 0 if rule.answer_type == "number" else False
    measures = {
        # Age comes from the patient's date of birth (the service fills it in).
        "age_outside_clinic_range": None,
        "esketamine_under_18": None,
        "measured_systolic_bp": 120,
        "measured_diastolic_bp": 80,
    }
    answers.update({k: v for k, v in measures.items() if k in answers})
    answers["treatment_resistant_depression"] = True
    answers["failed_antidepressant_trials"] = 2
    answers.update(yes)
    return answers


def intake_in(
    route: str = "intravenous", findings: dict[str, Any] | None = None, **kw: Any
) -> IntakeIn:
    fields: dict[str, Any] = {
        "taken_on": date.today() - timedelta(days=3),
        "route": route,
        "findings": findings if findings is not None else all_answers(route),
        "medications": [],
    }
    fields.update(kw)
    return IntakeIn(**fields)


@committed
def an_intake(db: Session, patient_id: int, **kw: Any) -> Intake:
    return service.create_intake(db, actor=NURSE, patient_id=patient_id, data=intake_in(**kw))


@committed
def a_decision(db: Session, patient_id: int, intake_id: int, **kw: Any) -> CandidacyDecision:
    fields: dict[str, Any] = {"intake_id": intake_id, "decision": "confirm"}
    fields.update(kw)
    return service.decide(db, actor=PRESCRIBER, patient_id=patient_id, data=DecisionIn(**fields))


@committed
def cleared_patient(db: Session, patient_id: int, route: str = "intravenous") -> Intake:
    intake = an_intake(db, patient_id, route=route)
    a_decision(db, patient_id, intake.id)
    return intake
