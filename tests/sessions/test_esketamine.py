"""Intranasal esketamine: REMS enrolment, devices, observation, the monitoring record
and the filing dashboard."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from ketaclinic.clinical import pk
from ketaclinic.configuration import service as configuration
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.errors import Conflict, Invalid
from ketaclinic.platform.roles import Role
from ketaclinic.sessions import service
from tests.conftest import PASSWORD
from tests.sessions.conftest import at, vitals
from tests.sessions.factories import ESCORTED, T0, Staff, esketamine_order, male_patient

ANSWERS = {
    "benzodiazepines": "no",
    "non_benzodiazepine_hypnotics": "no",
    "psychostimulants": "no",
    "maois": "no",
    "lot_number": "LOT123",
    "respiratory_depression": "no",
    "serious_adverse_events": "none",
}


def open_session(
    db: Session, team: Staff, *, enrol: bool = True, name: str = "Reyes", dose_mg: float = 56.0
) -> int:
    patient = male_patient(db, family_name=name)
    esketamine_order(db, patient, dose_mg)
    if enrol:
        service.record_enrolment(
            db,
            actor=team.nurse,
            patient_id=patient.id,
            enrolment_id="REMS-000123",
            enrolled_on=date(2026, 1, 5),
        )
    row = service.start_walk_in_session(db, actor=team.nurse, patient_id=patient.id, now=T0)
    service.answer_checklist(
        db,
        actor=team.nurse,
        session_id=row.id,
        answers={"identity": "yes", "consent": "yes", "fasting": "yes", "driver": "yes"},
        now=T0,
    )
    vitals(db, team, row.id, 0, 70, 126, 80)
    return row.id


def test_the_first_dose_waits_for_the_rems_enrolment(db: Session, team: Staff) -> None:
    sid = open_session(db, team, enrol=False)
    state = service.get_session(db, actor=team.nurse, session_id=sid, now=at(1))
    assert [i.rule.id for i in state.checklist if not i.met] == ["rems_enrolled"]
    with pytest.raises(Conflict):
        service.chart_device(db, actor=team.nurse, session_id=sid, now=at(1))


def test_devices_are_28_mg_five_minutes_apart_up_to_the_ordered_dose(
    db: Session, team: Staff
) -> None:
    sid = open_session(db, team)
    service.chart_device(db, actor=team.nurse, session_id=sid, now=at(1))
    with pytest.raises(Conflict, match="5 minutes"):
        service.chart_device(db, actor=team.nurse, session_id=sid, now=at(4))
    service.chart_device(db, actor=team.nurse, session_id=sid, now=at(6))
    with pytest.raises(Conflict, match="all 2 devices"):
        service.chart_device(db, actor=team.nurse, session_id=sid, now=at(12))
    state = service.get_session(db, actor=team.nurse, session_id=sid, now=at(12))
    assert state.mg_given == 56.0
    assert state.dose_end == at(6)
    assert [s.due_at_min for s in state.schedule] == [0, 45, 125]  # before, 40 after, leaving


def dose_and_observe(db: Session, team: Staff, sid: int, leave_at: float = 130) -> None:
    service.chart_device(db, actor=team.nurse, session_id=sid, now=at(1))
    service.chart_device(db, actor=team.nurse, session_id=sid, now=at(6))
    service.record_score(
        db,
        actor=team.nurse,
        session_id=sid,
        instrument_id="cadss6",
        answers={"item1": 2, "item2": 2, "item6": 1, "item7": 0, "item15": 1, "item22": 0},
        now=at(20),
    )
    vitals(db, team, sid, 46, 82, 150, 92)
    service.record_score(
        db,
        actor=team.nurse,
        session_id=sid,
        instrument_id="moaas",
        answers={"rating": 4},
        now=at(50),
    )
    vitals(db, team, sid, leave_at - 5, 72, 128, 80)
    service.record_score(
        db,
        actor=team.nurse,
        session_id=sid,
        instrument_id="cadss6",
        answers={"item1": 0, "item2": 0, "item6": 0, "item7": 0, "item15": 0, "item22": 0},
        now=at(leave_at - 5),
    )
    service.record_score(
        db,
        actor=team.nurse,
        session_id=sid,
        instrument_id="moaas",
        answers={"rating": 5},
        now=at(leave_at - 5),
    )
    service.record_score(
        db,
        actor=team.nurse,
        session_id=sid,
        instrument_id="aldrete",
        answers={
            "activity": 2,
            "respiration": 2,
            "circulation": 2,
            "consciousness": 2,
            "oxygen_saturation": 2,
        },
        now=at(leave_at - 5),
    )


def test_observation_lasts_two_hours_after_the_last_device(db: Session, team: Staff) -> None:
    sid = open_session(db, team)
    dose_and_observe(db, team, sid, leave_at=120)
    with pytest.raises(Conflict, match="120"):
        service.discharge(db, actor=team.nurse, session_id=sid, now=at(120), **ESCORTED)
    service.discharge(db, actor=team.nurse, session_id=sid, now=at(126), **ESCORTED)


def test_the_monitoring_record_is_signed_only_when_complete(db: Session, team: Staff) -> None:
    sid = open_session(db, team)
    dose_and_observe(db, team, sid)
    service.discharge(db, actor=team.nurse, session_id=sid, now=at(130), **ESCORTED)
    with pytest.raises(Invalid, match="Lot number"):
        service.sign_record(db, actor=team.nurse, session_id=sid, password=PASSWORD)
    service.answer_record(db, actor=team.nurse, session_id=sid, answers=ANSWERS)
    record = service.sign_record(db, actor=team.nurse, session_id=sid, password=PASSWORD)
    assert record.snapshot is not None
    assert record.snapshot["dose_mg"] == 56.0
    assert record.snapshot["bp_before_dosing"] == "126/80"
    assert record.snapshot["bp_40_min"] == "150/92"
    assert record.snapshot["bp_before_leaving"] == "128/80"
    assert record.snapshot["monitoring_min"] == 129
    assert record.snapshot["sedation"] == "yes" and record.snapshot["dissociation"] == "yes"
    with pytest.raises(Conflict):
        service.answer_record(db, actor=team.nurse, session_id=sid, answers={"lot_number": "X"})
    filed = service.file_record(db, actor=team.prescriber, session_id=sid, reference="PMF-9")
    assert filed.filed_by == "prescriber" and filed.filed_at is not None


def test_the_dashboard_lists_unfiled_records_oldest_deadline_first(
    db: Session, team: Staff
) -> None:
    late = open_session(db, team, name="Alder")
    early = open_session(db, team, name="Birch")
    done = open_session(db, team, name="Cedar")
    from ketaclinic.sessions.models import MonitoringRecord

    for sid, back in ((late, 2), (early, 9), (done, 3)):
        row = db.query(MonitoringRecord).filter_by(session_id=sid).one()
        row.session_on = T0.date() - timedelta(days=back)
        row.due_on = row.session_on + timedelta(days=7)
        if sid == done:
            row.signed_at = row.filed_at = T0
            row.signed_by = row.filed_by = "nurse"
    db.commit()
    listed = service.records_to_file(db, actor=team.nurse, today=T0.date())
    assert [r.session_id for r in listed] == [early, late]
    assert [r.days_left for r in listed] == [-2, 5]
    assert listed[0].due_on == T0.date() - timedelta(days=2)


def test_the_clinics_device_spacing_reaches_the_session(db: Session, team: Staff) -> None:
    director = Actor(
        user_id=None, username="dr.chen", roles=frozenset({Role.prescriber, Role.admin})
    )
    configuration.override(
        db,
        actor=director,
        table_key="dosing.protocols",
        target="in_esketamine",
        field="device_interval_min",
        value="10",
        reason="our nurses wait ten minutes between devices",
    )
    sid = open_session(db, team)
    service.chart_device(db, actor=team.nurse, session_id=sid, now=at(1))
    # 6 minutes after the first device: enough for the label's 5, not for the clinic's 10.
    with pytest.raises(Conflict, match="wait 10 minutes"):
        service.chart_device(db, actor=team.nurse, session_id=sid, now=at(7))
    service.chart_device(db, actor=team.nurse, session_id=sid, now=at(11))
    state = service.get_session(db, actor=team.nurse, session_id=sid, now=at(12))
    assert (state.device_mg, state.device_interval_min, len(state.devices)) == (28.0, 10.0, 2)


def test_the_predicted_peak_of_84_mg_is_the_peak_simulate_computes_for_three_devices(
    db: Session, team: Staff
) -> None:
    sid = open_session(db, team, dose_mg=84.0)
    for minute in (0, 5, 10):
        service.chart_device(db, actor=team.nurse, session_id=sid, now=at(minute))
    state = service.get_session(db, actor=team.nurse, session_id=sid, now=at(20))
    predicted = service.predict(state)
    # What ``ketaclinic simulate`` does, by the same clinical functions: the model, the
    # patient (80 kg man born 1975-02-03: 51 on 2026-03-10), the dose events, the solver.
    # The session predicts on a 1-minute grid to 240 minutes after the last device.
    info = pk.get_model("esketamine")
    patient = pk.Patient(weight_kg=80.0, age=51.0, sex="male")
    times = [float(t) for t in range(0, 251)]
    devices = pk.nasal_device_doses([0.0, 5.0, 10.0], mg_per_device=28.0)
    expected = pk.simulate(info, patient, devices, times).summary((100.0,)).peak_plasma_ng_ml
    assert predicted.peak_ng_ml == pytest.approx(expected, rel=1e-9)
    unnumbered = [pk.Dose(t, 28.0, "intranasal") for t in (0.0, 5.0, 10.0)]
    whole = pk.simulate(info, patient, unnumbered, times).summary((100.0,)).peak_plasma_ng_ml
    # Later devices are absorbed less through the nose: a lower peak than three first ones.
    assert predicted.peak_ng_ml < whole
