from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import login, make_user

NEW = {
    "given_name": "Ana",
    "family_name": "Reyes",
    "date_of_birth": "1984-02-03",
    "sex": "female",
    "email": "ana@example.org",
}


def test_staff_create_read_and_correct_a_patient_through_the_api(
    client: TestClient, db: Session
) -> None:
    make_user(db, "nurse")
    csrf = {"X-CSRF-Token": login(client, "nurse")}
    created = client.post("/api/patients", json=NEW, headers=csrf).json()
    assert created["mrn"] == "KC000001" and created["version"] == 1
    body = {**NEW, "email": "ana.reyes@example.org", "reason": "typo in email"}
    updated = client.put(
        f"/api/patients/{created['id']}", json=body, headers={**csrf, "If-Match": "1"}
    )
    assert updated.status_code == 200 and updated.json()["version"] == 2
    stale = client.put(
        f"/api/patients/{created['id']}",
        json={**body, "email": "x@y.org"},
        headers={**csrf, "If-Match": "1"},
    )
    assert stale.status_code == 409
    history = client.get(f"/api/patients/{created['id']}/history").json()
    assert [h["reason"] for h in history] == ["created", "typo in email"]
    found = client.get("/api/patients", params={"q": "reyes"}).json()
    assert [p["name"] for p in found] == ["Reyes, Ana"]


def test_a_weight_out_of_range_is_refused_naming_the_field(client: TestClient, db: Session) -> None:
    make_user(db, "nurse")
    csrf = {"X-CSRF-Token": login(client, "nurse")}
    patient = client.post("/api/patients", json=NEW, headers=csrf).json()
    response = client.post(
        f"/api/patients/{patient['id']}/measurements",
        json={"measured_on": "2026-01-02", "weight_kg": 900},
        headers=csrf,
    )
    assert response.status_code == 422
    assert "weight_kg" in response.json()["errors"]


def test_an_unknown_patient_is_a_404_problem(client: TestClient, db: Session) -> None:
    make_user(db, "nurse")
    login(client, "nurse")
    response = client.get("/api/patients/999")
    assert response.status_code == 404
    assert response.json()["detail"] == "no patient with id 999"


def test_a_patient_account_reads_only_its_own_record(client: TestClient, db: Session) -> None:
    from tests.patients.factories import a_patient

    own = a_patient(db)
    other = a_patient(db, given_name="Other")
    make_user(db, "patient", patient_id=own.id)
    db.commit()
    login(client, "patient")
    assert client.get(f"/api/patients/{own.id}").status_code == 200
    assert client.get(f"/api/patients/{other.id}").status_code == 404
    assert client.get("/api/patients").status_code == 403
