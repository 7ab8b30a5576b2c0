"""A session's kept summary follows every act that changes it, in the act's own
transaction, and equals the summary derived again from the facts."""

from __future__ import annotations

from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from ketaclinic.platform.actors import Actor
from ketaclinic.sessions import service
from ketaclinic.sessions.models import SessionAlarm, SessionSummaryRow, VitalSign
from tests.sessions.conftest import at, ready_iv_session, vitals
from tests.sessions.factories import ESCORTED, Staff
from tests.sessions.test_service import finish, start


def _kept(db: Session, session_id: int) -> SessionSummaryRow:
    db.expire_all()  # read what the acts committed, not what this session remembers
    found = db.get(SessionSummaryRow, session_id)
    assert found is not None
    return found


def _cadss6(db: Session, team: Staff, session_id: int, minute: float, total: int) -> None:
    # Items of 0 to 4 each: the first items take the total.
    items = ["item1", "item2", "item6", "item7", "item15", "item22"]
    answers = {}
    for item in items:
        answers[item] = min(4, total)
        total -= answers[item]
    service.record_score(
        db,
        actor=team.nurse,
        session_id=session_id,
        instrument_id="cadss6",
        answers=answers,
        now=at(minute),
    )


def test_each_reading_moves_the_kept_peaks_and_lowest_spo2(db: Session, team: Staff) -> None:
    row = ready_iv_session(db, team)  # 72 bpm, 128/82, SpO2 98 before the dose
    kept = _kept(db, row.id)
    assert (kept.readings, kept.peak_systolic, kept.peak_diastolic) == (1, 128, 82)
    assert (kept.lowest_spo2, kept.max_heart_rate, kept.started_at) == (98, 72, None)
    start(db, team, row.id, 1)
    vitals(db, team, row.id, 10, 88, 139, 91, spo2=96)
    vitals(db, team, row.id, 20, 81, 135, 86, spo2=97)
    kept = _kept(db, row.id)
    # Highest of 128, 139, 135 and of 82, 91, 86; lowest of 98, 96, 97; highest of 72, 88, 81.
    assert (kept.readings, kept.peak_systolic, kept.peak_diastolic) == (3, 139, 91)
    assert (kept.lowest_spo2, kept.max_heart_rate) == (96, 88)
    assert kept.started_at == at(1)


def test_a_reading_marked_in_error_leaves_the_kept_figures(db: Session, team: Staff) -> None:
    row = ready_iv_session(db, team)
    start(db, team, row.id, 1)
    vitals(db, team, row.id, 10, 88, 139, 91, spo2=96)
    wrong = db.scalar(select(VitalSign.id).where(VitalSign.systolic_bp == 139))
    assert wrong is not None
    service.mark_vitals_in_error(
        db,
        actor=team.nurse,
        session_id=row.id,
        vital_sign_id=wrong,
        reason="cuff on the wrong arm",
        now=at(11),
    )
    db.commit()
    kept = _kept(db, row.id)
    assert (kept.readings, kept.peak_systolic, kept.peak_diastolic) == (1, 128, 82)
    assert (kept.lowest_spo2, kept.max_heart_rate) == (98, 72)


def test_scores_interventions_and_alarms_are_counted_as_charted(db: Session, team: Staff) -> None:
    row = ready_iv_session(db, team)
    start(db, team, row.id, 1)
    _cadss6(db, team, row.id, 15, 9)
    _cadss6(db, team, row.id, 30, 4)
    service.record_score(
        db,
        actor=team.nurse,
        session_id=row.id,
        instrument_id="moaas",
        answers={"rating": 4},
        now=at(16),
    )
    service.record_score(
        db,
        actor=team.nurse,
        session_id=row.id,
        instrument_id="moaas",
        answers={"rating": 5},
        now=at(31),
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
        now=at(32),
    )
    vitals(db, team, row.id, 33, 96, 186, 112)  # a surge: alarms are stored
    db.commit()
    kept = _kept(db, row.id)
    stored = db.scalar(select(func.count()).where(SessionAlarm.session_id == row.id))
    assert stored
    assert (kept.cadss_max, kept.moaas_lowest) == (9.0, 4.0)
    assert (kept.interventions, kept.alarms) == (1, stored)
    assert service.summary_differences(db) == []


