from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import login, make_user


def test_the_registration_form_shows_each_field_error_and_keeps_the_input(
    client: TestClient, db: Session
) -> None:
    make_user(db, "front_desk")
    csrf = login(client, "frontdesk")
    response = client.post(
        "/patients",
        data={
            "csrf_token": csrf,
            "given_name": "Ana",
            "family_name": "",
            "date_of_birth": "3000-01-01",
            "sex": "female",
            "email": "not-an-email",
        },
    )
    assert response.status_code == 422
    page = response.text
    assert "date of birth is in the future" in page
    assert "not an email address" in page
    assert 'value="Ana"' in page


def test_front_desk_registers_a_patient_and_lands_on_the_demographics(
    client: TestClient, db: Session
) -> None:
    make_user(db, "front_desk")
    csrf = login(client, "frontdesk")
    response = client.post(
        "/patients",
        data={
            "csrf_token": csrf,
            "given_name": "Ana",
            "family_name": "Reyes",
            "date_of_birth": "1984-02-03",
            "sex": "female",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("/edit")
    assert "Reyes, Ana" in client.get("/patients?q=reyes").text


def test_a_nurse_sees_the_chart_with_weight_history(client: TestClient, db: Session) -> None:
    from tests.patients.factories import a_patient

    patient = a_patient(db)
    make_user(db, "nurse")
    db.commit()
    csrf = login(client, "nurse")
    client.post(
        f"/patients/{patient.id}/measurements",
        data={
            "csrf_token": csrf,
            "measured_on": "2026-03-01",
            "weight_kg": "71.4",
            "height_cm": "166",
        },
    )
    chart = client.get(f"/patients/{patient.id}")
    assert chart.status_code == 200
    assert "71.4" in chart.text and "Lopez, Maria" in chart.text


def test_an_admin_reads_who_opened_a_chart(client: TestClient, db: Session) -> None:
    from tests.patients.factories import a_patient

    patient = a_patient(db)
    make_user(db, "nurse")
    make_user(db, "admin")
    db.commit()
    login(client, "nurse")
    client.get(f"/patients/{patient.id}")
    client.cookies.clear()
    login(client, "admin")
    page = client.get(f"/admin/patients/{patient.id}/access").text
    assert "patient.chart" in page and "nurse" in page
