"""In Chromium: a nurse opens a patient's chart and downloads the REMS monitoring form,
the patient downloads their own progress report from the portal; each PDF's text matches
the record."""

from __future__ import annotations

from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.outcomes.models import QuestionnaireResponse
from ketaclinic.patients.models import Patient
from ketaclinic.platform.accounts.models import User
from ketaclinic.sessions.models import InfusionSession, MonitoringRecord
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def _download(page, base: str, link) -> str:  # type: ignore[no-untyped-def]
    """Follow a link's address in the browser's own logged-in session; the PDF's text."""
    response = page.context.request.get(base + link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body.startswith(b"%PDF-")
    return " ".join(" ".join(p.extract_text() for p in PdfReader(BytesIO(body)).pages).split())


def test_the_rems_form_downloads_from_the_chart_with_the_records_answers(  # type: ignore[no-untyped-def]
    page, live_server: str, db: Session
) -> None:
    record = db.scalars(
        select(MonitoringRecord)
        .where(MonitoringRecord.filed_at.is_not(None))
        .order_by(MonitoringRecord.id)
    ).first()
    row = db.get(InfusionSession, record.session_id)
    patient = db.get(Patient, row.patient_id)
    log_in(page, live_server, "nurse.okafor")
    page.goto(f"{live_server}/patients/{patient.id}")
    links = page.locator("#chart-reports").get_by_role("link", name="REMS monitoring form")
    link = next(
        links.nth(i)
        for i in range(links.count())
        if links.nth(i).get_attribute("href") == f"/reports/sessions/{row.id}/rems.pdf"
    )
    text = _download(page, live_server, link)
    snap = record.snapshot
    assert f"First name {patient.given_name}" in text
    assert f"Birthdate (MM/DD/YYYY) {patient.date_of_birth:%m/%d/%Y}" in text
    assert f"Lot number {snap['lot_number']}" in text
    assert f"Dose administered {snap['dose_mg']:g} mg" in text
    assert f"BP prior to administration {snap['bp_before_dosing']} mmHg" in text
    assert f"Name {record.signed_by_name}" in text
    assert record.signature_meaning in text


def test_the_patient_downloads_their_progress_report_from_the_portal(  # type: ignore[no-untyped-def]
    page, live_server: str, db: Session
) -> None:
    user = db.scalars(select(User).where(User.username == "patient.lucas")).one()
    patient = db.get(Patient, user.patient_id)
    latest = db.scalars(
        select(QuestionnaireResponse)
        .where(
            QuestionnaireResponse.patient_id == patient.id,
            QuestionnaireResponse.instrument_id == "phq9",
            QuestionnaireResponse.status == "final",
        )
        .order_by(QuestionnaireResponse.completed_at.desc())
    ).first()
    log_in(page, live_server, "patient.lucas")
    link = page.get_by_role("link", name="My progress report")
    text = _download(page, live_server, link)
    assert "Your progress report" in text
    assert f"{patient.family_name}, {patient.given_name}" in text
    assert patient.date_of_birth.isoformat() in text
    assert f"Patient Health Questionnaire-9 (PHQ-9) {latest.total}" in text
    assert "Sessions given" in text and "Current plan" in text
