"""POST /fhir: a patient's record from another system, as synthetic carebundle bundles
(US Core transaction bundles) and hand-written ones: a dry run reports, an import is
all-or-nothing, a malformed bundle is refused whole with an OperationOutcome."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.interop.models import FhirImport, ImportedFact
from ketaclinic.patients.models import Patient
from tests.interop.fhir.conftest import Charted
from tests.interop.fhir.validate import validated


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Three hypertension patients from carebundle, reproducible by seed."""
    out = tmp_path_factory.mktemp("carebundle")
    subprocess.run(
        [
            str(Path(sys.executable).parent / "carebundle"),
            "generate",
            "--profile",
            "hypertension",
            "--count",
            "3",
            "--seed",
            "42",
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    return [json.loads(p.read_text()) for p in sorted(Path(out).glob("*.json"))]


def _post(client: TestClient, charted: Charted, body: Any, *, dry: bool = False) -> Any:
    return client.post(
        "/fhir" + ("?dry-run=true" if dry else ""),
        content=json.dumps(body).encode(),
        headers={**charted.headers("nurse"), "Content-Type": "application/fhir+json"},
    )


def _counts(db: Session) -> tuple[int, int, int]:
    found = (
        db.scalar(select(func.count(Patient.id))) or 0,
        db.scalar(select(func.count(FhirImport.id))) or 0,
        db.scalar(select(func.count(ImportedFact.id))) or 0,
    )
    db.rollback()
    return found


def _outcomes(report: dict[str, Any]) -> list[str]:
    return [e["response"]["outcome"]["issue"][0]["diagnostics"] for e in report["entry"]]


def test_synthetic_bundles_dry_run_then_import_then_match(
    client: TestClient, charted: Charted, db: Session, synthetic: list[dict[str, Any]]
) -> None:
    assert len(synthetic) == 3
    before = _counts(db)
    for bundle in synthetic:
        dry = _post(client, charted, bundle, dry=True)
        assert dry.status_code == 200, dry.text
        report = validated(dry.json())
        assert len(report["entry"]) == len(bundle["entry"])
        assert all(d.startswith("dry run: ") for d in _outcomes(report))
    assert _counts(db) == before
    for bundle in synthetic:
        done = _post(client, charted, bundle)
        assert done.status_code == 200, done.text
        report = validated(done.json())
        statuses = [e["response"]["status"] for e in report["entry"]]
        assert statuses.count("201 Created") >= 5  # the patient, 2 conditions, a drug, vitals
        kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
        assert {"DiagnosticReport", "Practitioner"} <= kinds
        skipped = [d for d in _outcomes(report) if d.startswith("skipped: DiagnosticReport")]
        assert skipped
    patients, imports, facts = _counts(db)
    assert (patients - before[0], imports - before[1]) == (3, 3)
    again = validated(_post(client, charted, synthetic[0]).json())
    assert again["entry"][0]["response"]["status"] == "200 OK"  # the same patient
    assert not any(e["response"]["status"] == "201 Created" for e in again["entry"])
    assert _counts(db)[2] == facts  # nothing imported twice


def test_a_record_exported_then_imported_brings_the_same_facts(
    client: TestClient, charted: Charted, db: Session
) -> None:
    exported = client.get(
        f"/fhir/Patient/{charted.patient_id}/$everything", headers=charted.headers("nurse")
    )
    assert exported.status_code == 200
    bundle = validated(exported.json())
    # As another system would send it back: its own identifiers, so a new record.
    person = bundle["entry"][0]["resource"]
    person.pop("identifier")
    person["name"][0]["given"] = ["Maria"]
    done = _post(client, charted, bundle)
    assert done.status_code == 200, done.text
    report = validated(done.json())
    new_id = int(report["entry"][0]["response"]["location"].split("/")[1])
    assert new_id != charted.patient_id
    facts = {
        (f.kind, f.text, f.code, f.value, f.second_value)
        for f in db.scalars(select(ImportedFact).where(ImportedFact.patient_id == new_id))
    }
    db.rollback()
    assert facts == {
        ("condition", "Post-traumatic stress disorder", "F43.10", None, None),
        ("medication", "Sertraline 100 mg daily", None, None, None),
        ("medication", "Lamotrigine 50 mg daily", None, None, None),
        ("allergy", "Penicillin", None, None, None),
        ("vital", "Body weight", "29463-7", 70.0, None),
        ("vital", "Body height", "8302-2", 168.0, None),
        ("vital", "Blood pressure panel with all children optional", "85354-9", 128.0, 82.0),
        ("vital", "Heart rate", "8867-4", 72.0, None),
        ("vital", "Oxygen saturation in Arterial blood by Pulse oximetry", "59408-5", 98.0, None),
        ("vital", "Respiratory rate", "9279-1", 14.0, None),
    }
    made = db.get(Patient, new_id)
    assert made is not None and (made.given_name, made.family_name) == ("Maria", "Lopez")


def _broken(synthetic: list[dict[str, Any]], how: str) -> dict[str, Any]:
    bundle = copy.deepcopy(synthetic[1])
    entries = bundle["entry"]
    condition = next(e["resource"] for e in entries if e["resource"]["resourceType"] == "Condition")
    if how == "resource type":
        entries[3]["resource"]["resourceType"] = "Observashun"
    elif how == "reference":
        condition["subject"] = {"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"}
    elif how == "code system":
        condition["code"]["coding"][0]["system"] = "http://example.org/our-own-codes"
    elif how == "two patients":
        entries.append(copy.deepcopy(entries[0]))
        entries[-1]["fullUrl"] = "urn:uuid:11111111-1111-1111-1111-111111111111"
    elif how == "bundle type":
        bundle["type"] = "searchset"
    elif how == "huge":
        # 5 MB: more than the clinic imports at once (4 MiB by default).
        entries[0]["resource"]["text"]["div"] = (
            '<div xmlns="http://www.w3.org/1999/xhtml">' + "x" * 5_000_000 + "</div>"
        )
    return bundle


@pytest.mark.parametrize(
    ("how", "status", "words"),
    [
        ("resource type", 400, "not a valid FHIR R4 Bundle"),
        ("reference", 400, "not in the bundle"),
        ("code system", 400, "unknown code system 'http://example.org/our-own-codes'"),
        ("two patients", 422, "the same patient as entry 0"),
        ("bundle type", 400, "'searchset' Bundle cannot be imported"),
        ("huge", 413, "split it"),
    ],
)
def test_a_malformed_bundle_is_refused_whole(
    client: TestClient,
    charted: Charted,
    db: Session,
    synthetic: list[dict[str, Any]],
    how: str,
    status: int,
    words: str,
) -> None:
    before = _counts(db)
    response = _post(client, charted, _broken(synthetic, how))
    assert response.status_code == status, response.text[:500]
    outcome = validated(response.json())
    assert words in outcome["issue"][0]["diagnostics"]
    assert "nothing was imported" in outcome["issue"][0]["diagnostics"]
    assert _counts(db) == before


def _merged(bundles: list[dict[str, Any]]) -> dict[str, Any]:
    """Several patients' bundles as one transaction, as a referral batch is sent."""
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [copy.deepcopy(e) for b in bundles for e in b["entry"]],
    }


def _tags(report: dict[str, Any], system: str) -> list[str]:
    return [t["display"] for t in report["meta"]["tag"] if t["system"] == system]


def test_a_bundle_of_several_patients_reports_each_then_imports_all(
    client: TestClient, charted: Charted, db: Session, synthetic: list[dict[str, Any]]
) -> None:
    bundle = _merged(synthetic)
    before = _counts(db)
    dry = _post(client, charted, bundle, dry=True)
    assert dry.status_code == 200, dry.text
    report = validated(dry.json())
    assert len(report["entry"]) == len(bundle["entry"])
    people = _tags(report, "urn:ketaclinic:import:patient")
    starts = [
        i for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == "Patient"
    ]
    assert len(people) == 3 == len(starts)
    # Each patient's count is the entries about them, as each bundle alone reports.
    for start, alone, said in zip(starts, synthetic, people, strict=True):
        single = validated(_post(client, charted, alone, dry=True).json())
        created = sum(e["response"]["status"] == "201 Created" for e in single["entry"])
        assert said.startswith(f"entry {start} (a new record): {created} would be created"), said
        assert said.endswith("the patient would be created")
    (overall,) = _tags(report, "urn:ketaclinic:import")
    assert overall.endswith("3 patients: 3 would be created, 0 matched")
    assert _counts(db) == before
    done = _post(client, charted, bundle)
    assert done.status_code == 200, done.text
    imported = validated(done.json())
    locations = [imported["entry"][i]["response"]["location"] for i in starts]
    assert len(set(locations)) == 3
    patients, imports, facts = _counts(db)
    assert (patients - before[0], imports - before[1]) == (3, 3)
    created = sum(e["response"]["status"] == "201 Created" for e in imported["entry"])
    assert facts - before[2] == created - 3  # every fact created, less the 3 patients
    for location in locations:
        owned = db.scalars(
            select(ImportedFact.source_entry).where(
                ImportedFact.patient_id == int(location.split("/")[1])
            )
        ).all()
        assert owned  # each patient got their own facts
    db.rollback()
    again = validated(_post(client, charted, bundle).json())
    (summary,) = _tags(again, "urn:ketaclinic:import")
    assert summary.endswith("3 patients: 0 were created, 3 matched")


def test_a_fault_in_one_patient_of_a_bundle_imports_none_of_them(
    client: TestClient, charted: Charted, db: Session, synthetic: list[dict[str, Any]]
) -> None:
    bundle = _merged(synthetic)
    last = next(
        e["resource"]
        for e in reversed(bundle["entry"])
        if e["resource"]["resourceType"] == "Condition"
    )
    last["code"]["coding"][0]["system"] = "http://example.org/our-own-codes"
    before = _counts(db)
    refused = _post(client, charted, bundle)
    assert refused.status_code == 400, refused.text[:500]
    assert "nothing was imported" in validated(refused.json())["issue"][0]["diagnostics"]
    assert _counts(db) == before


def test_only_intake_roles_import(
    client: TestClient, charted: Charted, synthetic: list[dict[str, Any]]
) -> None:
    for role in ("front_desk", "portal", "admin", "researcher"):
        refused = client.post(
            "/fhir",
            content=json.dumps(synthetic[0]).encode(),
            headers={**charted.headers(role), "Content-Type": "application/fhir+json"},
        )
        assert refused.status_code == 403, role


def test_imported_facts_show_on_the_chart_with_their_source(
    client: TestClient, charted: Charted
) -> None:
    from tests.conftest import login

    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "urn:uuid:0f0e0d0c-0000-4000-8000-000000000001",
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": "urn:ketaclinic:mrn", "value": charted.mrn}],
                    "name": [{"family": "Lopez", "given": ["Mario"]}],
                    "gender": "male",
                    "birthDate": "1980-01-01",
                },
            },
            {
                "fullUrl": "urn:uuid:0f0e0d0c-0000-4000-8000-000000000002",
                "resource": {
                    "resourceType": "AllergyIntolerance",
                    "patient": {"reference": "urn:uuid:0f0e0d0c-0000-4000-8000-000000000001"},
                    "code": {"text": "Latex"},
                },
            },
        ],
    }
    done = _post(client, charted, bundle)
    assert done.status_code == 200, done.text
    assert done.json()["entry"][0]["response"]["location"] == f"Patient/{charted.patient_id}"
    login(client, "fhir-prescriber")
    chart = client.get(f"/patients/{charted.patient_id}")
    assert chart.status_code == 200
    assert "Imported from other systems" in chart.text
    assert "Latex" in chart.text and "urn:uuid:0f0e0d0c-0000-4000-8000-000000000002" in chart.text
