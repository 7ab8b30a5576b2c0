"""A nurse records an intake, a prescriber confirms the verdict, opens a course, sees
the dose arithmetic and signs; front desk is kept out of candidacy."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import DEMO_PASSWORD, log_in

pytestmark = pytest.mark.browser
# The demo clinic leaves its last patients without an intake (36 patients, seed 7).
NEW_PATIENT = 36


def test_from_intake_to_a_signed_order(live_server: str, page) -> None:
    log_in(page, live_server, "nurse.okafor")
    page.goto(f"{live_server}/patients/{NEW_PATIENT}/intake/new")
    radios = page.locator('input[type="radio"][value="no"]')
    for i in range(radios.count()):
        radios.nth(i).check()
    page.locator('input[name="finding.treatment_resistant_depression"][value="yes"]').check()
    page.get_by_label(re.compile("How many antidepressants")).fill("3")
    page.get_by_label("Current medications (one per line, with strength)").fill(
        "sertraline 100 mg\nlorazepam 0.5 mg"
    )
    page.get_by_label("Weight (kg)").fill("82")
    page.get_by_label("Height (cm)").fill("176")
    # The measured blood pressure is screened against its own gate (Spravato PI §2).
    page.get_by_label("Blood pressure, systolic (mmHg)").fill("124")
    page.get_by_label("Blood pressure, diastolic (mmHg)").fill("78")
    page.get_by_role("button", name="Record the intake").click()
    page.wait_for_url(re.compile(rf"/patients/{NEW_PATIENT}/candidacy"))
    assert "Eligible" in page.locator("#verdict h2").inner_text()
    assert page.get_by_role("button", name=re.compile("Confirm")).count() == 0
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server, "dr.rivera")
    page.goto(f"{live_server}/patients/{NEW_PATIENT}/candidacy")
    assert page.get_by_text("Benzodiazepine").first.is_visible()
    page.get_by_role("button", name=re.compile("Confirm")).click()
    assert "confirmed by dr.rivera" in page.locator("#decision").inner_text()
    page.goto(f"{live_server}/patients/{NEW_PATIENT}/courses/new")
    page.get_by_label("Protocol", exact=True).select_option("iv_ketamine")
    page.get_by_role("button", name="Open the course").click()
    page.wait_for_url(re.compile(r"/courses/\d+$"))
    page.get_by_label("Drug concentration (mg/mL), as stocked by the clinic").fill("10")
    page.get_by_role("button", name="Show the arithmetic").click()
    preview = page.locator("#preview").inner_text()
    assert "41.0 mg" in preview and "Pump rate" in preview  # 0.5 mg/kg x 82 kg
    page.get_by_role("button", name="Save the draft").click()
    page.wait_for_url(re.compile(r"/orders/\d+$"))
    page.get_by_label("Your password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign the order").click()
    assert "signed" in page.locator(".badge").first.inner_text()
    assert "dr.rivera" in page.get_by_text(re.compile("dr.rivera")).first.inner_text()


def test_front_desk_is_refused_the_candidacy_page(live_server: str, page) -> None:
    log_in(page, live_server, "desk.baker")
    response = page.goto(f"{live_server}/patients/1/candidacy")
    assert response is not None and response.status == 403
    assert "Not allowed" in page.locator("h1").inner_text()
