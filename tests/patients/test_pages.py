from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import login, make_user
from tests.forms import marked, unmarked


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
    assert "date of birth is in the future" in marked(page, "date_of_birth").message
    email = marked(page, "email")
    assert "not an email address" in email.message and email.value == "not-an-email"
    assert marked(page, "family_name").message == "this is required"
    assert 'value="Ana"' in page and unmarked(page, "given_name")


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


def _csrf(page: str) -> str:
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_the_front_desk_records_contact_preferences_and_consent_to_texts(
    client: TestClient, db: Session
) -> None:
    from sqlalchemy import select

    from ketaclinic.patients.models import Patient
    from ketaclinic.platform.audit.models import AuditEvent
    from tests.patients.factories import a_patient

    patient = a_patient(db, email="maria@example.org")
    db.commit()
    make_user(db, "front_desk")
    csrf = login(client, "frontdesk")
    page = client.get(f"/patients/{patient.id}/edit")
    assert "No consent to text messages" in page.text and "never my health information" in page.text
    # Texts without consent are refused at the field, and nothing is written.
    refused = client.post(
        f"/patients/{patient.id}/contact-preferences",
        data={"csrf_token": csrf, "contact_preference": "text"},
    )
    assert refused.status_code == 422
    assert 'aria-invalid="true" aria-describedby="cp-consent-error"' in refused.text
    db.commit()  # end this session's read (a snapshot on SQLite) keeping the app's writes
    db.expire_all()
    assert db.get(Patient, patient.id).contact_preference == "email"  # type: ignore[union-attr]
    saved = client.post(
        f"/patients/{patient.id}/contact-preferences",
        data={"csrf_token": csrf, "contact_preference": "both", "text_consent": "yes"},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"].endswith("#contact-preferences"), saved.headers
    db.commit()  # end this session's read (a snapshot on SQLite) keeping the app's writes
    db.expire_all()
    stored = db.get(Patient, patient.id)
    assert stored is not None and stored.contact_preference == "both"
    assert stored.text_consent_by == "frontdesk" and stored.text_consent_at is not None
    assert "Consent to text messages recorded" in client.get(f"/patients/{patient.id}/edit").text
    actions = db.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "patient.contact_preferences")
    ).all()
    assert actions == ["prefers both, consented to text messages"]


def test_an_edit_with_a_bad_phone_and_no_reason_marks_both_and_saves_nothing(
    client: TestClient, db: Session
) -> None:
    from tests.patients.factories import a_patient

    patient = a_patient(db)
    make_user(db, "front_desk")
    db.commit()
    csrf = login(client, "frontdesk")
    refused = client.post(
        f"/patients/{patient.id}/edit",
        data={
            "csrf_token": csrf,
            "version": str(patient.version),
            "given_name": "Maria",
            "family_name": "Lopez-Ortiz",
            "date_of_birth": "1980-05-17",
            "sex": "female",
            "email": "maria@",
            "reason": "",
        },
    )
    assert refused.status_code == 422
    assert marked(refused.text, "reason").message == "this is required"
    assert marked(refused.text, "email").value == "maria@"
    assert 'value="Lopez-Ortiz"' in refused.text  # what was typed, not the record
    chart = client.get(f"/patients/{patient.id}/edit").text
    assert 'value="Lopez"' in chart and "Lopez-Ortiz" not in chart
