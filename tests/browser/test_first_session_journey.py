"""One patient from intake to a discharged, signed first infusion, each step done by the
role that owns it, and each role refused what it does not own."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from ketaclinic.patients.models import Patient
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.db import make_engine, make_session_factory
from ketaclinic.platform.settings import Settings
from ketaclinic.scheduling.models import StaffAvailability
from tests.browser.conftest import DEMO_PASSWORD, log_in
from tests.browser.test_consent import sign_consents_at_the_clinic
from tests.browser.test_sessions import _chart_assessments, _later, _type_vitals

# Every page of the journey is checked with axe-core as the browser leaves it.
pytestmark = [pytest.mark.browser, pytest.mark.axe]
NEW_PATIENT = 36  # the demo (seed 7) leaves its last patient without an intake


def _nurse_on_duty_now(settings: Settings) -> str:
    """Put nurse Okafor on duty around now, whatever the hour the test runs; returns the
    patient's family name."""
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine)() as db:
        nurse = db.scalars(select(User).where(User.username == "nurse.okafor")).one()
        now = datetime.now(UTC)
        db.add(
            StaffAvailability(
                user_id=nurse.id,
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(hours=4),
                created_by="test",
            )
        )
        family = db.get_one(Patient, NEW_PATIENT).family_name
        db.commit()
    engine.dispose()
    return family


