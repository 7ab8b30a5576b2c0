"""The plan of a new patient's course in the browser, from a fresh induction: 6 IV
infusions given (seeded through the services: giving 6 in the browser is too slow), the
patient's PHQ-9 answers in the portal showing response without remission; the
prescriber extends by 2 and then moves to maintenance on the decision screen; the
therapist, who sees only their care-team patients, writes a preparation and an
integration note; two months later two PHQ-9 answers in the portal cross the relapse
rule, and the proposed booster is accepted, booked and given.

The scores, by hand (PHQ-9, Kroenke, Spitzer, Williams 2001; the rules are the clinical
core's ``course.RULES`` and ``course.INSTRUMENTS`` rows):
- baseline 20; after the 6 infusions 9;
- response: at least 50% below baseline (``response_reduction_pct``, convention
  widely used in trials, clinical-reference section 5): 9 <= 20 x 0.5 = 10, a response;
- remission: PHQ-9 below 5 (``remission_max`` 4, the minimal band 0-4): 9 > 4, none;
- relapse: PHQ-9 10 or more on two consecutive scheduled measurements in maintenance
  (``course.relapse`` row ``phq9_back_to_moderate``): 11 then 13.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from importlib import import_module
from pkgutil import iter_modules
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.care import service as care
from ketaclinic.care.models import BoosterProposal
from ketaclinic.clinical import consent as consent_rules
from ketaclinic.consent import service as consent
from ketaclinic.consent.demo import demo_mark
from ketaclinic.orders import service as orders
from ketaclinic.orders.models import Course, PlannedSession
from ketaclinic.outcomes import service as outcomes
from ketaclinic.patients import service as patients
from ketaclinic.patients.models import Patient
from ketaclinic.patients.schemas import MeasurementIn
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.db import make_engine, make_session_factory, transaction
from ketaclinic.platform.settings import Settings
from ketaclinic.sessions import demo as sessions_demo
from ketaclinic.sessions import service as sessions
from tests.browser.conftest import DEMO_PASSWORD, log_in
from tests.browser.test_care_plan import (
    _decide,
    _give_the_booster,
    _nurse_on_duty_now,
    _therapy_note,
)
from tests.candidacy.factories import cleared_patient
from tests.patients.factories import a_patient

pytestmark = pytest.mark.browser

GIVEN, FAMILY = "Noor", "Castellanos"
NAME = f"{FAMILY}, {GIVEN}"
# Item 9 (thoughts of self-harm) at 0 in every answer: a positive item 9 opens a
# suicidality alert, another journey than this one.
PHQ9 = {
    20: [3, 3, 3, 3, 2, 2, 2, 2, 0],
    9: [2, 1, 1, 1, 1, 1, 1, 1, 0],
    11: [2, 2, 2, 1, 1, 1, 1, 1, 0],
    13: [2, 2, 2, 2, 2, 1, 1, 1, 0],
}
WORDS = ["Not at all", "Several days", "More than half the days", "Nearly every day"]
STAFF = (
    "admin",
    "desk.baker",
    "nurse.okafor",
    "nurse.lind",
    "dr.rivera",
    "dr.chen",
    "therapist.nguyen",
)


@contextmanager
def _db(settings: Settings) -> Iterator[Session]:
    engine = make_engine(settings.effective_database_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            yield db
    finally:
        engine.dispose()


def _staff(db: Session) -> dict[str, Actor]:
    return {u: accounts.actor_for(accounts.get_user(db, username=u)) for u in STAFF}


def _new_patient_on_an_iv_course(settings: Settings, now: datetime) -> tuple[int, int]:
    """A new patient (not a demo course): weighed, candidacy decided for IV, consents
    signed, an IV course of 6 planned sessions with a signed order, a care team with
    dr.rivera as the primary clinician and therapist.nguyen, and a portal account."""
    with _db(settings) as db:
        staff = _staff(db)
        nurse, dr, desk = staff["nurse.okafor"], staff["dr.rivera"], staff["desk.baker"]
        patient = a_patient(
            db,
            given_name=GIVEN,
            family_name=FAMILY,
            sex="male",
            date_of_birth=date(1979, 3, 14),
            email="noor.castellanos@example.test",
        )
        patients.add_measurement(
            db,
            actor=nurse,
            patient_id=patient.id,
            data=MeasurementIn(
                measured_on=now.date() - timedelta(days=30), weight_kg=78, height_cm=178
            ),
        )
        cleared_patient(db, patient.id, route="intravenous")
        documents = consent.current_documents(db)
        mark = "data:image/png;base64," + base64.b64encode(demo_mark()).decode()
        for kind in consent_rules.required_documents("iv_ketamine"):
            doc = documents[kind]
            consent.sign(
                db,
                actor=nurse,
                patient_id=patient.id,
                document_id=doc.id,
                text_sha256=doc.body_sha256,
                typed_name=patient.display_name,
                signature_data_url=mark,
                channel="clinic",
                witness_username="nurse.lind" if doc.needs_witness else "",
                witness_password=DEMO_PASSWORD if doc.needs_witness else "",
                now=now - timedelta(days=30),
            )
        course = orders.open_course(
            db,
            actor=dr,
            patient_id=patient.id,
            protocol_id="iv_ketamine",
            indication="treatment_resistant_depression",
            started_on=now.date() - timedelta(days=25),
        )
        draft = orders.draft_order(
            db,
            actor=dr,
            course_id=course.id,
            data=orders.OrderIn(dose_mg_per_kg=0.5, concentration_mg_per_ml=10, bag_volume_ml=100),
        )
        orders.sign_order(db, actor=dr, order_id=draft.id, password=DEMO_PASSWORD)
        for who, role, primary in (
            (dr, "prescriber", True),
            (nurse, "nurse", False),
            (staff["therapist.nguyen"], "therapist", False),
        ):
            care.add_member(
                db,
                actor=desk,
                patient_id=patient.id,
                role=role,
                user_id=who.user_id,
                primary=primary,
            )
        accounts.create_user(
            db,
            actor=staff["admin"],
            username="patient.noor",
            full_name=f"{GIVEN} {FAMILY}",
            password=DEMO_PASSWORD,
            roles=["patient"],
            patient_id=patient.id,
        )
        return patient.id, course.id


def _ask_phq9(settings: Settings, patient_id: int, context: str, at: datetime) -> None:
    """The nurse asks for a PHQ-9 at ``at``: it waits in the patient's portal."""
    with _db(settings) as db:
        outcomes.request_questionnaire(
            db,
            actor=_staff(db)["nurse.okafor"],
            patient_id=patient_id,
            instrument_id="phq9",
            context=context,
            now=at,
        )


