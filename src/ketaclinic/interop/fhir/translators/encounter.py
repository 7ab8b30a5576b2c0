"""Encounter <- an infusion or esketamine session."""

from __future__ import annotations

from typing import Any

from ketaclinic.interop.fhir import codes
from ketaclinic.interop.fhir.translators.common import coding, concept, instant, last_updated, ref

PROFILE = codes.US_CORE + "us-core-encounter"
# Session status -> Encounter.status (FHIR R4 EncounterStatus).
_STATUS = {
    "open": "in-progress",
    "discharged": "finished",
    "signed": "finished",
    "cosigned": "finished",
    "cancelled": "cancelled",
}


def to_fhir(session: Any) -> dict[str, Any]:
    route = codes.ROUTES.get(session.route)
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": str(session.id),
        "meta": {
            "profile": [PROFILE],
            "lastUpdated": last_updated(session.created_at, session.started_at, session.ended_at),
        },
        "status": _STATUS.get(session.status, "in-progress"),
        "class": coding(*codes.ENCOUNTER_CLASS),
        "type": [
            concept(
                text=f"{route.text if route else session.route} session {session.number} "
                f"({session.protocol_id})"
            )
        ],
        "subject": ref("Patient", session.patient_id),
    }
    start = session.started_at or session.created_at
    period = {"start": instant(start)}
    if session.ended_at:
        period["end"] = instant(session.ended_at)
    resource["period"] = period
    return resource