def _log_out(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Log out").click()


def test_a_patient_goes_from_intake_to_a_signed_first_session(
    live_server: str, page, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    family = _nurse_on_duty_now(settings)

    # Nurse: intake. She cannot decide candidacy.
    log_in(page, live_server, "nurse.okafor")
    page.goto(f"{live_server}/patients/{NEW_PATIENT}/intake/new")
    radios = page.locator('input[type="radio"][value="no"]')
    for i in range(radios.count()):
        radios.nth(i).check()
    page.locator('input[name="finding.treatment_resistant_depression"][value="yes"]').check()
    page.get_by_label(re.compile("How many antidepressants")).fill("2")
    page.get_by_label("Weight (kg)").fill("70")
    page.get_by_label("Height (cm)").fill("170")
    # The measured blood pressure is screened against its own gate (Spravato PI §2).
    page.get_by_label("Blood pressure, systolic (mmHg)").fill("122")
    page.get_by_label("Blood pressure, diastolic (mmHg)").fill("76")
    page.get_by_role("button", name="Record the intake").click()
    page.wait_for_url(re.compile(rf"/patients/{NEW_PATIENT}/candidacy"))
    assert page.get_by_role("button", name=re.compile("Confirm")).count() == 0
    refused = page.request.post(f"{live_server}/patients/{NEW_PATIENT}/candidacy/decision")
    assert refused.status == 403
    _log_out(page)

    # Prescriber: confirms, opens the course, signs the order.
    log_in(page, live_server, "dr.rivera")
    page.goto(f"{live_server}/patients/{NEW_PATIENT}/candidacy")
    page.get_by_role("button", name=re.compile("Confirm")).click()
    page.goto(f"{live_server}/patients/{NEW_PATIENT}/courses/new")
    page.get_by_label("Protocol", exact=True).select_option("iv_ketamine")
    page.get_by_role("button", name="Open the course").click()
    page.wait_for_url(re.compile(r"/courses/\d+$"))
    page.get_by_label("Drug concentration (mg/mL), as stocked by the clinic").fill("10")
    page.get_by_role("button", name="Save the draft").click()
    page.wait_for_url(re.compile(r"/orders/\d+$"))
    order_url = page.url
    assert "35.0 mg" in page.locator("main").inner_text()  # 0.5 mg/kg x 70 kg
    # Signing asks for the prescriber's password again and says what it means.
    assert "I authored and approved this order" in page.locator("main").inner_text()
    page.get_by_label("Your password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign the order").click()
    page.wait_for_url(order_url)
    assert "authored and approved this order" in page.locator("main").inner_text()
    _log_out(page)

    # Front desk: books session 1 in a chair with the nurse; cannot read the order.
    log_in(page, live_server, "desk.baker")
    assert page.request.get(order_url).status == 403
    soon = datetime.now(settings.zone) + timedelta(minutes=5)
    soon += timedelta(minutes=-soon.minute % 5)  # the form books in 5-minute steps
    start = soon.strftime("%Y-%m-%dT%H:%M")
    page.goto(f"{live_server}/schedule/book")
    page.get_by_label("Patient name or MRN").fill(family)
    page.get_by_role("button", name="Find the patient").click()
    page.get_by_role("link", name="Book for").first.click()
    page.get_by_label("Kind").select_option("infusion")
    page.get_by_label("Starts (clinic time)").fill(start)
    planned = page.get_by_label("Planned session of the course")
    first = planned.locator("option", has_text="Session 1").first.get_attribute("value")
    planned.select_option(first)
    page.get_by_label("Chair").select_option(label="Chair 3")
    page.get_by_label("Nurse").select_option(label="Ada Okafor, RN")
    with page.expect_navigation():
        page.get_by_role("button", name="Book", exact=True).click()
    assert "/schedule?day=" in page.url, page.get_by_role("alert").all_inner_texts()
    # At the desk the patient reads and signs the clinic's consents (off-label use,
    # financial policy) on the screen: the session checklist asks for them.
    sign_consents_at_the_clinic(
        page, live_server, NEW_PATIENT, family, ("off_label_ketamine", "financial_policy")
    )
    _log_out(page)

    # Nurse: runs the infusion from today's list to discharge and signs the note.
    log_in(page, live_server, "nurse.okafor")
    page.goto(f"{live_server}/sessions/today")
    page.locator("tr", has_text=family).get_by_role("button", name="Start session").click()
    page.wait_for_url(re.compile(r"/sessions/\d+$"))
    session_url = page.url
    for label in ("Identity confirmed", "Consent on file", "Fasting", "Ride home arranged"):
        page.get_by_label(label, exact=True).check()
    if page.get_by_label("Pregnancy test").count():
        page.get_by_label("Pregnancy test").select_option("negative")
    page.get_by_role("button", name="Save checklist").click()
    _type_vitals(page, "70", "122", "78", "98", "14")
    page.get_by_role("button", name="Start infusion").click()
    assert page.locator("#pump-state").inner_text() == "running"
    _type_vitals(page, "84", "136", "86", "97", "15")
    page.get_by_label("Stop: reason").fill("infusion complete")
    page.get_by_role("button", name="Stop infusion").click()
    _later(monkeypatch, 75)
    _type_vitals(page, "74", "126", "80", "98", "14")
    _chart_assessments(page)
    # The nurse answers for the escort and the no-driving instruction (Spravato PI).
    page.locator('input[name="escort_recorded"][value="yes"]').check()
    page.locator('input[name="no_driving_instruction_given"][value="yes"]').check()
    page.get_by_role("button", name="Discharge").click()
    assert page.locator("#session-status").inner_text() == "discharged"
    page.locator("#sign-password").fill("not-the-password")
    page.get_by_role("button", name="Sign session note").click()
    assert "the password is not right" in page.locator("#form-error").inner_text()
    page.locator("#sign-password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign session note").click()
    assert page.get_by_role("button", name="Co-sign note").count() == 0
    _log_out(page)

    # Prescriber co-signs; front desk and researchers never see the session.
    log_in(page, live_server, "dr.rivera")
    page.goto(session_url)
    page.locator("#cosign-password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Co-sign note").click()
    assert page.get_by_role("button", name="Co-sign note").count() == 0
    _log_out(page)
    for username in ("desk.baker", "research.patel"):
        log_in(page, live_server, username)
        assert page.request.get(session_url).status == 403
        _log_out(page)
