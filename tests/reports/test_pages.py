"""Report pages and downloads over HTTP: the printable note's letterhead and date of
birth without the clinic-wide banners, the PDF downloads for their roles only, the
chart's links, the portal's own report, the researcher's page and audited export."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic import demo
from ketaclinic.care.models import CareTeamMember
from ketaclinic.patients.models import Patient
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.settings import get_settings
from ketaclinic.sessions.models import InfusionSession, MonitoringRecord
from tests.conftest import login
from tests.reports.conftest import pdf_text

Login = Callable[[str], TestClient]


@pytest.fixture
def as_user(app: FastAPI) -> Iterator[Login]:
    """A client of its own for each demo account logged in."""
    opened: list[TestClient] = []

    def log_in(username: str) -> TestClient:
        client = TestClient(app)
        client.__enter__()
        opened.append(client)
        login(client, username, demo.PASSWORD)
        return client

    yield log_in
    for client in opened:
        client.__exit__(None, None, None)


def _signed(db: Session) -> InfusionSession:
    return db.scalars(
        select(InfusionSession)
        .where(InfusionSession.status == "cosigned")
        .order_by(InfusionSession.id)
    ).first()


def test_the_printable_note_has_the_letterhead_and_birth_date_and_no_banner(
    as_user: Login, db: Session
) -> None:
    row = _signed(db)
    patient = db.get(Patient, row.patient_id)
    client = as_user("dr.rivera")
    session_page = client.get(f"/sessions/{row.id}")
    assert 'id="banners"' in session_page.text  # the clinic-wide banners, on other pages
    assert f"/reports/sessions/{row.id}/note.pdf" in session_page.text
    note = client.get(f"/sessions/{row.id}/note")
    assert note.status_code == 200
    assert 'id="banners"' not in note.text
    assert 'id="letterhead"' in note.text and get_settings().billing_address in note.text
    assert patient.date_of_birth.isoformat() in note.text and patient.mrn in note.text


def test_the_pdfs_download_for_the_clinicians_and_no_one_else(as_user: Login, db: Session) -> None:
    row = _signed(db)
    record = db.scalars(select(MonitoringRecord).order_by(MonitoringRecord.id)).first()
    urls = [
        f"/reports/sessions/{row.id}/note.pdf",
        f"/reports/sessions/{record.session_id}/rems.pdf",
        f"/reports/patients/{row.patient_id}/progress.pdf?for=patient",
    ]
    client = as_user("research.patel")
    for url in urls:
        assert client.get(url).status_code == 403
    client = as_user("nurse.okafor")
    for url in urls:
        got = client.get(url)
        assert got.status_code == 200, url
        assert got.headers["content-type"] == "application/pdf"
        assert got.content.startswith(b"%PDF-")
    assert client.get("/reports/sessions/999999/note.pdf").status_code == 404
    iv = db.scalars(select(InfusionSession).where(InfusionSession.route == "iv")).first()
    missing = client.get(f"/reports/sessions/{iv.id}/rems.pdf")
    assert missing.status_code == 404


def test_the_chart_links_each_report_and_the_referring_clinicians_copy(
    as_user: Login, db: Session
) -> None:
    member = db.scalars(
        select(CareTeamMember).where(CareTeamMember.role == "referring").order_by(CareTeamMember.id)
    ).first()
    client = as_user("dr.rivera")
    chart = client.get(f"/patients/{member.patient_id}")
    assert 'id="chart-reports"' in chart.text
    link = (
        f"/reports/patients/{member.patient_id}/progress.pdf?for=referring&amp;member={member.id}"
    )
    assert link in chart.text and member.name in chart.text
    pdf = client.get(link.replace("&amp;", "&"))
    assert f"Prepared for {member.name}" in pdf_text(pdf.content)


def test_a_patient_downloads_their_own_progress_report_in_the_portal(
    as_user: Login, db: Session
) -> None:
    client = as_user("patient.lucas")
    got = client.get("/portal/progress-report.pdf")
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    assert "Your progress report" in pdf_text(got.content)
    assert client.get("/reports/patients/1/progress.pdf?for=patient").status_code == 403


def test_the_clinic_report_refuses_a_period_that_ends_before_it_starts(
    as_user: Login, db: Session
) -> None:
    client = as_user("dr.chen")
    form = client.get("/reports/clinic")
    assert form.status_code == 200 and 'action="/reports/clinic.pdf"' in form.text
    bad = client.get("/reports/clinic.pdf?start=2026-05-01&end=2026-04-01")
    assert bad.status_code == 422
    garbled = client.get("/reports/clinic.pdf?start=yesterday")
    assert garbled.status_code == 422
    ok = client.get("/reports/clinic.pdf?start=2026-01-01&end=2026-12-31")
    assert ok.status_code == 200 and "Clinic outcomes and safety report" in pdf_text(ok.content)


def test_the_researcher_sees_suppressed_tables_and_takes_an_audited_export(
    as_user: Login, db: Session
) -> None:
    client = as_user("research.patel")
    page = client.get("/reports/research")
    assert page.status_code == 200
    assert "&lt;11" in page.text and "CMS" in page.text
    got = client.get("/reports/research/export.zip")
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(got.content)) as zf:
        assert "sessions.parquet" in zf.namelist()
    db.commit()  # end this session's snapshot, keeping the app's writes
    audited = db.scalars(select(AuditEvent).where(AuditEvent.action == "research.export")).all()
    assert len(audited) == 1 and audited[0].actor == "research.patel"
    assert "de-identified" in (audited[0].detail or "")
    client = as_user("dr.chen")
    assert client.get("/reports/research/export.zip").status_code == 403


def test_the_researchers_home_cohort_shows_small_cells_suppressed(
    as_user: Login, db: Session
) -> None:
    home = as_user("research.patel").get("/")
    cohort = home.text.split('id="cohort"', 1)[1].split("</section>", 1)[0]
    cells = [c.split("</td>", 1)[0] for c in cohort.split("<td>")[1:]][1::2]
    assert cells and all(c == "&lt;11" or int(c) >= 11 or c == "0" for c in cells)
    assert "&lt;11" in cohort
