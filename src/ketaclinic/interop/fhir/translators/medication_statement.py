"""MedicationStatement <- a current medication the intake records (free text)."""

from __future__ import annotations

from typing import Any

from ketaclinic.interop.fhir.translators.common import concept, last_updated, ref

PROFILE = None  # US Core has no MedicationStatement profile (it profiles MedicationRequest)


def to_fhir(intake: Any, position: int, medication: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "id": f"{intake.id}-{position}",
        "meta": {"lastUpdated": last_updated(intake.recorded_at)},
        "status": "active",
        "medicationCodeableConcept": concept(text=medication),
        "subject": ref("Patient", intake.patient_id),
        "dateAsserted": intake.taken_on.isoformat(),
        "note": [{"text": "Recorded at the ketaclinic intake"}],
    }


def imported_text(resource: dict[str, Any]) -> str:
    """The medication an imported MedicationStatement or MedicationRequest names."""
    med = resource.get("medicationCodeableConcept") or {}
    if med.get("text"):
        return str(med["text"])
    for c in med.get("coding") or []:
        if c.get("display"):
            return str(c["display"])
        if c.get("system") == "http://www.nlm.nih.gov/research/umls/rxnorm" and c.get("code"):
            return f"RxNorm {c['code']}"
    reference = (resource.get("medicationReference") or {}).get("display")
    return str(reference or "")
