"""Money in the browser: a lead asks for a good-faith estimate and receives it; a patient
buys a package of 6, pays a deposit, has two sessions and receives a superbill listing
both with their codes, with the balance right; a Spravato session's 837P passes pyx12."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from ketaclinic.billing import claims, service
from ketaclinic.billing.models import Coverage
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.db import make_engine, make_session_factory, utcnow
from ketaclinic.platform.settings import Settings
from tests.billing.factories import given_session
from tests.browser.conftest import DEMO_PASSWORD, log_in
from tests.sessions.factories import iv_order, male_patient

pytestmark = pytest.mark.browser


def pdf_text(content: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)


def test_a_lead_asks_for_an_estimate_and_receives_it(live_server: str, page, browser) -> None:
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
    page.get_by_label("Your name").fill("Robin Estimate")
    page.get_by_label("Email", exact=True).fill("robin.estimate@example.org")
    page.get_by_label("By email").check()
    page.get_by_label("I agree that").check()
    page.get_by_role("button", name="Send to the clinic").click()
    page.get_by_role("link", name="ask for a good-faith estimate").click()
    page.get_by_label("Your name").fill("Robin Estimate")
    page.get_by_label("Email").fill("robin.estimate@example.org")
    page.get_by_role("button", name="Ask for my estimate").click()
    assert page.get_by_role("heading", name="Thank you: we will prepare your estimate").is_visible()
    page.get_by_role("link", name="Your good-faith estimate").click()
    link = page.url
    assert page.get_by_text("The clinic is preparing it").is_visible()

    staff = browser.new_context().new_page()
    log_in(staff, live_server, "desk.baker")
    staff.get_by_role("link", name="Billing", exact=True).click()
    row = staff.get_by_role("row").filter(has_text="Robin Estimate")
    assert "lead" in row.inner_text()  # the self-screen lead with the same email is linked
    row.get_by_role("button").click()
    assert staff.get_by_role("row").filter(has_text="Robin Estimate").count() == 0
    staff.context.close()

    page.goto(link)
    assert page.get_by_text("total expected charges").is_visible()
    href = page.get_by_role("link", name="Download your estimate (PDF)").get_attribute("href")
    answer = page.request.get(f"{live_server}{href}")
    assert answer.headers["content-type"] == "application/pdf"
    text = pdf_text(answer.body())
    assert "Good Faith Estimate" in text and "Robin Estimate" in text
    # The demo prices: consultation 450 + the series of 6 for 2,700.
    assert "$3,150.00" in text and "90792" in text


def test_a_patient_buys_a_package_pays_a_deposit_and_gets_a_superbill_of_two_sessions(
    live_server: str, page, browser, settings: Settings
) -> None:
    engine = make_engine(settings.effective_database_url)
    factory = make_session_factory(engine)
    zone = settings.zone
    first = utcnow() - timedelta(hours=6)
    second = utcnow() - timedelta(hours=3)
    with factory() as db:
        patient = male_patient(db, given_name="Pat", family_name="Package")
        order = iv_order(db, patient)
        accounts.create_user(
            db,
            actor=accounts.actor_for(
                db.scalars(select(User).where(User.username == "admin")).one()
            ),
            username="pat.package",
            full_name="Pat Package",
            password=DEMO_PASSWORD,
            roles=["patient"],
            patient_id=patient.id,
        )
        db.commit()
        pid, course_order = patient.id, order

    staff = browser.new_context().new_page()
    log_in(staff, live_server, "desk.baker")
    staff.goto(f"{live_server}/billing/patients/{pid}")
    staff.get_by_label("Package", exact=True).select_option(
        label="Series of 6 IV infusions: 6 for $2,700.00"
    )
    staff.locator("#f-bought_on").fill(f"{first.astimezone(zone).date()}")
    staff.get_by_role("button", name="Sell").click()
    staff.get_by_label("Amount ($)").first.fill("900")
    staff.get_by_label("Method").select_option("card")
    staff.get_by_label("Towards").select_option(
        label=f"Series of 6 IV infusions ({first.astimezone(zone).date()})"
    )
    staff.get_by_label("Terminal or cheque reference").fill("TERM-0042")
    staff.get_by_role("button", name="Record payment").click()
    assert staff.locator("#balance").inner_text() == "$1,800.00"

    with factory() as db:  # the two sessions are given (the sessions area's own acts)
        patient = db.get(type(patient), pid)
        given_session(db, patient, course_order, first, number=1)
        given_session(db, patient, course_order, second, number=2)
    staff.reload()
    staff.get_by_role("button", name="Charge sessions given").click()
    # 2,700 charged - 900 paid; both sessions drawn from the package.
    assert staff.locator("#balance").inner_text() == "$1,800.00"
    assert staff.locator(".packages-left").inner_text() == "4"
    staff.context.close()

    log_in(page, live_server, "pat.package")
    page.get_by_role("link", name="My bills").first.click()
    assert page.locator("#balance").inner_text() == "$1,800.00"
    href = page.locator("#superbill").get_attribute("href")
    text = pdf_text(page.request.get(f"{live_server}{href}").body())
    assert text.count("96365 x1") == 2 and text.count("J3490 x1") == 2
    assert "F33.2" in text and settings.billing_npi in text
    for moment in (first, second):
        assert f"{moment.astimezone(zone).date()}" in text
    assert "$900.00" in text  # two sessions at 450 each, both covered by the deposit
    engine.dispose()


def test_a_spravato_claim_file_from_the_account_page_passes_pyx12(
    live_server: str, page, settings: Settings
) -> None:
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine)() as db:
        pids = list(db.scalars(select(Coverage.patient_id)))
        desk = accounts.actor_for(
            db.scalars(select(User).where(User.username == "desk.baker")).one()
        )
        pid = next(
            p
            for p in pids
            if any(c.session_id for c in service.claimable(db, actor=desk, patient_id=p))
        )
    engine.dispose()
    log_in(page, live_server, "desk.baker")
    page.goto(f"{live_server}/billing/patients/{pid}")
    href = page.get_by_role("link", name="837P claim file").get_attribute("href")
    text = page.request.get(f"{live_server}{href}").text()
    assert "SV1*HC:G208" in text
    ok, ack = claims.validate(text)
    assert ok, ack