def test_the_discharge_keeps_the_dose_its_time_and_the_sessions_given(
    db: Session, team: Staff
) -> None:
    row = ready_iv_session(db, team)
    finish(db, team, row.id)
    kept = _kept(db, row.id)
    # The bag ran empty at 1 + 100.7 / 151.1 x 60 = 40.99 min: 35 mg over 40.0 minutes.
    assert (kept.dose_mg, kept.dosing_minutes, kept.discharged_at) == (35.0, 40.0, None)
    service.discharge(db, actor=team.nurse, session_id=row.id, now=at(72), **ESCORTED)
    db.commit()
    kept = _kept(db, row.id)
    assert kept.discharged_at == at(72) and kept.ended_at == at(72)
    assert service.dose_starts(db, patient_ids=[row.patient_id]) == {row.patient_id: [(1, at(1))]}
    [summary] = service.completed_sessions(db, actor=team.prescriber, patient_id=row.patient_id)
    assert (summary.dose_mg, summary.peak_systolic, summary.moaas_lowest) == (35.0, 142, 5.0)
    assert service.summary_differences(db) == []


def test_a_rebuild_from_the_facts_writes_what_the_acts_kept(db: Session, team: Staff) -> None:
    row = ready_iv_session(db, team)
    finish(db, team, row.id)
    db.commit()
    kept = service.session_summary_values(_kept(db, row.id))
    db.execute(SessionSummaryRow.__table__.delete())
    assert service.summary_differences(db) == [f"session {row.id}: no summary"]
    assert service.rebuild_summaries(db, only_missing=True) == 1
    db.commit()
    assert service.session_summary_values(_kept(db, row.id)) == kept


def _reading(reference: str, minute: float, **values: int) -> service.DeviceMessage:
    return service.DeviceMessage(reference, [service.Measured(taken_at=at(minute), **values)])


def test_a_group_of_monitor_readings_moves_every_session_kept_figures_with_one_update(
    db: Session, team: Staff
) -> None:
    # Each: 72 bpm, 128/82, SpO2 98 before the dose.
    first, second, unkept = (ready_iv_session(db, team) for _ in range(3))
    for row in (first, second, unkept):
        start(db, team, row.id, 1)
    # A session whose figures were never kept (charted before summaries were).
    db.execute(delete(SessionSummaryRow).where(SessionSummaryRow.session_id == unkept.id))
    db.commit()
    device = Actor(user_id=None, username="device:MON")
    groups = [
        service.SessionMessages(
            first.id,
            device,
            "MON-1",
            [
                _reading("a1", 5, systolic_bp=150, diastolic_bp=95, heart_rate=90, spo2=95),
                _reading("a2", 6, systolic_bp=120, diastolic_bp=70, heart_rate=60, spo2=93),
            ],
        ),
        service.SessionMessages(second.id, device, "MON-2", [_reading("b1", 5, heart_rate=70)]),
        service.SessionMessages(
            unkept.id, device, "MON-3", [_reading("c1", 5, systolic_bp=140, diastolic_bp=90)]
        ),
    ]
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    bind = db.connection()
    event.listen(bind, "before_cursor_execute", note)
    try:
        service.chart_device_groups(db, groups=groups, now=at(7), limit_overrides=[])
    finally:
        event.remove(bind, "before_cursor_execute", note)
    db.commit()

    updates = [s for s in seen if s.lstrip().upper().startswith("UPDATE SESSION_SUMMARIES")]
    assert len(updates) == 1, updates
    figures = [
        (k.readings, k.peak_systolic, k.peak_diastolic, k.lowest_spo2, k.max_heart_rate)
        for k in (_kept(db, r.id) for r in (first, second, unkept))
    ]
    # By hand: the first adds 150/95 at 90 bpm, 95 % and 120/70 at 60 bpm, 93 %; the
    # second a heart rate of 70 alone (below 72); the third 140/90, derived whole.
    assert figures == [(3, 150, 95, 93, 90), (2, 128, 82, 98, 72), (2, 140, 90, 98, 72)]
    assert service.summary_differences(db) == []