@contextmanager
def _clock(monkeypatch: pytest.MonkeyPatch, at: datetime) -> Iterator[None]:
    """The outcomes area's clock at ``at`` (the server runs in this process), so that a
    questionnaire answered now is answered then; put back on leaving."""
    offset = at - datetime.now(UTC)
    with monkeypatch.context() as patch:
        import ketaclinic.outcomes.service as package

        names = [f"ketaclinic.outcomes.service.{i.name}" for i in iter_modules(package.__path__)]
        for name in [*names, "ketaclinic.outcomes.pages"]:
            module = import_module(name)
            if hasattr(module, "utcnow"):
                patch.setattr(module, "utcnow", lambda: datetime.now(UTC) + offset)
        yield


def _answer_in_the_portal(portal, base: str, total: int) -> None:  # type: ignore[no-untyped-def]
    portal.goto(f"{base}/my/questionnaires")
    portal.locator(".due-list a").first.click()
    for n, value in enumerate(PHQ9[total], start=1):
        portal.locator(f"#q-item{n}").get_by_label(f"{WORDS[value]} ({value})").check()
    portal.get_by_role("button", name="Submit answers").click()
    assert "988" not in portal.locator("main").inner_text()  # no crisis message
    portal.goto(f"{base}/my/questionnaires")
    assert "Nothing to fill in right now." in portal.locator(".due-list").inner_text()


