"""The plan around a course in the browser: the prescriber extends the induction by 2
and then moves to maintenance (each decision a draft order to sign); the therapist, who
sees only the patients on their care teams, writes a preparation and an integration
note; two PHQ-9 answers cross the relapse rule, the prescriber accepts the proposed
booster and the front desk finds it to book."""

from __future__ import annotations

import re
from datetime import date, timedelta

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
from tests.browser.conftest import DEMO_PASSWORD, log_in

pytestmark = pytest.mark.browser
PHQ9 = {11: [2, 2, 1, 1, 1, 1, 1, 1, 1], 13: [2, 2, 2, 2, 1, 1, 1, 1, 1]}


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
    live_server: str, page, browser, settings: Settings
) -> None:
    patient_id, course_id, name = _course_on_the_therapists_team(settings)

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
