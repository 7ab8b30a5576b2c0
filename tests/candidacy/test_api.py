from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.candidacy.factories import all_answers
from tests.conftest import login, make_user
from tests.patients.factories import a_patient


def _intake_body(**findings: Any) -> dict[str, Any]:
    return {
        "taken_on": "2026-01-10",
        "route": "intravenous",
        "findings": all_answers(**findings),
        "medications": ["lamotrigine 100 mg"],
        "heart_rate": 70,
    }


def test_a_nurse_records_an_intake_and_a_prescriber_confirms_it(
    client: TestClient, db: Session
) -> None:
    patient = a_patient(db)
    make_user(db, "nurse")
    make_user(db, "prescriber")
    db.commit()
    csrf = login(client, "nurse")
    created = client.post(
        f"/api/candidacy/patients/{patient.id}/intakes",
        json=_intake_body(hypertension=True),
        headers={"X-CSRF-Token": csrf},
    )
    assert created.status_code == 201, created.text
    intake_id = created.json()["id"]
    evaluation = client.get(f"/api/candidacy/patients/{patient.id}/evaluation").json()
    assert evaluation["verdict"] == "eligible_with_precautions"
    assert evaluation["medication_findings"][0]["interaction_id"] == "lamotrigine"
    refused = client.post(
        f"/api/candidacy/patients/{patient.id}/decisions",
        json={"intake_id": intake_id, "decision": "confirm"},
        headers={"X-CSRF-Token": csrf},
    )
    assert refused.status_code == 403
    client.post("/logout", data={"csrf_token": csrf})
    csrf = login(client, "prescriber")
    decided = client.post(
        f"/api/candidacy/patients/{patient.id}/decisions",
        json={"intake_id": intake_id, "decision": "confirm"},
        headers={"X-CSRF-Token": csrf},
    )
    assert decided.status_code == 201, decided.text
    assert decided.json()["final_verdict"] == "eligible_with_precautions"
    listed = client.get(f"/api/candidacy/patients/{patient.id}/decisions").json()
    assert [d["decision"] for d in listed] == ["confirmed"]


def test_a_bad_intake_gets_a_problem_naming_the_fields(client: TestClient, db: Session) -> None:
    patient = a_patient(db)
    make_user(db, "nurse")
    db.commit()
    csrf = login(client, "nurse")
    body = _intake_body()
    del body["findings"]["pregnancy"]
    response = client.post(
        f"/api/candidacy/patients/{patient.id}/intakes", json=body, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "finding.pregnancy" in response.json()["errors"]
    response = client.post(
        f"/api/candidacy/patients/{patient.id}/intakes",
        json={**_intake_body(), "heart_rate": 900},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 422 and "heart_rate" in response.json()["errors"]


def test_a_correction_through_the_api_makes_version_two(client: TestClient, db: Session) -> None:
    patient = a_patient(db)
    make_user(db, "nurse")
    db.commit()
    csrf = login(client, "nurse")
    first = client.post(
        f"/api/candidacy/patients/{patient.id}/intakes",
        json=_intake_body(),
        headers={"X-CSRF-Token": csrf},
    ).json()
    second = client.post(
        f"/api/candidacy/intakes/{first['id']}/corrections",
        json={"intake": _intake_body(hypertension=True), "reason": "BP medication forgotten"},
        headers={"X-CSRF-Token": csrf},
    )
    assert second.status_code == 201, second.text
    assert second.json()["version"] == 2
    versions = client.get(f"/api/candidacy/patients/{patient.id}/intakes").json()
    assert [v["version"] for v in versions] == [2, 1]


def test_front_desk_is_refused_the_candidacy_api(client: TestClient, db: Session) -> None:
    patient = a_patient(db)
    make_user(db, "front_desk")
    db.commit()
    login(client, "frontdesk")
    assert client.get(f"/api/candidacy/patients/{patient.id}/evaluation").status_code == 403
