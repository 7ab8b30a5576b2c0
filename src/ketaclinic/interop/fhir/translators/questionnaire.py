"""Questionnaire <- an instrument ketaclinic scores, published as an SDC Questionnaire:
items coded with their LOINC codes where confirmed, answer options with their scores
(ordinalValue), the scoring rule in words and the total as a read-only coded item."""

from __future__ import annotations

from typing import Any

from ketaclinic.clinical import instruments
from ketaclinic.interop.fhir import codes
from ketaclinic.interop.fhir.translators.common import coding, fhir_id

SDC_PROFILE = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
#: The clinic's canonical URL of an instrument's Questionnaire, and its answers' system.
CANONICAL = "urn:ketaclinic:questionnaire:"
ANSWERS = "urn:ketaclinic:answers:"


def canonical(instrument_id: str) -> str:
    return CANONICAL + fhir_id(instrument_id)


def instrument_of(reference: str) -> instruments.Instrument | None:
    """The instrument a canonical URL or ``Questionnaire/{id}`` names, if any."""
    tail = reference.split("|", 1)[0]
    for prefix in (CANONICAL, "Questionnaire/"):
        if prefix in tail:
            wanted = tail.rsplit(prefix, 1)[-1]
            for instrument in instruments.all():
                if fhir_id(instrument.id) == wanted:
                    return instrument
    return None


def answer_coding(instrument: instruments.Instrument, option: Any) -> dict[str, str]:
    return coding(ANSWERS + fhir_id(instrument.id), str(option.value), option.label)


def to_fhir(instrument: instruments.Instrument) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for item in instrument.items:
        entry: dict[str, Any] = {
            "linkId": item.id,
            "text": item.text or item.label,
            "type": "choice",
            "required": item.asked_if is None,
            "answerOption": [
                {
                    "extension": [{"url": ORDINAL, "valueDecimal": option.value}],
                    "valueCoding": answer_coding(instrument, option),
                }
                for option in item.options
            ],
        }
        if item.loinc:
            entry["code"] = [coding(codes.LOINC, item.loinc)]
        if item.asked_if is not None:
            entry["enableWhen"] = [
                {
                    "question": item.asked_if.item_id,
                    "operator": "=",
                    "answerCoding": coding(
                        ANSWERS + fhir_id(instrument.id), str(item.asked_if.value)
                    ),
                }
            ]
        items.append(entry)
    if instrument.scoring == "sum":
        total: dict[str, Any] = {
            "linkId": "total",
            "text": f"Total score ({instrument.scoring_description})",
            "type": "integer",
            "readOnly": True,
        }
        if instrument.loinc_total:
            total["code"] = [coding(codes.LOINC, instrument.loinc_total)]
        items.append(total)
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": fhir_id(instrument.id),
        "meta": {"profile": [SDC_PROFILE]},
        "url": canonical(instrument.id),
        "name": "".join(ch for ch in instrument.name.title() if ch.isalnum())[:60] or "Instrument",
        "title": instrument.name,
        "status": "active",
        "subjectType": ["Patient"],
        "description": f"{instrument.scoring_description} Source: {instrument.source.citation}"
        f" [{instrument.source.evidence}]. Completed by the {instrument.completed_by}.",
        "copyright": instrument.licence,
        "item": items,
    }
    if instrument.loinc_panel:
        resource["code"] = [coding(codes.LOINC, instrument.loinc_panel)]
    return resource
