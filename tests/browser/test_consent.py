"""A patient signs a consent in the portal by drawing on the signature pad, and the
session that was blocked without it may start."""

from __future__ import annotations

import re

import pytest

from ketaclinic.consent import service as consent
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.db import make_engine, make_session_factory, transaction
from ketaclinic.platform.settings import Settings
from tests.browser.conftest import DEMO_PASSWORD, log_in
from tests.browser.test_sessions import _iv_patient, _type_vitals

pytestmark = pytest.mark.browser


def _new_version_and_account(settings: Settings, patient_id: int) -> None:
    """The clinic publishes version 2 of its off-label consent; the patient gets a portal
    account (set-up, as the admin would do it)."""
    engine = make_engine(settings.effective_database_url)
    with transaction(make_session_factory(engine)) as db:
        admin = accounts.actor_for(accounts.get_user(db, username="admin"))
        current = consent.current_documents(db)["off_label_ketamine"]
        consent.publish_document(
            db,
            actor=admin,
            kind="off_label_ketamine",
            title=current.title,
            body=current.body + "\n\nVersion 2: the clinic now records every session's lot.",
        )
        accounts.create_user(
            db,
            actor=admin,
            username="patient.browser",
            full_name="Browser Patient",
            password=DEMO_PASSWORD,
            roles=["patient"],
            patient_id=patient_id,
        )
    engine.dispose()


def draw_signature(page) -> None:  # type: ignore[no-untyped-def]
    """A zigzag on the signature pad, as a finger or mouse would draw it."""
    pad = page.locator("#signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(
            box["x"] + 20 + step * 25, box["y"] + box["height"] * (0.3 if step % 2 else 0.7)
        )
    page.mouse.up()
    assert page.locator("#signature-data").input_value().startswith("data:image/png;base64,")


def sign_consents_at_the_clinic(  # type: ignore[no-untyped-def]
    page, live_server: str, patient_id: int, name: str, kinds: tuple[str, ...]
) -> None:
    """The patient signs, on the staff member's screen, each of these documents (none
    of them asks for a witness)."""
    for kind in kinds:
        page.goto(f"{live_server}/patients/{patient_id}/consents")
        row = page.locator(f'tr[data-kind="{kind}"]')
        row.get_by_role("link", name=re.compile(r"^Sign version \d+$")).click()
        page.get_by_label("Your full name").fill(name)
        draw_signature(page)
        page.get_by_role("button", name="I have read this and I sign").click()
        page.wait_for_load_state()
        assert re.search(rf"/patients/{patient_id}/consents$", page.url), page.locator(
            "main"
        ).inner_text()[:600]
        assert "signed v" in page.locator(f'tr[data-kind="{kind}"]').inner_text()


def test_a_patient_signs_on_the_portal_and_the_blocked_session_may_start(
    live_server: str,
    page,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    patient_id = _iv_patient(settings)
    _new_version_and_account(settings, patient_id)

    log_in(page, live_server, "nurse.okafor")
    page.goto(f"{live_server}/patients/{patient_id}")
    page.get_by_role("button", name="Start a walk-in session (current signed order)").click()
    page.wait_for_url(re.compile(r"/sessions/\d+$"))
    session_url = page.url
    for label in ("Identity confirmed", "Consent on file", "Fasting", "Ride home arranged"):
        page.get_by_label(label, exact=True).check()
    if page.get_by_label("Pregnancy test").count():
        page.get_by_label("Pregnancy test").select_option("negative")
    page.get_by_role("button", name="Save checklist").click()
    _type_vitals(page, "72", "124", "80", "98", "14")
    item = page.locator('li[data-item="consent_off_label_ketamine"]')
    assert "unmet" in (item.get_attribute("class") or "")
    assert "signed v1, current v2" in item.inner_text()
    assert page.get_by_role("button", name="Start infusion").is_disabled()
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server, "patient.browser")
    page.goto(f"{live_server}/portal/consents")
    page.get_by_role("link", name="Sign version 2").click()
    page.get_by_label("Your full name").fill("Browser Patient")
    draw_signature(page)
    page.get_by_role("button", name="I have read this and I sign").click()
    page.wait_for_url(re.compile(r"/portal/consents\?signed=1$"))
    assert "signed v2" in page.locator('tr[data-kind="off_label_ketamine"]').inner_text()
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server, "nurse.okafor")
    page.goto(session_url)
    item = page.locator('li[data-item="consent_off_label_ketamine"]')
    assert "unmet" not in (item.get_attribute("class") or "")
    page.get_by_role("button", name="Start infusion").click()
    assert page.locator("#pump-state").inner_text() == "running"
