from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.candidacy.factories import cleared_patient
from tests.conftest import PASSWORD, login, make_user
from tests.forms import marked, unmarked
from tests.orders.factories import a_weighed_patient
from tests.patients.factories import a_patient


def test_the_course_form_names_why_a_patient_is_not_cleared(
    client: TestClient, db: Session
) -> None:
    patient = a_patient(db)
    make_user(db, "prescriber")
    db.commit()
    login(client, "prescriber")
    page = client.get(f"/patients/{patient.id}/courses/new")
    assert "Not cleared for a course" in page.text and "No intake has been recorded" in page.text


def test_a_prescriber_opens_a_course_previews_the_arithmetic_and_signs(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    patient = a_weighed_patient(db, weight=80)
    cleared_patient(db, patient.id)
    make_user(db, "prescriber")
    db.commit()
    csrf = login(client, "prescriber")
    opened = client.post(
        f"/patients/{patient.id}/courses",
        data={
            "csrf_token": csrf,
            "protocol_id": "iv_ketamine",
            "indication": "treatment_resistant_depression",
        },
        follow_redirects=False,
    )
    assert opened.status_code == 303, opened.text
    course_url = opened.headers["location"]
    fields = {
        "csrf_token": csrf,
        "dose_mg_per_kg": "0.5",
        "concentration_mg_per_ml": "10",
        "bag_volume_ml": "100",
    }
    preview = client.post(f"{course_url}/orders", data={**fields, "action": "preview"})
    assert preview.status_code == 200
    assert "156 mL/h" in preview.text or "156.0 mL/h" in preview.text
    assert "Pump rate = 104" in preview.text
    bad = client.post(
        f"{course_url}/orders", data={**fields, "dose_mg_per_kg": "1.5", "action": "draft"}
    )
    assert bad.status_code == 422 and 'id="e-dose_mg_per_kg"' in bad.text
    assert 'value="1.5"' in bad.text
    override = client.post(
        f"{course_url}/orders",
        data={
            **fields,
            "override_field": "max_dose_mg",
            "override_value": "120",
            "override_reason": "short",
            "action": "draft",
        },
    )
    assert override.status_code == 422 and 'id="e-override_reason"' in override.text
    drafted = client.post(
        f"{course_url}/orders", data={**fields, "action": "draft"}, follow_redirects=False
    )
    assert drafted.status_code == 303
    order_url = drafted.headers["location"]
    wrong = client.post(f"{order_url}/sign", data={"csrf_token": csrf, "password": "guess"})
    assert wrong.status_code == 422 and "the password is not right" in wrong.text
    assert 'id="e-password"' in wrong.text and "order-draft" in wrong.text
    signed = client.post(
        f"{order_url}/sign", data={"csrf_token": csrf, "password": PASSWORD}, follow_redirects=False
    )
    assert signed.status_code == 303
    page = client.get(order_url)
    assert '<span class="badge order-signed">signed</span>' in page.text
    signed_row = page.text.split("<dt>Signed</dt><dd>", 1)[1].split("</dd>", 1)[0]
    assert signed_row.startswith("Prescriber (prescriber), "), signed_row
    assert signed_row.endswith(": authored and approved this order"), signed_row
    assert "40.0 mg" in page.text
    again = client.post(f"{order_url}/sign", data={"csrf_token": csrf, "password": PASSWORD})
    assert again.status_code == 409 and "immutable" in again.text
    assert client.post(f"{order_url}/sign").status_code == 403  # no CSRF token
    # The chart section alone (the whole chart also holds other areas' sections).
    from ketaclinic.orders.pages import CHART_SECTIONS
    from tests.candidacy.factories import PRESCRIBER

    section = CHART_SECTIONS[0]
    html = app.state.templates.get_template(section.template).render(
        data=section.load(db, PRESCRIBER, patient), patient=patient
    )
    assert section.title == "Treatment plan and orders"
    assert "156.0 mL/h" in html and "signed by prescriber" in html


def test_a_refused_order_marks_the_dose_and_the_override_and_keeps_the_figures(
    client: TestClient, db: Session
) -> None:
    patient = a_weighed_patient(db, weight=80)
    cleared_patient(db, patient.id)
    make_user(db, "prescriber")
    db.commit()
    csrf = login(client, "prescriber")
    opened = client.post(
        f"/patients/{patient.id}/courses",
        data={
            "csrf_token": csrf,
            "protocol_id": "iv_ketamine",
            "indication": "treatment_resistant_depression",
        },
        follow_redirects=False,
    )
    course_url = opened.headers["location"]
    fields = {"csrf_token": csrf, "concentration_mg_per_ml": "10", "bag_volume_ml": "100"}
    too_high = client.post(
        f"{course_url}/orders", data={**fields, "dose_mg_per_kg": "1.5", "action": "draft"}
    )
    assert too_high.status_code == 422
    dose = marked(too_high.text, "dose_mg_per_kg")
    assert dose.value == "1.5" and dose.message
    assert unmarked(too_high.text, "bag_volume_ml") and 'value="100"' in too_high.text
    short_reason = client.post(
        f"{course_url}/orders",
        data={
            **fields,
            "dose_mg_per_kg": "0.5",
            "override_field": "max_dose_mg",
            "override_value": "120",
            "override_reason": "short",
            "action": "draft",
        },
    )
    reason = marked(short_reason.text, "override_reason")
    assert reason.value == "short" and reason.message
    assert 'value="max_dose_mg" selected' in short_reason.text
