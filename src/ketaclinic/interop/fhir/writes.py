"""Writing through FHIR: a QuestionnaireResponse another system posts is recorded as
the outcomes area records a portal answer (validated, scored once, stored per item,
observations extracted, an alert raised on a suicidality signal)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.interop.fhir.reads import Reader, read
from ketaclinic.interop.fhir.translators import questionnaire_response
from ketaclinic.outcomes import service as outcomes
from ketaclinic.platform.errors import NotFound


def create_questionnaire_response(
    db: Session, reader: Reader, body: Any
) -> tuple[dict[str, Any], bool]:
    """The stored response as FHIR, and whether an alert was raised."""
    answered = questionnaire_response.from_fhir(body)
    bound = reader.bound_patient
    if bound is not None and bound != answered.patient_id:
        raise NotFound("no such patient")
    recorded = outcomes.record_from_system(
        db,
        actor=reader.actor,
        patient_id=answered.patient_id,
        instrument_id=answered.instrument_id,
        answers=answered.answers,
        completed_at=answered.completed_at,
    )
    stored = read(db, reader, "QuestionnaireResponse", str(recorded.response.id))
    return stored, recorded.alert is not None
