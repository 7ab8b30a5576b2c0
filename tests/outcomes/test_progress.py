"""Classification on crafted score histories, the dashboard and clinic statistics."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.outcomes import service
from ketaclinic.outcomes.service import progress, statistics
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.db import utcnow
from tests.outcomes.helpers import a_course, a_patient, given_sessions, phq9, staff

SESSION_DAYS = [0, 2, 4, 7, 9, 11]


def _course_with(
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    scores: list[tuple[float, int]],
    sessions: int = 6,
    times: dict[int, list[datetime]] | None = None,
) -> tuple[int, dict[int, list[datetime]]]:
    """A course whose first session was 90 days ago, with PHQ-9 scores on given days."""
    nurse = staff(db, "nurse", f"nurse.{name}")
    start = utcnow() - timedelta(days=90)
    patient = a_patient(db, given_name=name)
    a_course(db, patient.id, created_at=start - timedelta(days=7))
    times = times if times is not None else {}
    times[patient.id] = [start + timedelta(days=d) for d in SESSION_DAYS[:sessions]]
    given_sessions(monkeypatch, times)
    for day, total in scores:
        service.record_response(
            db,
            actor=nurse,
            patient_id=patient.id,
            instrument_id="phq9",
            answers=phq9(total),
            completed_at=start + timedelta(days=day),
        )
    return patient.id, times


def _stage(db: Session, patient_id: int) -> progress.Standing:
    doctor = staff(db, "prescriber", f"dr.{patient_id}")
    return progress.patient_outcomes(db, actor=doctor, patient_id=patient_id).standing


def test_a_rapid_drop_within_24_hours_is_a_rapid_response_and_responding(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid, _ = _course_with(db, monkeypatch, "Ana", [(-3, 19), (1, 9), (7, 8), (14, 7)])
    found = _stage(db, pid)
    assert found.status is not None
    assert found.status.rapid_response is True
    assert found.status.stage == "continuation"
    assert found.primary is not None and found.primary.category == "response"
    assert found.trends["phq9"].baseline == 19 and found.trends["phq9"].response_line == 9.5


def test_a_score_at_or_below_4_is_remission(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    pid, _ = _course_with(db, monkeypatch, "Ben", [(-2, 18), (1, 8), (14, 3)])
    found = _stage(db, pid)
    assert found.primary is not None and found.primary.category == "remission"


def test_no_fall_after_four_sessions_calls_for_an_interim_evaluation(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid, _ = _course_with(db, monkeypatch, "Cy", [(-2, 20), (1, 19), (7, 18)], sessions=4)
    found = _stage(db, pid)
    assert found.status is not None and found.status.stage == "interim_evaluation_due"
    after_six, _ = _course_with(db, monkeypatch, "Dee", [(-2, 20), (1, 19), (12, 18)])
    assert _stage(db, after_six).status.stage == "non_response"  # type: ignore[union-attr]


def test_two_scores_back_above_the_response_line_are_a_relapse_signal(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid, _ = _course_with(db, monkeypatch, "Eve", [(-2, 19), (1, 8), (14, 6), (45, 12), (75, 15)])
    found = _stage(db, pid)
    assert found.status is not None and found.status.stage == "booster_suggested"
    assert found.status.booster_reason and "Relapse signal" in found.status.booster_reason


def test_the_dashboard_puts_patients_needing_a_decision_first(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok, times = _course_with(db, monkeypatch, "Fay", [(-2, 19), (1, 8), (14, 6)])
    relapse, _ = _course_with(
        db, monkeypatch, "Gil", [(-2, 19), (1, 8), (14, 6), (45, 12), (75, 15)], times=times
    )
    doctor = staff(db, "prescriber", "dr.dash")
    rows = progress.dashboard(db, actor=doctor).rows
    assert [r.patient.id for r in rows] == [relapse, ok]
    assert "relapse signal: booster?" in rows[0].flags


def test_the_dashboard_pages_its_courses_and_reads_only_the_page_s_patients(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two courses needing a decision (a relapse signal; four sessions without a fall,
    # the interim evaluation) and three that need nothing, in pages of two.
    relapse, times = _course_with(
        db, monkeypatch, "Zed", [(-2, 19), (1, 8), (14, 6), (45, 12), (75, 15)]
    )
    interim, _ = _course_with(
        db, monkeypatch, "Yul", [(-2, 20), (1, 19), (7, 18)], sessions=4, times=times
    )
    calm = [
        _course_with(db, monkeypatch, name, [(-2, 19), (1, 8), (14, 6)], times=times)[0]
        for name in ("Cas", "Abe", "Bea")
    ]
    cas, abe, bea = calm
    calm_in_order = [abe, bea, cas]  # one family name (Lopez): by given name
    doctor = staff(db, "prescriber", "dr.pages")
    audit.flush_reads(db)

    first = progress.dashboard(db, actor=doctor, size=2)
    assert (first.total, first.needing_attention, first.pages, first.page) == (5, 2, 3, 0)
    assert {r.patient.id for r in first.rows} == {relapse, interim}
    assert all(r.flags for r in first.rows)
    assert (first.first, first.last) == (1, 2)
    audit.flush_reads(db)
    read = set(
        db.scalars(
            select(AuditEvent.patient_id).where(
                AuditEvent.actor == "dr.pages", AuditEvent.action == "patient.dashboard"
            )
        )
    )
    assert read == {relapse, interim}  # the three on other pages were not read

    second = progress.dashboard(db, actor=doctor, size=2, page=1)
    assert [r.patient.id for r in second.rows] == calm_in_order[:2]
    assert not any(r.flags for r in second.rows)
    # A page past the last shows the last: the fifth course alone.
    beyond = progress.dashboard(db, actor=doctor, size=2, page=99)
    assert beyond.page == 2 and [r.patient.id for r in beyond.rows] == calm_in_order[2:]
    assert (beyond.first, beyond.last) == (5, 5)


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    # Reference values: Newcombe RG, Stat Med 1998;17:857-872, table I (Wilson method).
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_the_wilson_interval_matches_newcombes_published_values(
    k: int, n: int, low: float, high: float
) -> None:
    got = statistics.wilson_interval(k, n)
    assert got[0] == pytest.approx(low, abs=6e-5) and got[1] == pytest.approx(high, abs=6e-5)


def test_clinic_outcomes_count_responders_and_remitters_by_indication(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, times = _course_with(db, monkeypatch, "Hal", [(-2, 19), (1, 8), (14, 3)])
    _course_with(db, monkeypatch, "Ivy", [(-2, 19), (1, 8), (14, 8)], times=times)
    _course_with(db, monkeypatch, "Jo", [(-2, 20), (1, 19), (14, 18)], times=times)
    researcher = staff(db, "researcher")
    groups = statistics.clinic_outcomes(
        db, actor=researcher, start=utcnow() - timedelta(days=365), end=utcnow() + timedelta(days=1)
    )
    assert len(groups) == 1
    g = groups[0]
    assert (g.courses, g.evaluable) == (3, 3)
    assert (g.response.count, g.response.n) == (2, 3)
    assert (g.remission.count, g.remission.n) == (1, 3)
    assert g.response.low is not None and g.response.low < 2 / 3 < (g.response.high or 0)
