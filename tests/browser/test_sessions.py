"""A nurse runs an infusion session in the browser: checklist, start, vitals typed with
the keyboard, an alarm acknowledged, stop, discharge. Front desk is kept out."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from importlib import import_module
from pkgutil import iter_modules

import pytest
from sqlalchemy import select

from ketaclinic.orders.models import Course, Order
from ketaclinic.platform.db import make_engine, make_session_factory
from ketaclinic.platform.settings import Settings
from ketaclinic.sessions.models import InfusionSession
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def _iv_patient(settings: Settings) -> int:
    """A demo patient with an active IV course, a signed order and no session open."""
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine)() as db:
        busy = set(
            db.scalars(select(InfusionSession.patient_id).where(InfusionSession.status == "open"))
        )
        rows = db.scalars(
            select(Order.patient_id)
            .join(Course, Course.id == Order.course_id)
            .where(
                Order.status == "signed", Order.route == "intravenous", Course.status == "active"
            )
        ).all()
    engine.dispose()
    free = [p for p in rows if p not in busy]
    assert free, "the demo clinic has no IV patient to treat"
    return free[0]


def _later(monkeypatch: pytest.MonkeyPatch, minutes: float) -> None:
    """Move the session service's clock forward (the server runs in this process), so
    that the observation time passes without waiting for it."""
    import ketaclinic.sessions.service as package

    for info in iter_modules(package.__path__):
        module = import_module(f"ketaclinic.sessions.service.{info.name}")
        if hasattr(module, "utcnow"):
            monkeypatch.setattr(
                module, "utcnow", lambda: datetime.now(UTC) + timedelta(minutes=minutes)
            )


def _type_vitals(page, hr: str, sbp: str, dbp: str, spo2: str, rr: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("HR", exact=True).click()
    page.keyboard.type(hr)
    for value in (sbp, dbp, spo2, rr):
        page.keyboard.press("Tab")
        page.keyboard.type(value)
    page.keyboard.press("Enter")
    # A tab the nurse chose below the cockpit stays chosen (``?tab=``).
    page.wait_for_url(re.compile(r"/sessions/\d+(\?tab=\w+)?#vitals"))


def _chart_assessments(page) -> None:  # type: ignore[no-untyped-def]
    """The nurse answers MOAA/S and each Aldrete item; nothing starts pre-selected."""
    moaas = page.get_by_label("MOAA/S", exact=True)
    assert moaas.input_value() == ""
    moaas.select_option("5")
    page.get_by_role("button", name="Chart MOAA/S").click()
    for label in ("Activity", "Respiration", "Circulation", "Consciousness", "Oxygen saturation"):
        item = page.get_by_label(label, exact=True)
        assert item.input_value() == ""
        item.select_option("2")
    page.get_by_role("button", name="Chart Aldrete").click()
    assert "ALDRETE total 10" in page.locator("#scores").inner_text()


def test_a_nurse_runs_an_infusion_from_checklist_to_discharge(
    live_server: str,
    page,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    patient_id = _iv_patient(settings)
    log_in(page, live_server, "nurse.okafor")
    page.goto(f"{live_server}/patients/{patient_id}")
    page.get_by_role("button", name="Start a walk-in session (current signed order)").click()
    page.wait_for_url(re.compile(r"/sessions/\d+$"))
    session_url = page.url
    assert page.get_by_role("button", name="Start infusion").is_disabled()

    for label in ("Identity confirmed", "Consent on file", "Fasting", "Ride home arranged"):
        page.get_by_label(label, exact=True).check()
    if page.get_by_label("Pregnancy test").count():
        page.get_by_label("Pregnancy test").select_option("negative")
    page.get_by_role("button", name="Save checklist").click()
    _type_vitals(page, "72", "124", "80", "98", "14")
    page.get_by_role("button", name="Start infusion").click()
    assert page.locator("#pump-state").inner_text() == "running"

    _type_vitals(page, "96", "200", "120", "97", "16")
    alarms = page.locator("#alarms")
    assert alarms.is_visible()
    assert "Stop the infusion" in alarms.inner_text()
    while page.locator("#alarms").count():
        box = page.locator("#alarms input[name=note]").first
        box.fill("infusion stopped, BP rechecked, prescriber told")
        page.locator("#alarms").get_by_role("button", name="Acknowledge").first.click()
        page.wait_for_load_state()
    page.get_by_label("Stop: reason").fill("BP 200/120")
    page.get_by_role("button", name="Stop infusion").click()
    assert page.locator("#pump-state").inner_text() == "stopped"

    # In recovery, a symptom from the declared list escalates at once (its form is
    # under the cockpit, in the side effects tab).
    page.get_by_role("tab", name="Side effects & notes").click()
    page.get_by_label("Symptom that escalates at once").select_option("chest_pain")
    page.get_by_label("Symptom note").fill("central, pressing")
    page.get_by_role("button", name="Chart symptom").click()
    page.wait_for_url(re.compile(r"/sessions/\d+\?tab=observations#alarms"))
    assert "Chest pain charted at" in page.locator("#alarms").inner_text()
    assert "Waiting for prescriber" in page.locator("#prescriber-calls").inner_text()
    page.locator("#alarms input[name=note]").first.fill("ECG done, prescriber on the way")
    page.locator("#alarms").get_by_role("button", name="Acknowledge").first.click()
    page.wait_for_load_state()

    _later(monkeypatch, 40)
    _type_vitals(page, "76", "132", "84", "98", "14")
    page.get_by_role("tab", name="Discharge").click()
    _chart_assessments(page)
    # The nurse answers for the escort and the no-driving instruction (Spravato PI).
    page.locator('input[name="escort_recorded"][value="yes"]').check()
    page.locator('input[name="no_driving_instruction_given"][value="yes"]').check()
    page.get_by_role("button", name="Discharge").click()
    assert "Discharged at" in page.locator("#discharge").inner_text()
    assert page.locator("#session-status").inner_text() == "discharged"

    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server, "desk.baker")
    response = page.goto(session_url)
    assert response is not None and response.status == 403
