"""The ledger in the browser: a nurse receives two lots, a session draws from one, the
rest of the vial is wasted with a second nurse signing in as witness, the end-of-day
count finds a difference, a prescriber resolves it, and the day's dispensing log PDF
lists each entry."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from ketaclinic.controlled import service
from ketaclinic.controlled.models import ControlledLot, LedgerEntry
from ketaclinic.platform.clock import clinic_today
from ketaclinic.platform.db import make_engine, make_session_factory
from ketaclinic.platform.settings import Settings
from tests.browser.conftest import DEMO_PASSWORD, log_in
from tests.browser.test_sessions import _iv_patient, _type_vitals

pytestmark = pytest.mark.browser


def _balance(settings: Settings, lot_id: int) -> int:
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine)() as db:
        balance = service.lot_by_id(db, lot_id).balance_milli // 1000
    engine.dispose()
    return balance


def _rows(settings: Settings, lot_number: str) -> tuple[int, list[LedgerEntry]]:
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine)() as db:
        lot = db.scalar(select(ControlledLot).where(ControlledLot.lot_number == lot_number))
        assert lot is not None
        entries = list(
            db.scalars(
                select(LedgerEntry).where(LedgerEntry.lot_id == lot.id).order_by(LedgerEntry.id)
            )
        )
    engine.dispose()
    return lot.id, entries


def _receive(page, base: str, lot: str, quantity: str, expires: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/controlled/receive")
    page.get_by_label("Product").select_option(
        label="Ketamine HCl 10 mg/mL, 5 mL vial (counted in vials)"
    )
    # Required fields' labels end with a star: found by their field's id.
    page.locator("#f-supplier").fill("Meridian Medical Supply")
    page.locator("#f-supplier_dea_number").fill("PM7654329")
    page.locator("#f-reference").fill(f"INV-{lot}")
    page.locator("#f-lot_number").fill(lot)
    page.locator("#f-expires_on").fill(expires)
    page.locator("#f-quantity").fill(quantity)
    page.get_by_role("button", name="Receive").click()
    page.wait_for_url(re.compile(r"/controlled#stock$"))
    assert f"{quantity} vials" in page.locator(f'td[data-lot="{lot}"]').inner_text()


def test_a_dose_is_drawn_from_a_lot_wasted_with_a_witness_counted_and_reconciled(
    live_server: str,
    page,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    today = clinic_today()
    log_in(page, live_server, "nurse.okafor")
    _receive(page, live_server, "BR-ONE", "4", (today + timedelta(days=90)).isoformat())
    _receive(page, live_server, "BR-TWO", "6", (today + timedelta(days=500)).isoformat())
    lot_id, _ = _rows(settings, "BR-ONE")

    patient_id = _iv_patient(settings)
    page.goto(f"{live_server}/patients/{patient_id}")
    page.get_by_role("button", name="Start a walk-in session (current signed order)").click()
    page.wait_for_url(re.compile(r"/sessions/\d+$"))
    for label in ("Identity confirmed", "Consent on file", "Fasting", "Ride home arranged"):
        page.get_by_label(label, exact=True).check()
    if page.get_by_label("Pregnancy test").count():
        page.get_by_label("Pregnancy test").select_option("negative")
    page.get_by_role("button", name="Save checklist").click()
    _type_vitals(page, "72", "124", "80", "98", "14")
    assert "the dose is drawn when dosing starts" in page.locator("body").inner_text()
    page.get_by_label("Lot", exact=True).select_option(str(lot_id))
    page.get_by_role("button", name="Start infusion").click()
    assert page.locator("#pump-state").inner_text() == "running"
    page.get_by_label("Stop: reason").fill("patient asked to stop")
    page.get_by_role("button", name="Stop infusion").click()
    assert page.locator("#pump-state").inner_text() == "stopped"

    page.goto(f"{live_server}/controlled")
    rest = page.locator("#to-waste li", has_text="BR-ONE")
    rest.get_by_role("link", name="waste with a witness").click()
    page.get_by_label("Witness's username").fill("nurse.okafor")
    page.get_by_label("Witness's password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Record the waste").click()
    assert "cannot witness your own act" in page.locator("#error-summary").inner_text()
    assert page.get_by_label("Witness's username").get_attribute("aria-invalid") == "true"
    page.get_by_label("Witness's username").fill("nurse.lind")
    page.get_by_label("Witness's password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Record the waste").click()
    page.wait_for_url(re.compile(r"/controlled#today$"))
    assert "Erik Lind, RN" in page.locator("#today-entries").inner_text()

    # End of day: one vial fewer in the safe than on the books (the dose took one or
    # two whole vials, by the patient's weight).
    on_books = _balance(settings, lot_id)
    assert on_books in (2, 3)
    page.goto(f"{live_server}/controlled/count?lot_id={lot_id}")
    page.get_by_label("Found (in the unit counted)").fill(str(on_books - 1))
    page.get_by_role("button", name="Record the count").click()
    page.wait_for_url(re.compile(r"/controlled#discrepancies$"))
    row = page.locator("#open-discrepancies tr", has_text="BR-ONE")
    assert "-1 vial" in row.inner_text()
    assert "a prescriber or an administrator resolves it" in row.inner_text()

    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server, "dr.rivera")
    page.goto(f"{live_server}/controlled")
    row = page.locator("#open-discrepancies tr", has_text="BR-ONE")
    row.get_by_label("Reason").fill("vial broken while drawing up, not logged at the time")
    row.get_by_role("button", name="Resolve").click()
    page.wait_for_url(re.compile(r"/controlled#discrepancies$"))
    assert page.locator("#open-discrepancies tr", has_text="BR-ONE").count() == 0
    assert page.locator('td[data-lot="BR-ONE"]').inner_text().startswith(f"{on_books - 1} vial")

    page.goto(f"{live_server}/controlled/logs")
    pdf_url = page.locator("#pdf-link").get_attribute("href")
    assert pdf_url is not None
    response = page.request.get(f"{live_server}{pdf_url}")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    compact = "".join(text.split())
    _, entries = _rows(settings, "BR-ONE")
    dispensed = [e for e in entries if e.kind in ("draw", "administer", "waste")]
    assert [e.kind for e in dispensed] == ["draw", "administer", "waste"]
    assert "Dispensinglog" in compact
    for entry in dispensed:
        assert f"{entry.id}{service.KIND_LABELS[entry.kind].replace(' ', '')}" in compact
    assert "BR-ONE" in compact and "ErikLind,RN" in compact
