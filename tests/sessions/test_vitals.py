"""Charting a reading costs the same at the first minute and the sixth hour, and raises
the alarms the whole-session assessment would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ketaclinic.sessions import service
from ketaclinic.sessions.models import SessionAlarm, VitalSign
from tests.sessions.conftest import at, ready_iv_session
from tests.sessions.factories import Staff


@contextmanager
def counted(db: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    bind = db.connection()

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(bind, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(bind, "before_cursor_execute", note)


def _chart(db: Session, team: Staff, session_id: int, minute: float, sbp: int = 130) -> None:
    service.record_vitals(
        db,
        actor=team.nurse,
        session_id=session_id,
        taken_at=at(minute),
        heart_rate=80,
        systolic_bp=sbp,
        diastolic_bp=80,
        spo2=97,
        respiratory_rate=14,
        source="monitor",
        now=at(minute),
    )


def test_recording_a_vital_costs_the_same_statements_with_many_readings_charted(
    db: Session, team: Staff
) -> None:
    row = ready_iv_session(db, team)
    service.chart_pump(db, actor=team.nurse, session_id=row.id, kind="start", at=at(1), now=at(1))
    # A monitor feed, a reading every 3 seconds, inside the 40-minute infusion.
    minute = 1.0
    costs = []
    for charted in (10, 400):
        while (
            len(db.scalars(select(VitalSign.id).where(VitalSign.session_id == row.id)).all())
            < charted
        ):
            minute += 0.05
            _chart(db, team, row.id, minute)
        minute += 0.05
        with counted(db) as seen:
            _chart(db, team, row.id, minute)
        costs.append(len(seen))
    assert costs[0] == costs[1], costs


def test_a_surge_confirmed_over_five_minutes_pauses_once_on_a_long_feed(
    db: Session, team: Staff
) -> None:
    row = ready_iv_session(db, team)
    service.chart_pump(db, actor=team.nurse, session_id=row.id, kind="start", at=at(1), now=at(1))
    for i in range(60):
        _chart(db, team, row.id, 2 + i * 0.25)  # normal for 15 minutes
    for i in range(30):
        _chart(db, team, row.id, 17.25 + i * 0.25, sbp=185)  # then 185 for 7.5 minutes
    alarms = db.scalars(
        select(SessionAlarm).where(SessionAlarm.session_id == row.id).order_by(SessionAlarm.id)
    ).all()
    # inf_sbp_recheck at the first 185 (17.25 min); inf_sbp_pause once 5 minutes of
    # readings at or above 180 are charted (22.25 min); nothing more for the same run.
    assert [(a.rule_id, a.message.split(" at ")[1].split(" min")[0]) for a in alarms] == [
        ("inf_sbp_recheck", "16.25"),
        ("inf_sbp_pause", "21.25"),
    ]


def test_a_reading_charted_late_is_assessed_with_its_whole_phase(db: Session, team: Staff) -> None:
    row = ready_iv_session(db, team)
    service.chart_pump(db, actor=team.nurse, session_id=row.id, kind="start", at=at(1), now=at(1))
    _chart(db, team, row.id, 12, sbp=185)
    # Charted afterwards, taken five minutes before: with it the 185 at 12 minutes is a
    # run confirmed over 5 minutes.
    service.record_vitals(
        db,
        actor=team.nurse,
        session_id=row.id,
        taken_at=at(7),
        heart_rate=80,
        systolic_bp=182,
        diastolic_bp=80,
        spo2=97,
        respiratory_rate=14,
        now=at(12) + timedelta(minutes=1),
    )
    rules = sorted(
        db.scalars(select(SessionAlarm.rule_id).where(SessionAlarm.session_id == row.id))
    )
    assert rules == ["inf_sbp_pause", "inf_sbp_recheck", "inf_sbp_recheck"]
