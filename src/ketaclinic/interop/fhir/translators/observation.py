"""Observation <-> vital signs (a session's readings, a patient's weight and height)
and screening assessments (a scored questionnaire's total and items).

Ids say where a fact lives, so a read by id finds it without a lookup table:
``vs-{reading}-{bp|hr|spo2|rr}``, ``bm-{measurement}-{weight|height}``,
``qr-{response}-total`` and ``qr-{response}-{item}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ketaclinic.clinical import instruments
from ketaclinic.interop.fhir import codes
from ketaclinic.interop.fhir.translators.common import (
    coding,
    concept,
    fhir_id,
    instant,
    last_updated,
    quantity,
    ref,
)

VITAL_SIGNS = concept(coding(codes.OBSERVATION_CATEGORY, "vital-signs", "Vital Signs"))
SURVEY = concept(coding(codes.OBSERVATION_CATEGORY, "survey", "Survey"))
_READING_PARTS = {
    "hr": "heart_rate",
    "spo2": "spo2",
    "rr": "respiratory_rate",
}
ID_PATTERN = re.compile(r"^(vs|bm|qr)-(\d+)-([a-z0-9-]+)$")


def _vital(
    key: str, patient_id: int, id_: str, at: str, changed: datetime | None
) -> dict[str, Any]:
    vital = codes.VITALS[key]
    meta: dict[str, Any] = {"profile": [vital.profile]}
    if changed is not None:
        meta["lastUpdated"] = last_updated(changed)
    return {
        "resourceType": "Observation",
        "id": id_,
        "meta": meta,
        "status": "final",
        "category": [VITAL_SIGNS],
        "code": concept(
            *(coding(codes.LOINC, code, display) for code, display in vital.codes),
            text=vital.codes[0][1],
        ),
        "subject": ref("Patient", patient_id),
        "effectiveDateTime": at,
    }


def from_reading(reading: Any) -> list[dict[str, Any]]:
    """A session's set of readings: one Observation per vital sign charted (blood
    pressure as one panel with its two components)."""
    at = instant(reading.taken_at)
    found = []
    if reading.systolic_bp is not None or reading.diastolic_bp is not None:
        bp = _vital(
            "blood_pressure",
            reading.patient_id,
            f"vs-{reading.id}-bp",
            at,
            getattr(reading, "recorded_at", None),
        )
        bp["encounter"] = ref("Encounter", reading.session_id)
        bp["component"] = [
            {
                "code": concept(coding(codes.LOINC, code, display), text=display),
                **(
                    {"valueQuantity": quantity(value, "mmHg", "mm[Hg]")}
                    if value is not None
                    else {"dataAbsentReason": concept(text="not charted")}
                ),
            }
            for (code, display), value in (
                (codes.SYSTOLIC, reading.systolic_bp),
                (codes.DIASTOLIC, reading.diastolic_bp),
            )
        ]
        found.append(bp)
    for suffix, key in _READING_PARTS.items():
        value = getattr(reading, key)
        if value is None:
            continue
        obs = _vital(
            key,
            reading.patient_id,
            f"vs-{reading.id}-{suffix}",
            at,
            getattr(reading, "recorded_at", None),
        )
        obs["encounter"] = ref("Encounter", reading.session_id)
        vital = codes.VITALS[key]
        obs["valueQuantity"] = quantity(value, vital.unit, vital.ucum)
        found.append(obs)
    return found


def from_measurement(patient_id: int, row: Any) -> list[dict[str, Any]]:
    """A weight and height on a date (the patients area's body measurement)."""
    found = []
    for key, value in (("weight", row.weight_kg), ("height", row.height_cm)):
        if value is None:
            continue
        obs = _vital(
            key,
            patient_id,
            f"bm-{row.id}-{key}",
            row.measured_on.isoformat(),
            getattr(row, "recorded_at", None),
        )
        vital = codes.VITALS[key]
        obs["valueQuantity"] = quantity(value, vital.unit, vital.ucum)
        found.append(obs)
    return found


def _meta(profile: str, response: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"profile": [profile]}
    changed = getattr(response, "created_at", None)
    if changed is not None:
        meta["lastUpdated"] = last_updated(changed)
    return meta


def _screening(
    response: Any, id_: str, code: dict[str, Any], value: dict[str, Any]
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": id_,
        "meta": _meta(codes.SCREENING_PROFILE, response),
        "status": "final",
        "category": [SURVEY],
        "code": code,
        "subject": ref("Patient", response.patient_id),
        "effectiveDateTime": instant(response.completed_at),
        "derivedFrom": [ref("QuestionnaireResponse", response.id)],
        **value,
    }


def from_response(response: Any, observations: list[Any]) -> list[dict[str, Any]]:
    """A scored questionnaire as US Core screening assessments: the total (with its
    LOINC code where one is confirmed) whose ``hasMember`` are the items, each item
    coded where its LOINC code is confirmed and otherwise named in ``code.text``."""
    instrument = instruments.get(response.instrument_id)
    items = []
    for answer in response.items:
        try:
            item = instrument.item(answer.item_id)
        except ValueError:
            continue
        items.append(
            _screening(
                response,
                f"qr-{response.id}-{fhir_id(answer.item_id)}",
                concept(
                    *([coding(codes.LOINC, item.loinc)] if item.loinc else []),
                    text=f"{instrument.name}: {item.label}",
                ),
                {"valueInteger": answer.value},
            )
        )
    summary = None
    total = next((o for o in observations if o.kind == "total"), None)
    risk = next((o for o in observations if o.kind == "risk"), None)
    if total is not None and total.value is not None:
        summary = _screening(
            response,
            f"qr-{response.id}-total",
            concept(
                *([coding(codes.LOINC, total.loinc)] if total.loinc else []),
                text=f"{instrument.name} total score",
            ),
            {"valueInteger": int(total.value)},
        )
        if total.value_text:
            summary["interpretation"] = [concept(text=total.value_text)]
    elif risk is not None and risk.value_text:
        summary = _screening(
            response,
            f"qr-{response.id}-total",
            concept(text=f"{instrument.name} risk"),
            {"valueCodeableConcept": concept(text=risk.value_text)},
        )
    if summary is None:
        return items
    if items:
        summary["hasMember"] = [ref("Observation", i["id"]) for i in items]
    return [summary, *items]


@dataclass(frozen=True)
class ImportedVital:
    """A vital sign read from another system's Observation: what the intake keeps."""

    key: str  # weight|height|blood_pressure|heart_rate|spo2|respiratory_rate
    value: float | None
    systolic: float | None
    diastolic: float | None
    on: date | None
    at: datetime | None


def vital_of(resource: dict[str, Any]) -> str | None:
    """The vital sign an Observation's LOINC coding names, if any."""
    for c in (resource.get("code") or {}).get("coding") or []:
        if c.get("system") == codes.LOINC and c.get("code") in codes.VITAL_BY_LOINC:
            return codes.VITAL_BY_LOINC[c["code"]]
    return None
