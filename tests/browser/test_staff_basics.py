"""A nurse finds a demo patient and opens the chart; front desk is kept out of it."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_a_nurse_searches_a_patient_and_opens_the_chart(live_server: str, page) -> None:
    log_in(page, live_server, "nurse.okafor")
    page.get_by_role("link", name="Patients").first.click()
    first_row = page.locator("tbody tr").first.locator("a").first
    family = first_row.inner_text().split(",")[0]
    page.get_by_label("Name or MRN").fill(family)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=re.compile(family)).first.click()
    assert re.search(r"/patients/\d+$", page.url)
    assert page.get_by_role("heading", name="Weight and height").is_visible()
    assert page.locator("h1").inner_text().startswith(family)


def test_front_desk_edits_demographics_but_cannot_open_the_chart(live_server: str, page) -> None:
    log_in(page, live_server, "desk.baker")
    page.get_by_role("link", name="Patients").first.click()
    link = page.locator("tbody tr").first.locator("a").first
    href = link.get_attribute("href")
    assert href and href.endswith("/edit")
    patient_path = href.removesuffix("/edit")
    response = page.goto(f"{live_server}{patient_path}")
    assert response is not None and response.status == 403
    assert "Not allowed" in page.locator("h1").inner_text()


def test_a_stranger_gets_the_login_form(live_server: str, page) -> None:
    response = page.goto(f"{live_server}/patients")
    assert response is not None and response.status == 401
    assert page.get_by_role("heading", name="Log in").is_visible()