def _give_sessions(
    settings: Settings, patient_id: int, course_id: int, days_ago: list[int]
) -> None:
    """Infusions given and discharged on past days, through the sessions service as the
    demo clinic charts them; each completes the course's next planned session."""
    with _db(settings) as db:
        staff = _staff(db)
        clinic = SimpleNamespace(rng=random.Random(18), staff=staff, extra={})
        today = datetime.now(UTC).date()
        for back in days_ago:
            start = datetime.combine(today - timedelta(days=back), time(14, 30), UTC)
            row = sessions.start_walk_in_session(
                db, actor=staff["nurse.okafor"], patient_id=patient_id, now=start
            )
            sessions_demo._chart(db, clinic, row, start)  # type: ignore[arg-type]
            planned = db.scalars(
                select(PlannedSession)
                .where(PlannedSession.course_id == course_id, PlannedSession.status == "planned")
                .order_by(PlannedSession.number)
            ).first()
            assert planned is not None
            orders.mark_planned_session(
                db, actor=staff["nurse.okafor"], planned_session_id=planned.id, status="completed"
            )


def _off_the_therapists_teams(settings: Settings) -> tuple[int, str]:
    """A demo patient on no care team of therapist.nguyen."""
    with _db(settings) as db:
        therapist = _staff(db)["therapist.nguyen"]
        mine = care.care_team_patient_ids(db, user_id=therapist.user_id)
        other = db.scalars(
            select(Patient).where(Patient.id.not_in(mine)).order_by(Patient.id)
        ).first()
        assert other is not None
        return other.id, other.display_name


def _accepted_booster(settings: Settings, course_id: int) -> int:
    with _db(settings) as db:
        proposal = db.scalars(
            select(BoosterProposal).where(
                BoosterProposal.course_id == course_id, BoosterProposal.status == "accepted"
            )
        ).one()
        assert proposal.source == "relapse_rule" and proposal.planned_session_id is not None
        return proposal.planned_session_id


def _book(desk, base: str, settings: Settings, patient_id: int, planned_id: int) -> None:  # type: ignore[no-untyped-def]
    """The front desk books the accepted booster now, in a chair, with the nurse."""
    soon = datetime.now(settings.zone) + timedelta(minutes=5)
    soon += timedelta(minutes=-soon.minute % 5)  # the form books in 5-minute steps
    desk.goto(f"{base}/schedule/book?patient_id={patient_id}")
    desk.get_by_label("Kind").select_option("infusion")
    desk.get_by_label("Starts (clinic time)").fill(soon.strftime("%Y-%m-%dT%H:%M"))
    desk.get_by_label("Planned session of the course").select_option(str(planned_id))
    desk.get_by_label("Chair").select_option(label="Chair 3")
    desk.get_by_label("Nurse").select_option(label="Ada Okafor, RN")
    with desk.expect_navigation():
        desk.get_by_role("button", name="Book", exact=True).click()
    assert "/schedule?day=" in desk.url, desk.get_by_role("alert").all_inner_texts()


