"""A reading entered in error has the open alarms it raised or helped confirm judged
again without it: closed by the marker with the reason when the rule no longer fires,
kept open (carried by the reading that now meets it) when it still does.

Expected values are worked out by hand from the limit table rows named (dosing starts
at 1 min, so a reading at minute m is m - 1 minutes into the infusion)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.interop import service as interop
from ketaclinic.interop.hl7.messages import oru_r01
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict
from ketaclinic.sessions import service
from ketaclinic.sessions.models import InfusionSession, PrescriberCall, SessionAlarm, VitalSign
from tests.interop.factories import infusing_chair
from tests.sessions.conftest import at, ready_iv_session, vitals
from tests.sessions.factories import Staff


def _infusing(db: Session, team: Staff) -> InfusionSession:
    row = ready_iv_session(db, team)
    service.chart_pump(db, actor=team.nurse, session_id=row.id, kind="start", at=at(1), now=at(1))
    db.commit()
    return row


def _alarms(db: Session, session_id: int) -> dict[str, SessionAlarm]:
    db.expire_all()
    found = db.scalars(select(SessionAlarm).where(SessionAlarm.session_id == session_id))
    return {a.rule_id: a for a in found}


def _mark(db: Session, team: Staff, session_id: int, reading: object, minute: float) -> None:
    service.mark_vitals_in_error(
        db,
        actor=team.nurse,
        session_id=session_id,
        vital_sign_id=reading.id,  # type: ignore[attr-defined]
        reason="probe off the finger",
        now=at(minute),
    )
    db.commit()


def _audit(db: Session, action: str) -> list[AuditEvent]:
    return list(
        db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


def test_an_artefact_that_alone_raised_a_warning_closes_it_with_the_reason_and_marker(
    db: Session, team: Staff
) -> None:
    row = _infusing(db, team)
    artefact = vitals(db, team, row.id, 5, 150, 128, 82)  # inf_hr_warn: HR > 120 once
    assert set(_alarms(db, row.id)) == {"inf_hr_warn"}
    _mark(db, team, row.id, artefact, 6)
    alarm = _alarms(db, row.id)["inf_hr_warn"]
    assert alarm.acknowledged_by == team.nurse.username
    assert alarm.acknowledged_at == at(6)
    assert alarm.acknowledgement_note == "reading entered in error: probe off the finger"
    # Both facts audited, for this patient, in the one act.
    [marked] = _audit(db, "session.vitals.entered_in_error")
    [closed] = _audit(db, "session.alarm.acknowledge")
    assert (closed.object_type, closed.object_id) == ("session_alarm", str(alarm.id))
    assert closed.detail == "inf_hr_warn: reading entered in error: probe off the finger"
    assert closed.patient_id == marked.patient_id == row.patient_id
    assert closed.actor == marked.actor == team.nurse.username
    # The session screen's live feed and the cockpit no longer show it.
    assert service.live_update(db, session_id=row.id, after_vital_id=0).alarms == []
    assert service.get_cockpit(db, actor=team.nurse, session_id=row.id).state.unacknowledged == []


def test_one_of_two_readings_that_confirmed_a_pause_closes_the_pause_and_keeps_the_recheck(
    db: Session, team: Staff
) -> None:
    row = _infusing(db, team)
    vitals(db, team, row.id, 5, 72, 130, 80)
    first = vitals(db, team, row.id, 10, 72, 185, 90)
    second = vitals(db, team, row.id, 15, 72, 186, 90)
    # inf_sbp_recheck (>= 180 once) at 10 min; inf_sbp_pause (>= 180 on every reading for
    # 5 min) at 15 min, 5 min after the 185.
    raised = _alarms(db, row.id)
    assert {r: a.vital_sign_id for r, a in raised.items()} == {
        "inf_sbp_recheck": first.id,  # type: ignore[attr-defined]
        "inf_sbp_pause": second.id,  # type: ignore[attr-defined]
    }
    _mark(db, team, row.id, first, 16)
    after = _alarms(db, row.id)
    # The 186 alone is a run of 0 min: the pause no longer fires and closes.
    pause = after["inf_sbp_pause"]
    assert pause.acknowledgement_note == "reading entered in error: probe off the finger"
    # The 186 is >= 180 on its own: the recheck stays open, carried by it now.
    recheck = after["inf_sbp_recheck"]
    assert recheck.acknowledged_at is None
    assert recheck.vital_sign_id == second.id  # type: ignore[attr-defined]
    assert recheck.value == 186
    assert recheck.message.startswith("Systolic BP 186 mmHg at ")
    assert ", 14 min into the infusion: " in recheck.message
    [kept] = _audit(db, "session.alarm.reassess")
    assert kept.object_id == str(recheck.id)
    assert kept.detail.startswith("inf_sbp_recheck: still met without reading ")
    assert f"moved from reading {first.id} to {second.id}" in kept.detail  # type: ignore[attr-defined]
    assert "was: Systolic BP 185 mmHg" in kept.detail
    assert [
        a["id"] for a in service.live_update(db, session_id=row.id, after_vital_id=0).alarms
    ] == [recheck.id]


def test_a_breach_with_a_later_genuine_breach_stays_open(db: Session, team: Staff) -> None:
    row = _infusing(db, team)
    artefact = vitals(db, team, row.id, 5, 150, 128, 82)
    genuine = vitals(db, team, row.id, 6, 130, 128, 82)  # same run: no second alarm
    assert len(_alarms(db, row.id)) == 1
    _mark(db, team, row.id, artefact, 7)
    alarm = _alarms(db, row.id)["inf_hr_warn"]
    assert alarm.acknowledged_at is None
    assert alarm.vital_sign_id == genuine.id  # type: ignore[attr-defined]
    assert alarm.value == 130
    assert _audit(db, "session.alarm.acknowledge") == []


def test_a_breach_in_a_run_of_its_own_is_left_as_it_stands(db: Session, team: Staff) -> None:
    row = _infusing(db, team)
    artefact = vitals(db, team, row.id, 5, 150, 128, 82)
    vitals(db, team, row.id, 6, 80, 128, 82)
    later = vitals(db, team, row.id, 7, 131, 128, 82)
    _mark(db, team, row.id, artefact, 8)
    open_alarms = [a for a in db.scalars(select(SessionAlarm)).all() if a.acknowledged_at is None]
    assert [a.vital_sign_id for a in open_alarms] == [later.id]  # type: ignore[attr-defined]
    assert _audit(db, "session.alarm.reassess") == []


def test_a_stop_that_called_the_prescriber_closes_but_the_call_stays_open(
    db: Session, team: Staff
) -> None:
    row = _infusing(db, team)
    artefact = vitals(db, team, row.id, 5, 72, 205, 90)  # inf_sbp_stop: >= 200 once
    stop = _alarms(db, row.id)["inf_sbp_stop"]
    call = db.scalar(select(PrescriberCall).where(PrescriberCall.alarm_id == stop.id))
    assert call is not None and call.answered_at is None
    _mark(db, team, row.id, artefact, 6)
    after = _alarms(db, row.id)
    assert after["inf_sbp_stop"].acknowledged_by == team.nurse.username
    assert after["inf_sbp_recheck"].acknowledged_by == team.nurse.username
    db.refresh(call)
    assert call.answered_at is None and call.status == "open"


def test_marking_a_reading_in_error_twice_is_refused_and_closes_nothing_twice(
    db: Session, team: Staff
) -> None:
    row = _infusing(db, team)
    artefact = vitals(db, team, row.id, 5, 150, 128, 82)
    _mark(db, team, row.id, artefact, 6)
    with pytest.raises(Conflict):
        _mark(db, team, row.id, artefact, 7)
    db.rollback()
    assert len(_audit(db, "session.alarm.acknowledge")) == 1
    assert _alarms(db, row.id)["inf_hr_warn"].acknowledged_at == at(6)


def test_a_monitors_corrected_result_judges_the_alarm_of_the_value_it_replaces(
    db: Session, team: Staff
) -> None:
    chair = infusing_chair(db, team)
    taken = utcnow() - timedelta(minutes=1)
    zone = ZoneInfo("America/New_York")
    first = oru_r01(
        control_id="C1",
        mrn=chair.mrn,
        device_id=chair.device_id,
        at=taken,
        values={"systolic_bp": 205, "diastolic_bp": 90},
    )
    corrected = oru_r01(
        control_id="C2",
        mrn=chair.mrn,
        device_id=chair.device_id,
        at=taken,
        values={"systolic_bp": 135, "diastolic_bp": 85},
        status="C",
    )
    assert interop.receive(db, raw=first, zone=zone).code == "AA"
    db.commit()
    assert set(_alarms(db, chair.session_id)) == {"inf_sbp_stop", "inf_sbp_recheck"}
    [board] = service.chairs_in_use(db, actor=team.nurse)
    assert board.open_alarms == 2
    assert interop.receive(db, raw=corrected, zone=zone).code == "AA"
    db.commit()
    after = _alarms(db, chair.session_id)
    device = f"device:{chair.device_id}"
    note = "reading entered in error: corrected by the device (message C2)"
    assert {(a.acknowledged_by, a.acknowledgement_note) for a in after.values()} == {(device, note)}
    # The corrected 135/85 raises nothing; the chairs board shows the chair clear.
    [board] = service.chairs_in_use(db, actor=team.nurse)
    assert board.open_alarms == 0 and board.worst_level is None
    replaced = db.scalar(select(VitalSign).where(VitalSign.systolic_bp == 205))
    assert replaced is not None and replaced.entered_in_error_by == device
    assert db.scalar(
        select(func.count()).select_from(PrescriberCall).where(PrescriberCall.answered_at.is_(None))
    )
