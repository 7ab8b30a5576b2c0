"""Where a course stands is kept as its questionnaires are answered, in the act's own
transaction, and the clinic's rates are read from those rows alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from ketaclinic.outcomes import service
from ketaclinic.outcomes.models import CourseSummaryRow
from ketaclinic.outcomes.service import statistics
from ketaclinic.platform.db import utcnow
from tests.conftest import login, make_user
from tests.outcomes.helpers import a_course, a_patient, given_sessions, phq9, staff

SESSION_DAYS = [0, 2, 4, 7, 9, 11]


def _kept(db: Session, course_id: int) -> CourseSummaryRow:
    db.expire_all()
    found = db.get(CourseSummaryRow, course_id)
    assert found is not None
    return found


def test_each_scored_questionnaire_moves_the_kept_standing(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    nurse = staff(db, "nurse")
    start = utcnow() - timedelta(days=90)
    patient = a_patient(db, given_name="Kim")
    given_sessions(monkeypatch, {patient.id: [start + timedelta(days=d) for d in SESSION_DAYS]})
    course = a_course(db, patient.id, created_at=start - timedelta(days=7))
    kept = _kept(db, course.id)
    assert (kept.sessions_given, kept.response, kept.baseline) == (6, None, None)

    def answer(day: int, total: int) -> None:
        service.record_response(
            db,
            actor=nurse,
            patient_id=patient.id,
            instrument_id="phq9",
            answers=phq9(total),
            completed_at=start + timedelta(days=day),
        )
        db.commit()

    answer(-2, 19)
    answer(1, 8)
    kept = _kept(db, course.id)
    # 19 before the first session, 8 after: (8 - 19) / 19 = -58%, a response; 8 is above
    # the remission line.
    assert (kept.primary_instrument, kept.baseline, kept.latest) == ("phq9", 19.0, 8.0)
    assert (kept.response, kept.remission, kept.category) == (True, False, "response")
    assert kept.latest_at == start + timedelta(days=1)
    answer(14, 3)
    kept = _kept(db, course.id)
    assert (kept.latest, kept.remission, kept.category) == (3.0, True, "remission")
    assert service.course_summary_differences(db) == []


def test_the_clinic_rates_read_the_kept_rows_and_no_session_or_score(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    nurse = staff(db, "nurse")
    start = utcnow() - timedelta(days=90)
    times = {}
    for name, later in (("Lee", 3), ("Max", 8), ("Ned", 18)):
        patient = a_patient(db, given_name=name)
        times[patient.id] = [start + timedelta(days=d) for d in SESSION_DAYS]
        given_sessions(monkeypatch, times)
        a_course(db, patient.id, created_at=start - timedelta(days=7))
        for day, total in ((-2, 20), (14, later)):
            service.record_response(
                db,
                actor=nurse,
                patient_id=patient.id,
                instrument_id="phq9",
                answers=phq9(total),
                completed_at=start + timedelta(days=day),
            )
    db.commit()
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    bind = db.connection()
    event.listen(bind, "before_cursor_execute", note)
    try:
        [group] = statistics.clinic_outcomes(
            db,
            actor=staff(db, "researcher"),
            start=utcnow() - timedelta(days=365),
            end=utcnow() + timedelta(days=1),
        )
    finally:
        event.remove(bind, "before_cursor_execute", note)
    # 20 -> 3, 8 and 18: two fell by half or more (responses), one to 4 or less.
    assert (group.courses, group.evaluable) == (3, 3)
    assert (group.response.count, group.remission.count, group.remission.n) == (2, 1, 3)
    read = " ".join(seen)
    for table in ("questionnaire_responses", "session_events", "vital_signs", "courses "):
        assert table not in read


def test_the_course_dashboard_shows_the_kept_standing(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(db, "prescriber")
    nurse = staff(db, "nurse")
    start = utcnow() - timedelta(days=30)
    patient = a_patient(db, given_name="Oda")
    given_sessions(monkeypatch, {patient.id: [start + timedelta(days=d) for d in (0, 2, 4, 7)]})
    a_course(db, patient.id, created_at=start - timedelta(days=7))
    for day, total in ((-2, 20), (8, 19)):
        service.record_response(
            db,
            actor=nurse,
            patient_id=patient.id,
            instrument_id="phq9",
            answers=phq9(total),
            completed_at=start + timedelta(days=day),
        )
    db.commit()
    login(client, "prescriber")
    page = client.get("/outcomes/dashboard")
    assert page.status_code == 200
    # Four of six sessions given and 20 -> 19: the interim evaluation the course rules ask.
    assert "<td>4 / 6</td>" in page.text
    assert "phq9 20 → 19 (non response)" in page.text
    assert "interim evaluation due" in page.text
