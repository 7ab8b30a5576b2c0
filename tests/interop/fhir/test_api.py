"""The FHIR read and search routes: every resource type, its search parameters, paging,
_include, OperationOutcome refusals, roles, and one audit row per patient per request."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.platform.audit.models import AuditEvent
from tests.interop.fhir.conftest import FHIR_JSON, Charted, get
from tests.interop.fhir.validate import validated

TYPES = [
    "Patient",
    "Observation",
    "QuestionnaireResponse",
    "Condition",
    "MedicationStatement",
    "MedicationAdministration",
    "Encounter",
    "AllergyIntolerance",
]


def _search(client: TestClient, charted: Charted, query: str, role: str = "prescriber") -> Any:
    response = get(client, f"/fhir/{query}", charted, role)
    assert response.status_code == 200, response.text
    return validated(response.json())


def _resources(bundle: dict[str, Any], mode: str = "match") -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == mode]


def test_the_capability_statement_lists_what_is_served_and_says_smart_is_not(
    client: TestClient,
) -> None:
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(FHIR_JSON)
    statement = validated(response.json())
    assert statement["fhirVersion"] == "4.0.1"
    served = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(served) == {*TYPES, "Questionnaire"}
    assert {i["code"] for i in served["QuestionnaireResponse"]["interaction"]} == {
        "read",
        "search-type",
        "create",
    }
    assert {p["name"] for p in served["Observation"]["searchParam"]} >= {
        "patient",
        "category",
        "code",
        "date",
    }
    assert "SMART on FHIR" in statement["rest"][0]["security"]["description"]
    assert "NOT supported" in statement["rest"][0]["security"]["description"]


@pytest.mark.parametrize("resource_type", TYPES)
def test_every_resource_type_is_searched_and_read_by_id_and_validates(
    client: TestClient, charted: Charted, resource_type: str
) -> None:
    bundle = _search(
        client,
        charted,
        f"{resource_type}?patient=Patient/{charted.patient_id}"
        if resource_type != "Patient"
        else f"Patient?_id={charted.patient_id}",
    )
    found = _resources(bundle)
    assert found, resource_type
    for resource in found:
        one = get(client, f"/fhir/{resource_type}/{resource['id']}", charted)
        assert one.status_code == 200, one.text
        assert validated(one.json()) == resource


def test_vital_signs_carry_the_us_core_codes_and_units(
    client: TestClient, charted: Charted
) -> None:
    bundle = _search(
        client, charted, f"Observation?patient={charted.patient_id}&category=vital-signs"
    )
    by_code = {r["code"]["coding"][0]["code"]: r for r in _resources(bundle)}
    assert set(by_code) == {"85354-9", "8867-4", "59408-5", "9279-1", "29463-7", "8302-2"}
    bp = by_code["85354-9"]
    assert [
        (c["code"]["coding"][0]["code"], c["valueQuantity"]["value"]) for c in bp["component"]
    ] == [
        ("8480-6", 128),
        ("8462-4", 82),
    ]
    assert bp["component"][0]["valueQuantity"]["code"] == "mm[Hg]"
    assert by_code["8867-4"]["valueQuantity"] == {
        "value": 72,
        "unit": "beats/min",
        "system": "http://unitsofmeasure.org",
        "code": "/min",
    }
    assert [c["code"] for c in by_code["59408-5"]["code"]["coding"]] == ["59408-5", "2708-6"]
    assert by_code["29463-7"]["valueQuantity"]["value"] == 70.0
    assert by_code["8302-2"]["valueQuantity"]["code"] == "cm"


def test_a_scored_phq9_is_a_screening_assessment_with_its_items_and_source(
    client: TestClient, charted: Charted
) -> None:
    bundle = _search(
        client,
        charted,
        f"Observation?patient={charted.patient_id}&code=http://loinc.org|44261-6"
        "&_include=Observation:derived-from",
    )
    (total,) = _resources(bundle)
    assert total["valueInteger"] == 15  # 2+2+3+2+1+2+2+1+0, by hand
    assert total["category"][0]["coding"][0]["code"] == "survey"
    assert total["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{charted.response_id}"}]
    assert len(total["hasMember"]) == 9
    (included,) = _resources(bundle, "include")
    assert included["resourceType"] == "QuestionnaireResponse"
    assert [i["answer"][0]["valueCoding"]["code"] for i in included["item"]] == list("223212210")
    items = _search(client, charted, f"Observation?patient={charted.patient_id}&code=44250-9")
    assert [r["valueInteger"] for r in _resources(items)] == [2]


def test_course_indication_intake_and_session_facts(client: TestClient, charted: Charted) -> None:
    q = f"?patient={charted.patient_id}"
    (condition,) = _resources(_search(client, charted, "Condition" + q))
    assert condition["code"]["coding"][0] == {
        "system": "http://hl7.org/fhir/sid/icd-10-cm",
        "code": "F43.10",
        "display": "Post-traumatic stress disorder, unspecified",
    }
    meds = _resources(_search(client, charted, "MedicationStatement" + q))
    assert [m["medicationCodeableConcept"]["text"] for m in meds] == [
        "Sertraline 100 mg daily",
        "Lamotrigine 50 mg daily",
    ]
    (allergy,) = _resources(_search(client, charted, "AllergyIntolerance" + q))
    assert allergy["code"]["text"] == "Penicillin"
    (given,) = _resources(_search(client, charted, "MedicationAdministration" + q))
    assert given["dosage"]["dose"]["value"] == 35.0
    assert given["dosage"]["route"]["coding"][0]["code"] == "47625008"
    assert given["effectivePeriod"]["start"] == "2026-03-10T14:01:00+00:00"
    assert given["effectivePeriod"]["end"] == "2026-03-10T14:41:00+00:00"
    assert given["context"] == {"reference": f"Encounter/{charted.session_id}"}
    (visit,) = _resources(_search(client, charted, "Encounter" + q))
    assert visit["class"]["code"] == "AMB"
    assert visit["period"]["start"] == "2026-03-10T14:00:00+00:00"


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("ge2026-03-10", 4),  # the session's four readings
        ("lt2026-03-10", 3),  # weight, height (1 March) and the PHQ-9 total (9 March)
        ("2026-03-09", 1),
        ("gt2026-03-10T14:00:00Z", 0),
        ("le2026-03-01", 2),
    ],
)
def test_date_ranges(client: TestClient, charted: Charted, date: str, expected: int) -> None:
    bundle = _search(
        client,
        charted,
        f"Observation?patient={charted.patient_id}&date={date}&code="
        "85354-9,8867-4,59408-5,9279-1,29463-7,8302-2,44261-6",
    )
    assert bundle["total"] == expected


def test_count_pages_with_next_links_that_reach_every_match(
    client: TestClient, charted: Charted
) -> None:
    seen: list[str] = []
    bundle = _search(client, charted, f"Observation?patient={charted.patient_id}&_count=4")
    total = bundle["total"]
    while True:
        seen += [r["id"] for r in _resources(bundle)]
        following = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        if not following:
            break
        path = following[0].split("/fhir/", 1)[1]
        bundle = _search(client, charted, path)
    assert total == 6 + 10  # six vital signs; the PHQ-9 total and its nine items
    assert len(seen) == len(set(seen)) == total


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("Observation?patient=1&date=yesterday", 400),
        ("Observation?patient=1&colour=red", 400),
        ("Observation?patient=1&_count=many", 400),
        ("Observation?patient=1&_include=Observation:performer", 400),
        ("Observation", 400),
        ("Observation/vs-999999-hr", 404),
        ("Observation/nonsense", 404),
        ("Patient/999999", 404),
        ("Encounter/12abc", 404),
        ("Basic/1", 404),
        ("Patient?_format=xml", 406),
    ],
)
def test_refusals_are_operation_outcomes_with_the_right_status(
    client: TestClient, charted: Charted, query: str, status: int
) -> None:
    response = get(client, f"/fhir/{query}", charted)
    assert response.status_code == status, response.text
    outcome = validated(response.json())
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["severity"] == "error"


def test_strangers_and_other_roles_get_operation_outcomes(
    client: TestClient, charted: Charted
) -> None:
    path = f"/fhir/Observation?patient={charted.patient_id}"
    anonymous = client.get(path)
    assert anonymous.status_code == 401
    assert validated(anonymous.json())["issue"][0]["code"] == "login"
    for role in ("admin", "researcher", "front_desk"):
        refused = client.get(path, headers=charted.headers(role))
        assert refused.status_code == 403, role
        assert validated(refused.json())["issue"][0]["code"] == "forbidden"
    desk = client.get(f"/fhir/Patient/{charted.patient_id}", headers=charted.headers("front_desk"))
    assert desk.status_code == 200


def test_a_patient_reads_only_their_own_record(client: TestClient, charted: Charted) -> None:
    own = _search(client, charted, "Observation", role="portal")
    assert own["total"] == 16
    assert get(client, f"/fhir/Patient/{charted.other_id}", charted, "portal").status_code == 404
    other = _search(client, charted, f"Encounter?patient={charted.other_id}", role="portal")
    assert other["total"] == 0
    everyone = _search(client, charted, "Patient", role="portal")
    assert [r["id"] for r in _resources(everyone)] == [str(charted.patient_id)]


def test_a_read_is_audited_once_per_patient_and_request(
    client: TestClient, charted: Charted, db: Session
) -> None:
    before = db.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
    db.rollback()
    _search(
        client,
        charted,
        f"Observation?patient={charted.patient_id}&_include=Observation:derived-from",
    )
    rows = list(
        db.scalars(
            select(AuditEvent).where(AuditEvent.id > before, AuditEvent.action.like("fhir.%"))
        )
    )
    assert [(r.action, r.patient_id) for r in rows] == [("fhir.read", charted.patient_id)]


def test_questionnaires_are_published_for_every_instrument(
    client: TestClient, charted: Charted
) -> None:
    from ketaclinic.clinical import instruments

    bundle = _search(client, charted, "Questionnaire?_count=100")
    found = {r["id"]: r for r in _resources(bundle)}
    assert set(found) == {i.replace("_", "-") for i in instruments.ids()}
    phq9 = found["phq9"]
    assert phq9["code"] == [{"system": "http://loinc.org", "code": "44249-1"}]
    assert [i.get("code", [{}])[0].get("code") for i in phq9["item"]][:2] == ["44250-9", "44255-8"]
    assert phq9["item"][-1]["code"][0]["code"] == "44261-6"
