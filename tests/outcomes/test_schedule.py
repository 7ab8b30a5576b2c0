"""Which questionnaires are due when (pure scheduling rules, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ketaclinic.outcomes.service.config import DEFAULT_SCHEDULE
from ketaclinic.outcomes.service.schedule import CourseFacts, SessionTime, due_slots

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def facts(**kw: object) -> CourseFacts:
    base: dict[str, object] = {
        "course_id": 1,
        "patient_id": 9,
        "indication": "treatment_resistant_depression",
        "protocol_id": "iv_ketamine",
        "series_sessions": 6,
        "created_at": T0,
    }
    base.update(kw)
    return CourseFacts(**base)  # type: ignore[arg-type]


def due(f: CourseFacts, now: datetime) -> set[tuple[str, str]]:
    return {(s.instrument_id, s.slot.split(":", 1)[1]) for s in due_slots(DEFAULT_SCHEDULE, f, now)}


def test_baseline_questionnaires_are_due_when_the_course_opens() -> None:
    found = due(facts(), T0 + timedelta(hours=1))
    assert found == {("phq9", "baseline"), ("gad7", "baseline")}


def test_baseline_closes_when_the_first_session_starts() -> None:
    first = SessionTime(1, T0 + timedelta(days=5))
    assert ("phq9", "baseline") in due(facts(upcoming=[first]), T0 + timedelta(days=4))
    after = facts(completed=[first])
    assert ("phq9", "baseline") not in due(after, T0 + timedelta(days=5, hours=1))


def test_a_ptsd_course_also_asks_for_the_pcl5() -> None:
    found = due(facts(indication="ptsd"), T0 + timedelta(hours=1))
    assert ("pcl5", "baseline") in found


def test_pre_session_questionnaires_open_48_hours_before_a_booked_session() -> None:
    session = SessionTime(3, T0 + timedelta(days=10))
    f = facts(upcoming=[session], completed=[SessionTime(1, T0 + timedelta(days=1))])
    assert ("phq9", "pre_session:3") not in due(f, T0 + timedelta(days=7, hours=23))
    found = due(f, T0 + timedelta(days=8, hours=1))
    assert ("phq9", "pre_session:3") in found
    assert ("cssrs_screen", "pre_session:3") in found
    assert ("phq9", "pre_session:3") not in due(f, T0 + timedelta(days=10, minutes=1))


def test_the_cssrs_screen_is_entered_by_staff_and_the_phq9_goes_by_link() -> None:
    f = facts(upcoming=[SessionTime(2, T0 + timedelta(days=3))])
    slots = {
        s.instrument_id: s.delivery for s in due_slots(DEFAULT_SCHEDULE, f, T0 + timedelta(days=2))
    }
    assert slots["cssrs_screen"] == "staff"
    assert slots["phq9"] == "link"


def test_the_rapid_response_questionnaire_is_due_24_hours_after_the_first_session() -> None:
    first = SessionTime(1, T0)
    f = facts(completed=[first])
    assert ("phq9", "rapid_response") not in due(f, T0 + timedelta(hours=23))
    assert ("phq9", "rapid_response") in due(f, T0 + timedelta(hours=24))
    assert ("phq9", "rapid_response") in due(f, T0 + timedelta(hours=35))
    assert ("phq9", "rapid_response") not in due(f, T0 + timedelta(hours=37))


def test_weekly_questionnaires_run_during_induction_then_monthly_in_maintenance() -> None:
    sessions = [
        SessionTime(n, T0 + timedelta(days=d)) for n, d in enumerate([0, 2, 4, 7, 9, 11], 1)
    ]
    during = facts(completed=sessions[:3])
    assert ("gad7", "weekly:1") in due(during, T0 + timedelta(days=7, hours=1))
    done = facts(completed=sessions)
    assert not {s for s in due(done, T0 + timedelta(days=14, hours=1)) if "weekly" in s[1]}
    month = due(done, T0 + timedelta(days=11 + 28, hours=1))
    assert {("phq9", "monthly:1"), ("gad7", "monthly:1")} <= month
