"""Clinic overrides reach the decisions the areas compute."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ketaclinic.candidacy import service as candidacy
from ketaclinic.configuration import service
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.roles import Role
from tests.candidacy.factories import NURSE, all_answers, an_intake
from tests.patients.factories import a_patient

DIRECTOR = Actor(user_id=None, username="dr.chen", roles=frozenset({Role.prescriber, Role.admin}))


def test_a_clinic_that_makes_controlled_hypertension_absolute_gets_not_eligible(
    db: Session,
) -> None:
    patient = a_patient(db)
    an_intake(db, patient.id, findings=all_answers(hypertension=True))
    before = candidacy.evaluate_candidacy(db, actor=NURSE, patient_id=patient.id)
    assert before is not None and before.evaluation.verdict == "eligible_with_precautions"
    service.override(
        db,
        actor=DIRECTOR,
        table_key="screening.rules",
        target="hypertension",
        field="absolute",
        value="yes",
        reason="no hypertensives in our clinic",
    )
    after = candidacy.evaluate_candidacy(db, actor=NURSE, patient_id=patient.id)
    assert after is not None and after.evaluation.verdict == "not_eligible"
