"""The chairs of the day (the nurse's home), the notes to co-sign and the safety figures,
checked against the rows they are read from, at a cost that does not grow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from ketaclinic.sessions import service
from tests.conftest import PASSWORD, counted
from tests.sessions.conftest import at, ready_iv_session, vitals
from tests.sessions.factories import ESCORTED, Staff, appointment, male_patient
from tests.sessions.test_service import finish, start


def test_two_alarms_with_one_acknowledged_leave_one_open(db: Session, team: Staff) -> None:
    row = ready_iv_session(db, team)
    start(db, team, row.id)
    # A systolic of 200 with a normal diastolic: the systolic stop and recheck rules.
    vitals(db, team, row.id, 30, 90, 200, 80)
    raised = service.get_session(db, actor=team.nurse, session_id=row.id, now=at(31)).alarms
    assert sorted(a.rule_id for a in raised) == ["inf_sbp_recheck", "inf_sbp_stop"]
    stop = next(a for a in raised if a.rule_id == "inf_sbp_stop")
    service.acknowledge_alarm(
        db, actor=team.nurse, session_id=row.id, alarm_id=stop.id, note="seen", now=at(32)
    )
    board = service.chair_board(db, actor=team.nurse, now=at(33))
    assert board.alarms_open == 1
    (chair,) = board.rows
    assert (chair.session_id, chair.open_alarms, chair.worst_alarm) == (row.id, 1, "warn")


def _day(db: Session, team: Staff) -> dict[str, Any]:
    """Four sessions and a booked visit of one day, seen at minute 72."""
    ready = ready_iv_session(db, team)
    finish(db, team, ready.id)  # dosing ended at 40.99 min, scored: ready from 71 min
    recovering = ready_iv_session(db, team)
    start(db, team, recovering.id)  # the bag runs empty at 40.99 min: recovery
    running = ready_iv_session(db, team)
    vitals(db, team, running.id, 59, 72, 126, 80)
    start(db, team, running.id, 60)
    at_checklist = ready_iv_session(db, team)
    waiting = appointment(db, male_patient(db), at(90))
    return {
        "ready": ready,
        "recovering": recovering,
        "running": running,
        "checklist": at_checklist,
        "waiting": waiting,
    }


def test_each_chair_is_shown_in_its_state_with_its_readings_due(db: Session, team: Staff) -> None:
    made = _day(db, team)
    board = service.chair_board(db, actor=team.nurse, now=at(72))
    assert board.counts == {"ready": 1, "recovery": 1, "running": 1, "checklist": 1, "waiting": 1}
    rows = {r.session_id: r for r in board.rows if r.session_id}
    (waiting,) = [r for r in board.rows if r.appointment_id == made["waiting"].id]
    assert (waiting.state, waiting.arrived, waiting.session_id) == ("waiting", False, None)
    # Running since 60 min, read at 59: the 0-minute reading is done, the 10-minute one
    # (at 70) is due until 75 and nothing is overdue.
    running = rows[made["running"].id]
    assert running.next_reading_at == at(70)
    assert (running.reading_due_now, running.readings_overdue) == (True, 0)
    # Recovering: dosing from minute 1, the bag empty 100.7 / 151.1 x 60 = 39.99 min
    # later, read only before dosing. Due (from the start) at 0, 10, 20, 30, the end at
    # 39.99, then every 15 min to the 30 observed: 54.99 and 69.99. At 71 min those from
    # 10 to 54.99 are more than 5 min late (5), and 69.99 is due.
    recovering = rows[made["recovering"].id]
    assert recovering.readings_overdue == 5 and recovering.reading_due_now
    assert recovering.next_reading_at == at(11)
    # Ready (read at -1, 19 and 59 from the start): 10, 30 and 39.99 were missed (3).
    assert rows[made["ready"].id].readings_overdue == 3
    assert [r.session_id for r in board.readings_due] == [
        made["recovering"].id,
        made["ready"].id,
        made["running"].id,
    ]
    assert board.readings_overdue == 2
    assert rows[made["checklist"].id].next_reading_at is None


def test_a_discharged_session_waits_for_its_note_and_then_for_the_co_signature(
    db: Session, team: Staff
) -> None:
    row = ready_iv_session(db, team)
    finish(db, team, row.id)
    service.discharge(db, actor=team.nurse, session_id=row.id, now=at(72), **ESCORTED)
    board = service.chair_board(db, actor=team.nurse, now=at(73))
    assert board.counts == {"note": 1}
    assert service.notes_to_cosign(db, actor=team.prescriber) == []
    service.sign_note(db, actor=team.nurse, session_id=row.id, password=PASSWORD, now=at(75))
    (waiting,) = service.notes_to_cosign(db, actor=team.prescriber)
    assert (waiting.session_id, waiting.patient_id) == (row.id, row.patient_id)
    service.cosign_note(db, actor=team.prescriber, session_id=row.id, password=PASSWORD, now=at(80))
    assert service.notes_to_cosign(db, actor=team.prescriber) == []
    assert service.chair_board(db, actor=team.nurse, now=at(81)).counts == {"done": 1}


def test_the_safety_figures_count_the_periods_sessions_alarms_and_side_effects(
    db: Session, team: Staff
) -> None:
    row = ready_iv_session(db, team)
    finish(db, team, row.id)
    vitals(db, team, row.id, 30, 90, 200, 80)  # two alarms (stop and recheck)
    service.record_side_effect(
        db, actor=team.nurse, session_id=row.id, effect_id="nausea", severity="mild", now=at(30)
    )
    service.record_intervention(
        db,
        actor=team.nurse,
        session_id=row.id,
        drug="Ondansetron",
        dose=4,
        unit="mg",
        route="iv",
        reason="nausea",
        now=at(31),
    )
    other = ready_iv_session(db, team)  # its dosing never started: not counted
    assert other.id
    found = service.safety_summary(db, actor=team.prescriber, now=at(90))
    assert (found.sessions, found.alarms, found.interventions) == (1, 2, 1)
    assert found.alarms_by_level == {"stop": 1, "warn": 1}
    assert found.adverse_events == {"nausea": 1}
    assert found.alarms_per_session == 2.0
    later = service.safety_summary(db, actor=team.prescriber, now=at(60 * 24 * 31))
    assert (later.sessions, later.alarms) == (0, 0)


def test_the_safety_figures_read_the_period_s_doses_by_their_index(
    db: Session, team: Staff
) -> None:
    """The doses begun in the period are a range of (kind, at), not every event of the
    clinic's history; SQLite plans by its rules alone (no statistics), so its plan is
    the one a clinic of ten years gets."""
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans a small table by its statistics, as it should")
    with counted(db) as seen:
        service.safety_summary(db, actor=team.prescriber, now=at(90))
    reads = [s for s in seen if "FROM session_events" in s]
    assert len(reads) == 4
    for statement in reads:
        values = tuple("x" for _ in range(statement.count("?")))
        plan = " ".join(
            str(row[-1])
            for row in db.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", values)
        )
        assert "ix_session_events_kind_at (kind=? AND at>? AND at<?)" in plan, plan


def _statements(db: Session, read: Callable[[], object]) -> int:
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "audit_" not in statement and not statement.startswith(("SAVEPOINT", "RELEASE")):
            seen.append(statement)

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", note)
    try:
        read()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return len(seen)


def test_the_chairs_of_the_day_cost_the_same_statements_for_more_sessions(
    db: Session, team: Staff
) -> None:
    _day(db, team)
    db.commit()
    few = _statements(db, lambda: service.chair_board(db, actor=team.nurse, now=at(72)))
    _day(db, team)
    _day(db, team)
    db.commit()
    board = service.chair_board(db, actor=team.nurse, now=at(72))
    assert len(board.rows) == 15
    many = _statements(db, lambda: service.chair_board(db, actor=team.nurse, now=at(72)))
    assert many <= few, f"{few} statements for 5 chairs, {many} for 15"
