from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.candidacy.factories import cleared_patient
from tests.conftest import PASSWORD, login, make_user
from tests.orders.factories import a_weighed_patient

IV = {"dose_mg_per_kg": 0.5, "concentration_mg_per_ml": 10, "bag_volume_ml": 100}


def test_a_prescriber_opens_a_course_and_signs_supersedes_and_titrates(
    client: TestClient, db: Session
) -> None:
    patient = a_weighed_patient(db, weight=70)
    cleared_patient(db, patient.id)
    make_user(db, "prescriber")
    db.commit()
    csrf = login(client, "prescriber")
    h = {"X-CSRF-Token": csrf}
    course = client.post(
        f"/api/orders/patients/{patient.id}/courses",
        json={"protocol_id": "iv_ketamine", "indication": "treatment_resistant_depression"},
        headers=h,
    )
    assert course.status_code == 201, course.text
    cid = course.json()["id"]
    preview = client.post(f"/api/orders/courses/{cid}/preview", json=IV, headers=h).json()
    assert (preview["dose_mg"], preview["rate_ml_per_h"]) == (35.0, 155.3)  # 103.5 mL / 40 min
    bad = client.post(
        f"/api/orders/courses/{cid}/orders", json={**IV, "dose_mg_per_kg": 2}, headers=h
    )
    assert bad.status_code == 422 and "dose_mg_per_kg" in bad.json()["errors"]
    draft = client.post(f"/api/orders/courses/{cid}/orders", json=IV, headers=h).json()
    signed = client.post(f"/api/orders/{draft['id']}/sign", json={"password": PASSWORD}, headers=h)
    assert signed.json()["status"] == "signed"
    assert (
        client.post(
            f"/api/orders/{draft['id']}/sign", json={"password": PASSWORD}, headers=h
        ).status_code
        == 409
    )
    assert client.put(f"/api/orders/{draft['id']}", json=IV, headers=h).status_code == 409
    titrated = client.post(f"/api/orders/{draft['id']}/titrate", headers=h).json()
    assert (titrated["dose_mg_per_kg"], titrated["change_reason"]) == (0.75, "titration")
    client.post(f"/api/orders/{titrated['id']}/sign", json={"password": PASSWORD}, headers=h)
    change = client.post(
        f"/api/orders/{titrated['id']}/supersede",
        json={"order": IV, "reason": "raised blood pressure at 0.75"},
        headers=h,
    ).json()
    client.post(f"/api/orders/{change['id']}/sign", json={"password": PASSWORD}, headers=h)
    orders = client.get(f"/api/orders/courses/{cid}/orders").json()
    assert [o["status"] for o in orders] == ["signed", "superseded", "superseded"]
    current = client.get(f"/api/orders/courses/{cid}/current-order").json()
    assert current["id"] == change["id"]
    sessions = client.get(f"/api/orders/courses/{cid}/planned-sessions").json()
    assert len(sessions) == 6


def test_front_desk_books_planned_sessions_but_cannot_read_orders(
    client: TestClient, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    patient = a_weighed_patient(db)
    cleared_patient(db, patient.id)
    make_user(db, "prescriber")
    make_user(db, "front_desk")
    db.commit()
    csrf = login(client, "prescriber")
    cid = client.post(
        f"/api/orders/patients/{patient.id}/courses",
        json={"protocol_id": "iv_ketamine", "indication": "treatment_resistant_depression"},
        headers={"X-CSRF-Token": csrf},
    ).json()["id"]
    client.post("/logout", data={"csrf_token": csrf})
    csrf = login(client, "frontdesk")
    with caplog.at_level(logging.WARNING, logger="ketaclinic.unit_of_work"):
        nxt = client.get(f"/api/orders/patients/{patient.id}/next-planned-session").json()
    # Reading the next session is a read: its audit row comes after, not inside it.
    assert "wrote during a read" not in caplog.text
    booked = client.post(
        f"/api/orders/planned-sessions/{nxt['id']}/status",
        json={"status": "booked"},
        headers={"X-CSRF-Token": csrf},
    )
    assert booked.status_code == 200 and booked.json()["status"] == "booked"
    assert client.get(f"/api/orders/courses/{cid}/orders").status_code == 403


def test_a_course_without_clearance_is_refused_with_the_reason(
    client: TestClient, db: Session
) -> None:
    patient = a_weighed_patient(db)
    make_user(db, "prescriber")
    db.commit()
    csrf = login(client, "prescriber")
    response = client.post(
        f"/api/orders/patients/{patient.id}/courses",
        json={"protocol_id": "iv_ketamine", "indication": "treatment_resistant_depression"},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 409
    assert "no intake" in response.json()["detail"]
