"""Building self-screen answers and leads for the public area's tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ketaclinic.public import service
from ketaclinic.public.schemas import Answer, ContactIn, LeadIn
from tests.conftest import committed

# Everything answered "no" except the indication: a clear consultation case.
ALL_NO: dict[str, Answer] = {
    "treatment_resistant_depression": True,
    "failed_antidepressant_trials": 3,
    "ptsd": False,
    "suicidal_ideation": False,
    "substance_use_disorder": False,
    "active_psychosis": False,
    "mania_bipolar_unstable": False,
    "psychosis_history": False,
    "illicit_ketamine_use": False,
    "ketamine_cystitis_history": False,
    "previous_adverse_reaction_ketamine": False,
    "active_substance_abuse": False,
    "pregnancy": False,
    "uncontrolled_hypertension": False,
    "hypertension": False,
    "aneurysm_or_avm": False,
    "intracerebral_haemorrhage_history": False,
    "cardiovascular_disease": False,
    "ischaemic_heart_disease": False,
    "cerebrovascular_disease": False,
    "hyperthyroidism": False,
    "severe_liver_disease": False,
    "raised_intracranial_pressure": False,
    "raised_intraocular_pressure": False,
    "schizophrenia": False,
    "excipient_hypersensitivity": False,
    "recent_myocardial_infarction": False,
    "recent_stroke": False,
    "breastfeeding": False,
    "interstitial_cystitis": False,
    "sleep_apnoea_or_severe_lung_disease": False,
    "hypertensive_encephalopathy_history": False,
}


def answers(**changes: Answer) -> dict[str, Answer]:
    return {**ALL_NO, **changes}


def form_of(values: dict[str, Answer]) -> dict[str, str]:
    form = {}
    for key, value in values.items():
        text = "unsure" if value is None else ("yes" if value is True else "no")
        form[f"q_{key}"] = (
            str(value)
            if isinstance(value, int) and value is not True and value is not False
            else text
        )
    return form


@committed
def a_lead(db: Session, name: str = "Robin Vale", **changes: Answer) -> Any:
    return service.create_lead(
        db,
        actor=service.public_actor("127.0.0.1"),
        data=LeadIn(
            answers=answers(**changes),
            contact=ContactIn(name=name, phone="+1 555 300 4000", consent=True),
        ),
    )


def public_csrf(client: TestClient) -> str:
    """Open the self-screen as a stranger; the double-submit cookie's value."""
    page = client.get("/self-screen")
    assert page.status_code == 200
    return page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
