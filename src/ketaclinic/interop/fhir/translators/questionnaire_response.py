"""QuestionnaireResponse <-> the outcomes area's stored response (answer per item)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ketaclinic.clinical import instruments
from ketaclinic.interop.fhir import codes
from ketaclinic.interop.fhir.outcome import FhirError
from ketaclinic.interop.fhir.translators import questionnaire
from ketaclinic.interop.fhir.translators.common import (
    instant,
    last_updated,
    local_id,
    parse_instant,
    ref,
)

PROFILE = codes.US_CORE + "us-core-questionnaireresponse"


def to_fhir(response: Any) -> dict[str, Any]:
    instrument = instruments.get(response.instrument_id)
    options = {i.id: {o.value: o for o in i.options} for i in instrument.items}
    items = []
    for answer in response.items:
        option = options.get(answer.item_id, {}).get(answer.value)
        value = (
            {"valueCoding": questionnaire.answer_coding(instrument, option)}
            if option is not None
            else {"valueInteger": answer.value}
        )
        items.append({"linkId": answer.item_id, "answer": [value]})
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": str(response.id),
        "meta": {"profile": [PROFILE], "lastUpdated": last_updated(response.created_at)},
        "questionnaire": questionnaire.canonical(instrument.id),
        "status": "completed",
        "subject": ref("Patient", response.patient_id),
        "authored": instant(response.completed_at),
        "item": items,
    }
    if response.session_id:
        resource["encounter"] = ref("Encounter", response.session_id)
    return resource


@dataclass(frozen=True)
class Answered:
    """A QuestionnaireResponse as the outcomes area records it."""

    instrument_id: str
    patient_id: int
    answers: dict[str, int]
    completed_at: datetime | None


def _value(instrument: instruments.Instrument, link_id: str, answer: Any) -> int:
    if not isinstance(answer, dict):
        raise FhirError(f"item {link_id}: an answer must be an object", status=400)
    if isinstance(answer.get("valueInteger"), int):
        return int(answer["valueInteger"])
    found = answer.get("valueCoding")
    if isinstance(found, dict):
        system = found.get("system")
        if system not in (None, questionnaire.ANSWERS + instrument.id.replace("_", "-")):
            raise FhirError(
                f"item {link_id}: unknown answer code system {system!r}",
                status=400,
                code="code-invalid",
            )
        try:
            return int(str(found.get("code")))
        except ValueError:
            pass
    raise FhirError(
        f"item {link_id}: answer with valueCoding (the option's code) or valueInteger",
        status=400,
    )


def from_fhir(resource: Any) -> Answered:
    """The answers of a posted QuestionnaireResponse; a FhirError names what is wrong."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "QuestionnaireResponse":
        raise FhirError("the body must be a QuestionnaireResponse", status=400)
    if resource.get("status") not in ("completed", "amended"):
        raise FhirError(
            "only a completed QuestionnaireResponse can be scored", status=422, code="business-rule"
        )
    named = resource.get("questionnaire")
    instrument = questionnaire.instrument_of(named) if isinstance(named, str) else None
    if instrument is None:
        raise FhirError(
            f"questionnaire {named!r} is not one ketaclinic scores (see GET /fhir/Questionnaire)",
            status=422,
            code="not-supported",
        )
    patient = local_id(resource.get("subject"), "Patient")
    if not patient.isdigit():
        raise FhirError(f"unknown patient {patient!r}", status=404)
    answers: dict[str, int] = {}
    for entry in resource.get("item") or []:
        link_id = entry.get("linkId") if isinstance(entry, dict) else None
        if not isinstance(link_id, str):
            raise FhirError("every item needs a linkId", status=400)
        if link_id == "total":
            continue  # computed here, never taken from the sender
        given = entry.get("answer") or []
        if len(given) != 1:
            raise FhirError(f"item {link_id}: exactly one answer", status=400)
        answers[link_id] = _value(instrument, link_id, given[0])
    authored = resource.get("authored")
    return Answered(
        instrument_id=instrument.id,
        patient_id=int(patient),
        answers=answers,
        completed_at=parse_instant(authored, "authored") if authored is not None else None,
    )
