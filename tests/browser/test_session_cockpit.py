"""At the chair, on a 1366x768 screen, a nurse runs an infusion from the session cockpit:
the infusion, the latest vitals with their trend, the open alarms and the entry forms
are on screen without scrolling; an alarm is raised and acknowledged there; the pump is
paused and resumed; the sections below keep the tab chosen across posts and reloads;
discharge is one click away."""

from __future__ import annotations

import re

import pytest

from ketaclinic.platform.settings import Settings
from tests.browser.conftest import log_in
from tests.browser.test_sessions import _chart_assessments, _iv_patient, _later, _type_vitals

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1366, 768


def _on_screen(page, selector: str) -> None:  # type: ignore[no-untyped-def]
    """The element is drawn inside the viewport, the page not scrolled (the page has
    loaded: a form's redirect to an anchor of the cockpit keeps the page at its top)."""
    page.wait_for_load_state()
    page.wait_for_function("() => window.scrollY === 0", timeout=2000)
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not drawn"
    assert box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT, (selector, box)
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, (selector, box)


def _no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def test_a_nurse_runs_a_session_from_the_cockpit_without_scrolling(
    live_server: str,
    page,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    patient_id = _iv_patient(settings)
    log_in(page, live_server, "nurse.okafor")
    page.goto(f"{live_server}/patients/{patient_id}")
    page.get_by_role("button", name="Start a walk-in session (current signed order)").click()
    page.wait_for_url(re.compile(r"/sessions/\d+$"))
    session_url = page.url
    # Before dosing the checklist is the open section; the protocol shows by its name.
    assert page.get_by_role("tab", name="Checklist").get_attribute("aria-selected") == "true"
    head = page.locator("#top").inner_text()
    assert "IV ketamine" in head and "iv_ketamine" not in head
    for label in ("Identity confirmed", "Consent on file", "Fasting", "Ride home arranged"):
        page.get_by_label(label, exact=True).check()
    if page.get_by_label("Pregnancy test").count():
        page.get_by_label("Pregnancy test").select_option("negative")
    page.get_by_role("button", name="Save checklist").click()
    _type_vitals(page, "72", "124", "80", "98", "14")
    page.get_by_role("button", name="Start infusion").click()
    assert page.locator("#pump-state").inner_text() == "running"

    # The cockpit at a glance: the infusion, the latest vitals and trend, the next
    # reading due and the entry forms, all inside the screen.
    for selector in ("#infusion", "#vitals", "#trend", "#vitals-form", "#entry"):
        _on_screen(page, selector)
    _no_sideways_scroll(page)
    infusion = page.locator("#infusion").inner_text()
    assert re.search(r"\d+(\.\d)? mL/h", infusion)
    assert re.search(r"\d+\.\d of \d+(\.\d+)? mg", page.locator("#mg-given").inner_text())
    assert re.search(r"^\d+ min", page.locator("#time-left").inner_text())
    assert page.get_by_role("button", name="Pause").is_visible()
    assert page.get_by_role("button", name="Stop infusion").is_visible()
    due = page.locator("#next-reading").inner_text()
    assert re.search(r"Next reading due \d\d:\d\d \(\d+ min into the infusion\)", due), due
    assert "every 10 min during dosing" in due
    assert page.locator("#latest-bp").inner_text() == "124/80"
    assert page.locator("#trend polyline").count() == 4

    # A diastolic of 112 raises an alarm: shown in the cockpit with what to do, at a
    # clock time and whole minutes.
    _type_vitals(page, "88", "162", "112", "97", "15")
    assert page.locator("#latest-bp").inner_text() == "162/112"
    _on_screen(page, "#alarms")
    alarms = page.locator("#alarms").inner_text()
    assert "Do:" in alarms
    assert re.search(r"Diastolic BP 112 mmHg at \d\d:\d\d, \d+ min into the infusion", alarms)
    assert not re.search(r"\d+\.\d+ min", alarms), alarms
    while page.locator("#alarms").count():
        _on_screen(page, "#alarms input[name=note]")
        note = page.locator("#alarms input[name=note]").first
        note.fill("rechecked after 5 min, told prescriber")
        page.locator("#alarms").get_by_role("button", name="Acknowledge").first.click()
        page.wait_for_load_state()
    assert page.locator("#no-alarms").is_visible()

    # Pause and resume from the cockpit.
    page.get_by_role("button", name="Pause").click()
    assert page.locator("#pump-state").inner_text() == "paused"
    _on_screen(page, "#infusion")
    page.get_by_role("button", name="Resume").click()
    assert page.locator("#pump-state").inner_text() == "running"

    # The sections below: a tab chosen stays chosen across a post and a reload.
    page.get_by_role("tab", name="Side effects & notes").click()
    assert page.locator("#observations").is_visible()
    assert not page.locator("#checklist").is_visible()
    page.locator("#note-text").fill("comfortable, music on")
    page.get_by_role("button", name="Add note").click()
    page.wait_for_url(re.compile(r"tab=observations"))
    assert page.locator("#observations").is_visible()
    assert "comfortable, music on" in page.locator("#observations").inner_text()
    _no_sideways_scroll(page)
    page.reload()
    assert page.locator("#observations").is_visible()
    assert page.get_by_role("tab", name="Side effects & notes").get_attribute("aria-selected") == (
        "true"
    )
    # The readings table lists what was charted, phases by their names.
    page.get_by_role("tab", name="Readings").click()
    assert page.locator("#vitals-table").is_visible()
    _no_sideways_scroll(page)
    table = page.locator("#vitals-table").inner_text()
    assert "162/112" in table and "before dosing" in table and "pre_infusion" not in table
    # A reading typed from the cockpit returns to the tab in use.
    _type_vitals(page, "80", "138", "88", "98", "14")
    assert page.locator("#vitals-table").is_visible()
    page.get_by_role("tab", name="Side effects & notes").click()
    assert page.locator("#observations").is_visible()

    # Stop, recover, discharge: the discharge tab is a click away.
    page.get_by_label("Stop: reason").fill("infusion complete")
    page.get_by_role("button", name="Stop infusion").click()
    assert page.locator("#pump-state").inner_text() == "stopped"
    _later(monkeypatch, 40)
    _type_vitals(page, "76", "132", "84", "98", "14")
    page.get_by_role("tab", name="Discharge").click()
    _chart_assessments(page)
    page.locator('input[name="escort_recorded"][value="yes"]').check()
    page.locator('input[name="no_driving_instruction_given"][value="yes"]').check()
    page.get_by_role("button", name="Discharge").click()
    assert "Discharged at" in page.locator("#discharge").inner_text()
    assert page.locator("#session-status").inner_text() == "discharged"
    assert page.url.startswith(session_url)
    _no_sideways_scroll(page)
