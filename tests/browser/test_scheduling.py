"""Front desk books a free chair, is refused a double booking with the reason shown, and
the nurse finds the visit in "My day"."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def _clinic_day_next_week() -> date:
    day = date.today() + timedelta(days=7)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _book(page, base: str, day: date, *, chair: str, patient: str, time: str) -> None:
    page.goto(f"{base}/schedule/book?day={day.isoformat()}")
    page.get_by_label("Patient name or MRN").fill(patient)
    page.get_by_role("button", name="Find the patient").click()
    page.get_by_role("link", name="Book for").first.click()
    page.get_by_label("Kind").select_option("consultation")
    page.get_by_label("Starts (clinic time)").fill(f"{day.isoformat()}T{time}")
    page.get_by_label("Chair").select_option(label=chair)
    page.get_by_label("Nurse").select_option(label="Ada Okafor, RN")
    page.get_by_role("button", name="Book", exact=True).click()


def test_front_desk_books_a_free_chair_and_a_nurse_sees_it(live_server: str, page) -> None:
    day = _clinic_day_next_week()
    log_in(page, live_server, "desk.baker")
    page.goto(f"{live_server}/patients")
    families = [
        t.split(",")[0] for t in page.locator("tbody tr td:first-child a").all_inner_texts()
    ]
    # The demo's future visits are consultations without chair or nurse: Chair 2 is free.
    _book(page, live_server, day, chair="Chair 2", patient=families[0], time="09:00")
    page.wait_for_url(f"{live_server}/schedule?day={day.isoformat()}*")
    assert page.get_by_text("09:00–10:00").is_visible()

    _book(page, live_server, day, chair="Chair 2", patient=families[1], time="09:30")
    alert = page.get_by_role("alert")
    assert "Chair 2 is already booked from 09:00 to 10:00" in alert.inner_text()

    page.context.clear_cookies()
    log_in(page, live_server, "nurse.okafor")
    page.get_by_role("link", name="My day").click()
    page.goto(f"{live_server}/schedule/my-day?day={day.isoformat()}")
    row = page.locator("tr", has_text="09:00–10:00")
    assert row.is_visible()
    assert "not confirmed" in row.inner_text()
