"""A stranger takes the self-screen and sends a lead; front desk finds it; a demo patient
opens the portal."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ketaclinic.platform.accounts.models import User, UserRole
from ketaclinic.platform.db import make_engine, make_session_factory
from ketaclinic.platform.settings import Settings
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_a_stranger_sends_the_self_screen_and_front_desk_sees_the_lead(
    live_server: str, page, browser
) -> None:
    page.goto(f"{live_server}/welcome")
    page.get_by_role("link", name="Is ketamine therapy right for me?").click()
    page.get_by_role(
        "group", name="Has a doctor or therapist told you that you have depression"
    ).get_by_label("Yes", exact=True).check()
    page.get_by_label("How many antidepressant medicines").fill("3")
    page.get_by_role("group", name="Are you pregnant, or could you be?").get_by_label(
        "No", exact=True
    ).check()
    page.get_by_role("button", name="See what this means").click()
    assert page.get_by_role("heading", name="Some answers need clarifying").is_visible()
    page.get_by_label("Your name").fill("Quinn Testwell")
    page.get_by_label("Phone", exact=True).fill("+1 555 777 8888")
    page.get_by_label("I agree that").check()
    page.get_by_role("button", name="Send to the clinic").click()
    # The click returns once the next page is committed, not loaded.
    page.wait_for_url("**/self-screen/sent*")
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Thank you").is_visible()

    staff = browser.new_context().new_page()
    log_in(staff, live_server, "desk.baker")
    staff.get_by_role("link", name="Intake leads").click()
    staff.get_by_role("link", name="Quinn Testwell").click()
    assert staff.get_by_role("heading", name="Quinn Testwell").is_visible()
    assert staff.get_by_text("+1 555 777 8888").is_visible()
    staff.context.close()


def test_a_demo_patient_logs_in_and_sees_the_portal(
    live_server: str, page, settings: Settings
) -> None:
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine)() as db:
        user = db.scalars(
            select(User).join(UserRole).where(UserRole.role == "patient").order_by(User.id)
        ).first()
        assert user is not None
        username, full_name = user.username, user.full_name
    engine.dispose()
    log_in(page, live_server, username)
    page.get_by_role("link", name="My portal").click()
    assert page.get_by_role("heading", name=f"My portal: {full_name}").is_visible()
    assert page.get_by_role("heading", name="My upcoming sessions").is_visible()
    assert page.get_by_role("heading", name="My weight and height").count() == 0
    assert page.get_by_text("My weight and height").is_visible()
