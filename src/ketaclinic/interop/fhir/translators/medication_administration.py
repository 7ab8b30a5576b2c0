"""MedicationAdministration <- an IV infusion (dose, rate, route) or one esketamine
nasal device given in a session, as given: an infusion's dose is what the pump record
says went in, not the order's. R4 MedicationAdministration has no lot element: the lot
the controlled-substance ledger drew from goes in a contained Medication's
``batch.lotNumber`` (R4 Medication.batch), which ``medicationReference`` names."""

from __future__ import annotations

from typing import Any

from ketaclinic.interop.fhir import codes
from ketaclinic.interop.fhir.translators.common import (
    coding,
    concept,
    instant,
    last_updated,
    quantity,
    ref,
)


def to_fhir(dose: Any, lot_number: str | None = None) -> dict[str, Any]:
    route = codes.ROUTES[dose.route]
    dosage: dict[str, Any] = {
        "route": concept(coding(codes.SNOMED, *route.snomed), text=route.text),
    }
    if dose.dose_mg is not None:
        dosage["dose"] = quantity(round(dose.dose_mg, 2), "mg", "mg")
    if dose.rate_ml_per_h is not None:
        dosage["rateQuantity"] = quantity(round(dose.rate_ml_per_h, 1), "mL/h", "mL/h")
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": dose.id,
        "meta": {"lastUpdated": last_updated(dose.started_at, dose.ended_at)},
        "status": "completed" if dose.route != "iv" or dose.ended_at else "in-progress",
        "medicationCodeableConcept": concept(text=codes.DRUGS[dose.route]),
        "subject": ref("Patient", dose.patient_id),
        "context": ref("Encounter", dose.session_id),
        "dosage": dosage,
    }
    if lot_number:
        del resource["medicationCodeableConcept"]
        resource["contained"] = [
            {
                "resourceType": "Medication",
                "id": "given",
                "code": concept(text=codes.DRUGS[dose.route]),
                "batch": {"lotNumber": lot_number},
            }
        ]
        resource["medicationReference"] = {"reference": "#given"}
    if getattr(dose, "ordered_mg", None) is not None and dose.ordered_mg != dose.dose_mg:
        resource["note"] = [{"text": f"ordered dose {dose.ordered_mg:g} mg"}]
    if dose.route == "iv":
        period = {"start": instant(dose.started_at)}
        if dose.ended_at:
            period["end"] = instant(dose.ended_at)
        resource["effectivePeriod"] = period
    else:
        resource["effectiveDateTime"] = instant(dose.started_at)
    return resource
