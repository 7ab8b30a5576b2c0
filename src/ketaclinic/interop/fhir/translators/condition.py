"""Condition <- a treatment course's indication (ICD-10-CM where a single code is
confirmed, otherwise the clinic's words)."""

from __future__ import annotations

from typing import Any

from ketaclinic.interop.fhir import codes
from ketaclinic.interop.fhir.translators.common import coding, concept, instant, last_updated, ref

PROFILE = codes.US_CORE + "us-core-condition-problems-health-concerns"
PROBLEM = concept(coding(codes.CONDITION_CATEGORY, "problem-list-item", "Problem List Item"))


def to_fhir(course: Any) -> dict[str, Any]:
    known = codes.INDICATIONS.get(course.indication)
    text = known.text if known else course.indication.replace("_", " ")
    code = (
        concept(coding(codes.ICD10CM, *known.icd10cm), text=text)
        if known and known.icd10cm
        else concept(text=text)
    )
    return {
        "resourceType": "Condition",
        "id": str(course.id),
        "meta": {
            "profile": [PROFILE],
            "lastUpdated": last_updated(course.created_at, course.ended_at),
        },
        # The clinic records the indication when it opens a course and never resolves
        # it, so the condition stays active; the course's own end is not the illness's.
        "clinicalStatus": concept(coding(codes.CONDITION_CLINICAL, "active")),
        "category": [PROBLEM],
        "code": code,
        "subject": ref("Patient", course.patient_id),
        "recordedDate": instant(course.created_at),
        "note": [{"text": f"Indication of the {course.protocol_id} course ({course.status})"}],
    }


def imported_text(resource: dict[str, Any]) -> str:
    """An imported Condition's words: its text, else its first coding's display/code."""
    code = resource.get("code") or {}
    if code.get("text"):
        return str(code["text"])
    for c in code.get("coding") or []:
        label = c.get("display") or c.get("code")
        if label:
            return f"{label} ({c.get('code')})" if c.get("display") else str(label)
    return ""
