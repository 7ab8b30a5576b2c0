"""Every resource the server returns for a charted record (and its CapabilityStatement
and an OperationOutcome) meets FHIR R4 and each US Core profile it claims
(``meta.profile``), checked offline in one batch per test."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from ketaclinic.interop.fhir import reads
from tests.interop.fhir import profiles
from tests.interop.fhir.conftest import Charted, get


def _served(client: TestClient, charted: Charted) -> list[dict[str, Any]]:
    """The record as the API returns it: ``$everything``, then each type's search (the
    same resources reached again, as a client reads them) and the Questionnaires."""
    found = [
        e["resource"]
        for e in get(client, f"/fhir/Patient/{charted.patient_id}/$everything", charted).json()[
            "entry"
        ]
    ]
    for kind in reads.KINDS:
        if kind == "Patient":
            continue
        bundle = get(client, f"/fhir/{kind}?patient={charted.patient_id}", charted).json()
        found += [e["resource"] for e in bundle.get("entry", [])]
    found += [e["resource"] for e in get(client, "/fhir/Questionnaire", charted).json()["entry"]]
    found.append(get(client, "/fhir/metadata", charted).json())
    found.append(get(client, "/fhir/Encounter/999999", charted).json())  # an OperationOutcome
    return found


def test_every_resource_of_a_charted_record_meets_the_profiles_it_claims(
    client: TestClient, charted: Charted
) -> None:
    served = _served(client, charted)
    assert {r["resourceType"] for r in served} == {
        *reads.KINDS,
        "Questionnaire",
        "CapabilityStatement",
        "OperationOutcome",
    }
    findings = profiles.check(served)
    assert profiles.failures(findings) == []
    checked = {url for f in findings for url in f.checked}
    # The US Core definitions there are offline are used, the vital signs meet the R4
    # core profiles, and no claimed profile goes unchecked unnoticed.
    assert profiles.US_CORE + "us-core-patient" in checked
    assert profiles.US_CORE + "us-core-blood-pressure" in checked
    assert {profiles.CORE + p for p in ("heartrate", "oxygensat", "resprate")} <= checked
    assert {profiles.CORE + "bodyweight", profiles.CORE + "bodyheight"} <= checked
    unavailable = {url for f in findings for url in f.unavailable}
    assert unavailable <= profiles.NO_OFFLINE_DEFINITION, unavailable


def test_the_validator_finds_what_a_profile_requires_and_is_missing() -> None:
    bare_patient = {
        "resourceType": "Patient",
        "id": "1",
        "meta": {"profile": [profiles.US_CORE + "us-core-patient"]},
        "gender": "male",
    }
    pulse_without_category = {
        "resourceType": "Observation",
        "id": "vs-1",
        "meta": {"profile": [profiles.US_CORE + "us-core-heart-rate"]},
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "subject": {"reference": "Patient/1"},
        "effectiveDateTime": "2026-03-01T10:00:00Z",
        "valueQuantity": {"value": 72, "unit": "/min", "system": "http://unitsofmeasure.org"},
    }
    patient, pulse = profiles.check([bare_patient, pulse_without_category])
    assert {e["path"] for e in patient.errors} >= {"Patient.identifier", "Patient.name"}
    assert ("Observation.category", profiles.CORE + "heartrate") in {
        (e["path"], e["against"]) for e in pulse.errors
    }
