"""The plan around a course in the browser: the prescriber extends the induction by 2
and then moves to maintenance (each decision a draft order to sign); the therapist, who
sees only the patients on their care teams, writes a preparation and an integration
note; two PHQ-9 answers cross the relapse rule, the prescriber accepts the proposed
booster, the front desk books it, a nurse gives it to discharge, and the course page and
the patient's portal plan show the booster given."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from ketaclinic.care.models import CareTeamMember, CourseDecision
from ketaclinic.orders.models import Course, Order
from ketaclinic.outcomes import service as outcomes
from ketaclinic.patients.models import Patient
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.db import make_engine, make_session_factory, transaction, utcnow
from ketaclinic.platform.settings import Settings
from ketaclinic.scheduling.models import StaffAvailability
from tests.browser.conftest import DEMO_PASSWORD, log_in
from tests.browser.test_consent import sign_consents_at_the_clinic
from tests.browser.test_sessions import _chart_assessments, _later, _type_vitals

pytestmark = pytest.mark.browser
# Item 9 (thoughts of self-harm) at 0: an answer there opens a suicidality alert that a
# clinician reviews before discharge, another journey than this one.
PHQ9 = {11: [2, 2, 2, 1, 1, 1, 1, 1, 0], 13: [2, 2, 2, 2, 2, 1, 1, 1, 0]}


def _course_on_the_therapists_team(settings: Settings) -> tuple[int, int, str]:
    """An active course with a signed order and no decision yet, of a patient on
    therapist.nguyen's care team."""
    engine = make_engine(settings.effective_database_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            therapist = db.scalar(select(User.id).where(User.username == "therapist.nguyen"))
            team = set(
                db.scalars(
                    select(CareTeamMember.patient_id).where(
                        CareTeamMember.user_id == therapist, CareTeamMember.ended_at.is_(None)
                    )
                )
            )
            decided = set(db.scalars(select(CourseDecision.course_id)))
            for course in db.scalars(select(Course).where(Course.status == "active")):
                orders = list(db.scalars(select(Order).where(Order.course_id == course.id)))
                if (
                    course.patient_id in team
                    and course.id not in decided
                    and course.protocol_id == "iv_ketamine"
                    and any(o.status == "signed" for o in orders)
                    and not any(o.status == "draft" for o in orders)
                ):
                    patient = db.get(Patient, course.patient_id)
                    assert patient is not None
                    return course.patient_id, course.id, patient.display_name
    finally:
        engine.dispose()
    raise AssertionError("the demo has no course for this journey")


def _nurse_on_duty_now(settings: Settings) -> None:
    """Nurse Okafor on duty around now, whatever the hour the test runs."""
    engine = make_engine(settings.effective_database_url)
    try:
        with transaction(make_session_factory(engine)) as db:
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
    finally:
        engine.dispose()


def _family_name(settings: Settings, patient_id: int) -> str:
    engine = make_engine(settings.effective_database_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            return db.get_one(Patient, patient_id).family_name
    finally:
        engine.dispose()


def _book_the_booster(page, base: str, settings: Settings, patient_id: int) -> None:
    """The front desk books the planned booster now, in a chair, with the nurse."""
    soon = datetime.now(settings.zone) + timedelta(minutes=5)
    soon += timedelta(minutes=-soon.minute % 5)  # the form books in 5-minute steps
    page.goto(f"{base}/schedule/book?patient_id={patient_id}")
    page.get_by_label("Kind").select_option("infusion")
    page.get_by_label("Starts (clinic time)").fill(soon.strftime("%Y-%m-%dT%H:%M"))
    planned = page.get_by_label("Planned session of the course")
    booster = planned.locator("option", has_text="(booster)").first.get_attribute("value")
    assert booster
    planned.select_option(booster)
    page.get_by_label("Chair").select_option(label="Chair 3")
    page.get_by_label("Nurse").select_option(label="Ada Okafor, RN")
    with page.expect_navigation():
        page.get_by_role("button", name="Book", exact=True).click()
    assert "/schedule?day=" in page.url, page.get_by_role("alert").all_inner_texts()


def _consents_still_to_sign(page, base: str, patient_id: int) -> tuple[str, ...]:
    page.goto(f"{base}/patients/{patient_id}/consents")
    kinds = []
    for kind in ("off_label_ketamine", "financial_policy"):
        row = page.locator(f'tr[data-kind="{kind}"]')
        if row.count() and "signed v" not in row.inner_text():
            kinds.append(kind)
    return tuple(kinds)


def _give_the_booster(page, base: str, family: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The nurse runs the booked booster from today's list to discharge."""
    page.goto(f"{base}/sessions/today")
    page.locator("tr", has_text=family).get_by_role("button", name="Start session").click()
    page.wait_for_url(re.compile(r"/sessions/\d+$"))
    for label in ("Identity confirmed", "Consent on file", "Fasting", "Ride home arranged"):
        page.get_by_label(label, exact=True).check()
    if page.get_by_label("Pregnancy test").count():
        page.get_by_label("Pregnancy test").select_option("negative")
    page.get_by_role("button", name="Save checklist").click()
    _type_vitals(page, "70", "122", "78", "98", "14")
    page.get_by_role("button", name="Start infusion").click()
    assert page.locator("#pump-state").inner_text() == "running"
    _type_vitals(page, "82", "134", "84", "97", "15")
    page.get_by_label("Stop: reason").fill("infusion complete")
    page.get_by_role("button", name="Stop infusion").click()
    _later(monkeypatch, 75)
    _type_vitals(page, "74", "126", "80", "98", "14")
    _chart_assessments(page)
    page.locator('input[name="escort_recorded"][value="yes"]').check()
    page.locator('input[name="no_driving_instruction_given"][value="yes"]').check()
    assert page.get_by_role("button", name="Discharge").is_enabled(), page.locator(
        "#discharge"
    ).inner_text()
    page.get_by_role("button", name="Discharge").click()
    assert page.locator("#session-status").inner_text() == "discharged"


def _portal_account(settings: Settings, patient_id: int) -> None:
    """The patient gets a portal account (set-up, as the admin would do it)."""
    engine = make_engine(settings.effective_database_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            admin = accounts.actor_for(accounts.get_user(db, username="admin"))
            accounts.create_user(
                db,
                actor=admin,
                username="patient.plan",
                full_name="Plan Patient",
                password=DEMO_PASSWORD,
                roles=["patient"],
                patient_id=patient_id,
            )
    finally:
        engine.dispose()


def _two_phq9_answers(settings: Settings, patient_id: int) -> None:
    engine = make_engine(settings.effective_database_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            nurse = accounts.actor_for(accounts.get_user(db, username="nurse.okafor"))
            now = utcnow()
            for offset, total in ((2, 11), (1, 13)):
                outcomes.record_response(
                    db,
                    actor=nurse,
                    patient_id=patient_id,
                    instrument_id="phq9",
                    answers=PHQ9[total],
                    context="monthly",
                    completed_at=now - timedelta(seconds=offset),
                )
    finally:
        engine.dispose()


def _decide(page, base: str, course_id: int, choice: str, **fields: str) -> None:
    page.goto(f"{base}/care/courses/{course_id}/decision")
    assert page.locator("#trajectory").is_visible()
    page.locator("#f-choice").select_option(choice)
    for label, value in fields.items():
        field = page.get_by_label(label)
        if label == "Maintenance schedule":
            field.select_option(value)
        else:
            field.fill(value)
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_url(re.compile(r"/orders/\d+$"))
    page.get_by_label("Your password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign the order").click()
    assert "signed" in page.locator(".badge").first.inner_text()


def _therapy_note(page, base: str, patient_id: int, phase: str, day: date, themes: str) -> None:
    page.goto(f"{base}/care/patients/{patient_id}")
    page.get_by_label("Phase").select_option(phase)
    page.get_by_label("Therapist").select_option(label="Linh Nguyen, LMFT")
    page.get_by_label("Starts (clinic time)").fill(f"{day.isoformat()}T07:00")
    page.get_by_label("Therapy room (not for in-session support)").select_option(
        label="Therapy room 2"
    )
    page.get_by_role("button", name="Book the therapy session").click()
    page.wait_for_url(re.compile(rf"/care/patients/{patient_id}#therapy$"))
    page.locator("#therapy tbody tr").filter(has_text=phase.title()).filter(
        has_text="to write"
    ).get_by_role("link").first.click()
    page.get_by_label("Goals").fill(f"{phase} goals")
    page.get_by_label("Themes").fill(themes)
    page.get_by_role("textbox", name="Risk review").fill("No current suicidal ideation")
    page.get_by_label("Your password (signature)").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign the note").click()
    assert "authored this therapy note" in page.locator("#note").inner_text()


def test_extend_then_maintain_therapy_notes_and_a_booster_from_the_relapse_rule(
    live_server: str, page, browser, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient_id, course_id, name = _course_on_the_therapists_team(settings)
    family = _family_name(settings, patient_id)
    _nurse_on_duty_now(settings)

    log_in(page, live_server, "dr.rivera")
    _decide(
        page,
        live_server,
        course_id,
        "extend",
        **{"Extend by (sessions)": "2", "Reason": "Response without remission after 6"},
    )
    _decide(
        page,
        live_server,
        course_id,
        "maintenance",
        **{"Maintenance schedule": "iv_taper", "Reason": "Remission after the extension"},
    )
    screen = page.goto(f"{live_server}/care/courses/{course_id}/decision")
    assert screen is not None
    decisions = page.locator("#decisions").inner_text()
    assert "Extend the induction by 2" in decisions and "Move to maintenance" in decisions

    therapist = browser.new_context().new_page()
    log_in(therapist, live_server, "therapist.nguyen")
    therapist.goto(f"{live_server}/care/patients")
    assert therapist.get_by_role("link", name=name).is_visible()
    soon = date.today() + timedelta(days=20)
    _therapy_note(therapist, live_server, patient_id, "preparation", soon, "hope")
    _therapy_note(
        therapist, live_server, patient_id, "integration", soon + timedelta(days=1), "grief"
    )
    other = therapist.goto(f"{live_server}/patients/{patient_id}")
    assert other is not None and other.status == 403

    _two_phq9_answers(settings, patient_id)
    page.goto(f"{live_server}/care/boosters")
    page.locator("#proposals").get_by_role("link", name=name).click()
    assert "PHQ-9 back at 10 or more" in page.locator("#signal").inner_text()
    page.get_by_role("button", name="Accept: plan a booster").click()
    assert page.locator("#proposal-status").inner_text() == "accepted"

    desk = browser.new_context().new_page()
    log_in(desk, live_server, "desk.baker")
    desk.goto(f"{live_server}/schedule/book?patient_id={patient_id}")
    options = desk.locator("#f-planned option").all_inner_texts()
    assert any("(booster)" in o for o in options)
    _book_the_booster(desk, live_server, settings, patient_id)
    missing = _consents_still_to_sign(desk, live_server, patient_id)
    if missing:
        sign_consents_at_the_clinic(desk, live_server, patient_id, name, missing)

    nurse = browser.new_context().new_page()
    log_in(nurse, live_server, "nurse.okafor")
    _give_the_booster(nurse, live_server, family, monkeypatch)

    page.goto(f"{live_server}/patients/{patient_id}/courses/{course_id}")
    rows = page.locator("table", has_text="Planned sessions").locator("tbody tr")
    assert rows.filter(has_text="booster").filter(has_text="completed").count() == 1

    _portal_account(settings, patient_id)
    portal = browser.new_context().new_page()
    log_in(portal, live_server, "patient.plan")
    portal.goto(f"{live_server}/portal/plan")
    assert "(booster): given" in portal.locator("#done-sessions").inner_text()
