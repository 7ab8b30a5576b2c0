"""A patient fills a PHQ-9 from a link with item 9 positive and sees crisis resources;
the nurse's screen shows the alert; a prescriber acknowledges it with the action taken."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ketaclinic.outcomes import service
from ketaclinic.outcomes.models import SuicidalityAlert
from ketaclinic.outcomes.service import outbox
from ketaclinic.patients.models import Patient
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.db import make_engine, make_session_factory, transaction, utcnow
from ketaclinic.platform.settings import Settings
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def _link_for_a_patient(settings: Settings) -> tuple[str, str]:
    """A nurse asks a demo patient without alerts for a PHQ-9; the outbox delivers it."""
    engine = make_engine(settings.effective_database_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            alerted = set(db.scalars(select(SuicidalityAlert.patient_id)))
            patient = next(
                p
                for p in db.scalars(select(Patient).order_by(Patient.id))
                if p.id not in alerted and p.email
            )
            nurse = accounts.actor_for(accounts.get_user(db, username="nurse.okafor"))
            service.request_questionnaire(
                db, actor=nurse, patient_id=patient.id, instrument_id="phq9"
            )
            transport = outbox.MemoryTransport()
            outbox.deliver_pending(db, now=utcnow(), transport=transport)
            body = next(m["body"] for m in transport.sent if m["to"] == patient.email)
            match = re.search(r"/q/([A-Za-z0-9_\-]+)", body)
            assert match is not None
            return match.group(1), patient.display_name
    finally:
        engine.dispose()


def test_a_positive_item_9_reaches_the_care_team_and_is_acknowledged(
    live_server: str, page, browser, settings: Settings
) -> None:
    token, name = _link_for_a_patient(settings)

    page.goto(f"{live_server}/q/{token}")
    questions = page.locator("fieldset.q-item")
    assert questions.count() == 9
    for n in range(1, 9):
        page.locator(f"#q-item{n}").get_by_label("Several days").check()
    page.locator("#q-item9").get_by_label("More than half the days").check()
    page.get_by_role("button", name="Submit answers").click()
    crisis = page.get_by_role("alert")
    assert "988" in crisis.inner_text() and "911" in crisis.inner_text()

    nurse = browser.new_context().new_page()
    log_in(nurse, live_server, "nurse.okafor")
    # A banner this tab has not announced yet is put back into its status region just
    # after load (platform/static/js/app.js), so it is read out once.
    nurse.wait_for_selector("#banners[data-announced]")
    assert "open suicidality alert" in nurse.locator("#banners").inner_text()
    nurse.locator("#banners a").first.click()
    assert nurse.get_by_role("article", name=f"Alert for {name}").is_visible()

    doctor = browser.new_context().new_page()
    log_in(doctor, live_server, "dr.rivera")
    doctor.goto(f"{live_server}/outcomes/alerts")
    alert = doctor.get_by_role("article", name=f"Alert for {name}")
    alert.get_by_label("Crisis line given").check()
    alert.get_by_label("Note (required for other)").fill("Called the patient; gave 988.")
    alert.get_by_role("button", name="Acknowledge").click()
    doctor.wait_for_url(f"{live_server}/outcomes/alerts")
    assert doctor.get_by_role("article", name=f"Alert for {name}").count() == 0
    done = doctor.locator("table").filter(has_text=name)
    assert "Crisis line given" in done.inner_text()


def test_a_tablet_handed_to_a_patient_reaches_only_the_questionnaire(
    live_server: str, page, settings: Settings
) -> None:
    engine = make_engine(settings.effective_database_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            patient_id = db.scalars(select(Patient.id).order_by(Patient.id)).first()
    finally:
        engine.dispose()
    log_in(page, live_server, "nurse.okafor")
    page.goto(f"{live_server}/patients/{patient_id}/outcomes")
    page.get_by_label("Hand the tablet to the patient").select_option(value="gad7")
    page.get_by_role("button", name="Start on this tablet").click()
    page.wait_for_url(re.compile(r".*/q/[A-Za-z0-9_\-]+$"))
    form_url = page.url
    # The patient types the chart's address: the tablet stays on the questionnaire.
    page.goto(f"{live_server}/patients/{patient_id}")
    assert page.url == form_url
    assert page.get_by_role("button", name="Log out").count() == 0
    for n in range(1, 8):
        page.locator(f"#q-item{n}").get_by_label("Not at all").check()
    page.get_by_role("button", name="Submit answers").click()
    page.get_by_role("link", name="Staff: log in again").click()
    page.wait_for_url(f"{live_server}/login*")
    chart = page.goto(f"{live_server}/patients/{patient_id}")
    assert chart is not None and chart.status == 401  # the nurse's session ended at hand-over
    assert page.get_by_role("button", name="Log out").count() == 0