def test_a_fresh_induction_to_maintenance_and_a_booster_from_the_relapse_rule(
    live_server: str, page, browser, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    patient_id, course_id = _new_patient_on_an_iv_course(settings, now)
    _nurse_on_duty_now(settings)
    portal = browser.new_context().new_page()
    log_in(portal, live_server, "patient.noor")

    # Baseline before the first infusion, the series, and a score after the sixth.
    _ask_phq9(settings, patient_id, "baseline", now - timedelta(days=26))
    with _clock(monkeypatch, now - timedelta(days=26)):
        _answer_in_the_portal(portal, live_server, 20)
    _give_sessions(settings, patient_id, course_id, [24, 21, 18, 15, 12, 9])
    _ask_phq9(settings, patient_id, "weekly", now - timedelta(days=8))
    with _clock(monkeypatch, now - timedelta(days=8)):
        _answer_in_the_portal(portal, live_server, 9)

    log_in(page, live_server, "dr.rivera")
    page.goto(f"{live_server}/care/courses/{course_id}/decision")
    trajectory = page.locator("#trajectory").inner_text()
    assert "6 session(s) given" in trajectory
    assert "20" in trajectory and "9" in trajectory
    rules = page.locator("#rules").inner_text()
    assert "PHQ-9 20 -> 9 (-55%); at least 50% reduction: response" in rules
    assert "9 is above the remission cut-off 4" in rules
    _decide(
        page,
        live_server,
        course_id,
        "extend",
        **{"Extend by (sessions)": "2", "Reason": "Response without remission after 6"},
    )
    _give_sessions(settings, patient_id, course_id, [6, 3])
    _decide(
        page,
        live_server,
        course_id,
        "maintenance",
        **{"Maintenance schedule": "iv_taper", "Reason": "Response holds after 8 infusions"},
    )
    page.goto(f"{live_server}/care/courses/{course_id}/decision")
    decisions = page.locator("#decisions").inner_text()
    assert "Extend the induction by 2" in decisions and "Move to maintenance" in decisions
    assert "8 session(s) given" in page.locator("#classification").inner_text()

    therapist = browser.new_context().new_page()
    log_in(therapist, live_server, "therapist.nguyen")
    therapist.goto(f"{live_server}/care/patients?q={FAMILY}")
    assert therapist.get_by_role("link", name=NAME).is_visible()
    soon = date.today() + timedelta(days=20)
    _therapy_note(therapist, live_server, patient_id, "preparation", soon, "hope")
    _therapy_note(
        therapist, live_server, patient_id, "integration", soon + timedelta(days=1), "grief"
    )
    chart = therapist.goto(f"{live_server}/patients/{patient_id}")
    assert chart is not None and chart.status == 403
    other_id, other_name = _off_the_therapists_teams(settings)
    therapist.goto(f"{live_server}/care/patients")
    assert therapist.get_by_role("link", name=other_name).count() == 0
    other = therapist.goto(f"{live_server}/care/patients/{other_id}")
    assert other is not None and other.status == 404

    # Two months later: two monthly PHQ-9 answers in the portal, 11 then 13.
    later = now + timedelta(days=60)
    for offset, total in ((0, 11), (1, 13)):
        at = later + timedelta(hours=offset)
        _ask_phq9(settings, patient_id, "monthly", at)
        with _clock(monkeypatch, at + timedelta(minutes=5)):
            _answer_in_the_portal(portal, live_server, total)

    page.goto(f"{live_server}/care/boosters")
    page.locator("#proposals").get_by_role("link", name=NAME).click()
    signal = page.locator("#signal").inner_text()
    assert "PHQ-9 back at 10 or more" in signal and "11, 13" in signal
    page.get_by_role("button", name="Accept: plan a booster").click()
    assert page.locator("#proposal-status").inner_text() == "accepted"

    desk = browser.new_context().new_page()
    log_in(desk, live_server, "desk.baker")
    _book(desk, live_server, settings, patient_id, _accepted_booster(settings, course_id))

    nurse = browser.new_context().new_page()
    log_in(nurse, live_server, "nurse.okafor")
    _give_the_booster(nurse, live_server, FAMILY, monkeypatch)

    page.goto(f"{live_server}/patients/{patient_id}/courses/{course_id}")
    rows = page.locator("table", has_text="Planned sessions").locator("tbody tr")
    assert rows.filter(has_text="booster").filter(has_text="completed").count() == 1
    with _db(settings) as db:
        course = db.get_one(Course, course_id)
        assert course.status == "active" and course.series_sessions == 8
    portal.goto(f"{live_server}/portal/plan")
    done = portal.locator("#done-sessions").inner_text()
    assert "Session 8: given" in done and "(booster): given" in done
