"""AllergyIntolerance <- an allergy the intake records (free text)."""

from __future__ import annotations

from typing import Any

from ketaclinic.interop.fhir import codes
from ketaclinic.interop.fhir.translators.common import coding, concept, last_updated, ref

PROFILE = codes.US_CORE + "us-core-allergyintolerance"
CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"


def to_fhir(intake: Any, position: int, allergy: str) -> dict[str, Any]:
    return {
        "resourceType": "AllergyIntolerance",
        "id": f"{intake.id}-{position}",
        "meta": {"profile": [PROFILE], "lastUpdated": last_updated(intake.recorded_at)},
        "clinicalStatus": concept(coding(CLINICAL, "active")),
        "code": concept(text=allergy),
        "patient": ref("Patient", intake.patient_id),
        "recordedDate": intake.taken_on.isoformat(),
    }


def imported_text(resource: dict[str, Any]) -> str:
    code = resource.get("code") or {}
    if code.get("text"):
        return str(code["text"])
    for c in code.get("coding") or []:
        if c.get("display") or c.get("code"):
            return str(c.get("display") or c.get("code"))
    return ""
