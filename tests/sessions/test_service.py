"""The IV session's rules, through the service, on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.db import make_engine, make_session_factory
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid
from ketaclinic.platform.settings import get_settings
from ketaclinic.sessions import service
from ketaclinic.sessions.models import SessionNote
from tests.conftest import PASSWORD
from tests.patients.factories import a_patient
from tests.sessions.conftest import at, ready_iv_session, vitals
from tests.sessions.factories import ESCORTED, T0, Staff, appointment, iv_order, male_patient


def start(db: Session, team: Staff, session_id: int, minute: float = 1) -> None:
    service.chart_pump(db, actor=team.nurse, session_id=session_id, kind="start", now=at(minute))


def test_the_infusion_cannot_start_until_the_checklist_is_complete(
    db: Session, team: Staff
) -> None:
    patient = male_patient(db)
    iv_order(db, patient)
    row = service.start_walk_in_session(db, actor=team.nurse, patient_id=patient.id, now=T0)
    service.answer_checklist(
        db,
        actor=team.nurse,
        session_id=row.id,
        answers={"identity": "yes", "consent": "yes"},
        now=T0,
    )
    with pytest.raises(Conflict, match="checklist is incomplete"):
        start(db, team, row.id)
    state = service.get_session(db, actor=team.nurse, session_id=row.id, now=at(1))
    unmet = {i.rule.id for i in state.checklist if not i.met}
    assert unmet == {"fasting", "driver", "vitals"}
    assert state.pump is None


def test_high_pre_dose_blood_pressure_leaves_the_vitals_item_unmet(
    db: Session, team: Staff
) -> None:
    row = ready_iv_session(db, team)
    vitals(db, team, row.id, 0.5, 80, 185, 100)
    state = service.get_session(db, actor=team.nurse, session_id=row.id, now=at(1))
    item = next(i for i in state.checklist if i.rule.id == "vitals")
    assert not item.met
    assert "185" in item.text


def test_a_prescriber_overrides_the_checklist_with_a_reason(db: Session, team: Staff) -> None:
    patient = male_patient(db)
    iv_order(db, patient)
    row = service.start_walk_in_session(db, actor=team.nurse, patient_id=patient.id, now=T0)
    with pytest.raises(Forbidden):
        service.override_checklist(db, actor=team.nurse, session_id=row.id, reason="fine")
    with pytest.raises(Invalid):
        service.override_checklist(db, actor=team.prescriber, session_id=row.id, reason=" ")
    event = service.override_checklist(
        db,
        actor=team.prescriber,
        session_id=row.id,
        reason="identity checked by me in person",
        now=T0,
    )
    assert "identity" in event.detail["unmet"]
    start(db, team, row.id)
    audited = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "session.checklist.override")
    ).all()
    assert len(audited) == 1 and audited[0].patient_id == patient.id
    assert "identity checked by me in person" in audited[0].detail


def test_a_pregnancy_test_is_required_for_a_woman_of_child_bearing_age(
    db: Session, team: Staff
) -> None:
    patient = a_patient(db, date_of_birth=T0.date().replace(year=T0.year - 30))
    iv_order(db, patient)
    row = service.start_walk_in_session(db, actor=team.nurse, patient_id=patient.id, now=T0)
    state = service.get_session(db, actor=team.nurse, session_id=row.id, now=T0)
    assert not next(i for i in state.checklist if i.rule.id == "pregnancy_test").met
    service.answer_checklist(
        db, actor=team.nurse, session_id=row.id, answers={"pregnancy_test": "negative"}, now=T0
    )
    state = service.get_session(db, actor=team.nurse, session_id=row.id, now=T0)
    assert next(i for i in state.checklist if i.rule.id == "pregnancy_test").met


def test_the_page_figures_come_from_the_charted_events(db: Session, team: Staff) -> None:
    # Order: 35 mg in 100.7 mL at 151.1 mL/h. Start at 1 min, pause at 18, resume at 23.
    row = ready_iv_session(db, team)
    start(db, team, row.id, 1)
    service.chart_pump(db, actor=team.nurse, session_id=row.id, kind="pause", now=at(18))
    service.chart_pump(db, actor=team.nurse, session_id=row.id, kind="resume", now=at(23))
    state = service.get_session(db, actor=team.nurse, session_id=row.id, now=at(33))
    assert state.pump is not None
    assert state.pump.state == "running"
    assert state.pump.elapsed_min == pytest.approx(32)
    assert state.pump.volume_ml == pytest.approx(151.1 * 27 / 60)  # 67.995 mL
    assert state.pump.mg == pytest.approx(67.995 * 35 / 100.7)  # 23.633 mg
    assert state.pump.volume_left_ml == pytest.approx(100.7 - 67.995)


def test_it_refuses_to_resume_a_running_infusion(db: Session, team: Staff) -> None:
    row = ready_iv_session(db, team)
    start(db, team, row.id)
    with pytest.raises(Conflict, match="running"):
        service.chart_pump(db, actor=team.nurse, session_id=row.id, kind="resume", now=at(5))
    with pytest.raises(Invalid):
        service.chart_pump(db, actor=team.nurse, session_id=row.id, kind="stop", now=at(5))


def test_a_surge_raises_a_stored_alarm_once_until_acknowledged(db: Session, team: Staff) -> None:
    row = ready_iv_session(db, team)
    start(db, team, row.id)
    vitals(db, team, row.id, 30, 90, 200, 120)
    first = service.get_session(db, actor=team.nurse, session_id=row.id, now=at(31))
    again = service.get_session(db, actor=team.nurse, session_id=row.id, now=at(32))
    rules = sorted(a.rule_id for a in first.unacknowledged)
    assert "inf_sbp_stop" in rules and "inf_dbp_stop" in rules
    assert len(again.alarms) == len(first.alarms)
    stop = next(a for a in first.alarms if a.rule_id == "inf_sbp_stop")
    assert stop.action.startswith("Stop the infusion")
    with pytest.raises(Invalid):
        service.acknowledge_alarm(
            db, actor=team.nurse, session_id=row.id, alarm_id=stop.id, note=""
        )
    service.acknowledge_alarm(
        db,
        actor=team.nurse,
        session_id=row.id,
        alarm_id=stop.id,
        note="stopped, prescriber told",
        now=at(32),
    )
    after = service.get_session(db, actor=team.nurse, session_id=row.id, now=at(33))
    done = next(a for a in after.alarms if a.id == stop.id)
    assert (
        done.acknowledged_by == "nurse" and done.acknowledgement_note == "stopped, prescriber told"
    )
    assert stop.id not in {a.id for a in after.unacknowledged}
    # A normal reading later raises nothing new.
    vitals(db, team, row.id, 35, 80, 150, 90)
    assert len(
        service.get_session(db, actor=team.nurse, session_id=row.id, now=at(36)).alarms
    ) == len(first.alarms)


def test_a_reading_marked_in_error_stays_in_the_record(db: Session, team: Staff) -> None:
    row = ready_iv_session(db, team)
    reading = vitals(db, team, row.id, 0.5, 70, 230, 90)
    service.mark_vitals_in_error(
        db,
        actor=team.nurse,
        session_id=row.id,
        vital_sign_id=reading.id,
        reason="cuff on the wrong arm",
    )  # type: ignore[attr-defined]
    state = service.get_session(db, actor=team.nurse, session_id=row.id, now=at(1))
    assert len(state.vitals) == 2
    assert next(i for i in state.checklist if i.rule.id == "vitals").met


def test_implausible_vitals_are_refused_naming_the_field(db: Session, team: Staff) -> None:
    row = ready_iv_session(db, team)
    with pytest.raises(Invalid) as caught:
        vitals(db, team, row.id, 2, 70, 1200, 80)
    assert "systolic_bp" in caught.value.fields


def finish(db: Session, team: Staff, session_id: int) -> None:
    start(db, team, session_id, 1)
    vitals(db, team, session_id, 20, 84, 142, 88)
    service.chart_pump(
        db,
        actor=team.nurse,
        session_id=session_id,
        kind="stop",
        reason="infusion complete",
        now=at(41),
    )
    vitals(db, team, session_id, 60, 74, 130, 82)
    service.record_score(
        db,
        actor=team.nurse,
        session_id=session_id,
        instrument_id="aldrete",
        answers={
            "activity": 2,
            "respiration": 2,
            "circulation": 2,
            "consciousness": 2,
            "oxygen_saturation": 2,
        },
        now=at(70),
    )
    service.record_score(
        db,
        actor=team.nurse,
        session_id=session_id,
        instrument_id="moaas",
        answers={"rating": 5},
        now=at(70),
    )


def test_discharge_waits_for_the_observation_time(db: Session, team: Staff) -> None:
    row = ready_iv_session(db, team)
    finish(db, team, row.id)
    early = service.get_session(db, actor=team.nurse, session_id=row.id, now=at(61))
    assert early.discharge is not None and not early.discharge.ready
    unmet = [t for met, t, _, _ in early.discharge.reasons if not met]
    # The bag ran empty at 1 + 100.7 / 151.1 x 60 = 40.99 min, before the charted stop.
    assert len(unmet) == 1 and "20 does not meet the minimum of 30" in unmet[0]
    with pytest.raises(Conflict, match="not ready"):
        service.discharge(db, actor=team.nurse, session_id=row.id, now=at(61), **ESCORTED)
    later = service.get_session(db, actor=team.nurse, session_id=row.id, now=at(72))
    assert later.discharge is not None and later.discharge.ready
    service.discharge(db, actor=team.nurse, session_id=row.id, now=at(72), **ESCORTED)


def test_discharge_needs_an_aldrete_score(db: Session, team: Staff) -> None:
    row = ready_iv_session(db, team)
    start(db, team, row.id)
    service.chart_pump(
        db, actor=team.nurse, session_id=row.id, kind="stop", reason="done", now=at(41)
    )
    vitals(db, team, row.id, 75, 74, 130, 82)
    state = service.get_session(db, actor=team.nurse, session_id=row.id, now=at(80))
    assert state.discharge is not None
    assert "Chart a modified Aldrete score" in state.discharge.missing


def test_the_signed_note_is_immutable_and_an_addendum_is_a_new_record(
    db: Session, team: Staff, engine: object
) -> None:
    row = ready_iv_session(db, team)
    finish(db, team, row.id)
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
    service.discharge(db, actor=team.nurse, session_id=row.id, now=at(72), **ESCORTED)
    with pytest.raises(Forbidden):
        service.sign_note(db, actor=team.prescriber, session_id=row.id, password=PASSWORD)
    with pytest.raises(Invalid, match="password is not right"):
        service.sign_note(db, actor=team.nurse, session_id=row.id, password="guess")
    note = service.sign_note(db, actor=team.nurse, session_id=row.id, password=PASSWORD, now=at(75))
    assert (note.signed_by_name, note.signature_meaning) == ("Nurse", "authored this session note")
    assert "Ondansetron 4 mg iv" in note.body
    assert note.body.index("start") < note.body.index("Nausea") < note.body.index("stop")
    with pytest.raises(Conflict, match="signed"):
        service.record_note(db, actor=team.nurse, session_id=row.id, text="late", now=at(76))
    with pytest.raises(Forbidden):
        service.cosign_note(db, actor=team.nurse, session_id=row.id, password=PASSWORD)
    cosigned = service.cosign_note(
        db, actor=team.prescriber, session_id=row.id, password=PASSWORD, now=at(80)
    )
    assert cosigned.cosignature_meaning == "reviewed and co-signed this session note"
    service.add_addendum(
        db,
        actor=team.nurse,
        session_id=row.id,
        text="patient called: home safely",
        password=PASSWORD,
    )
    stored = db.scalars(select(SessionNote).where(SessionNote.session_id == row.id)).all()
    assert [n.kind for n in stored] == ["note", "addendum"]
    signed = stored[0]
    signed.body = "rewritten"
    with pytest.raises(ValueError, match="cannot be changed"):
        db.commit()
    db.rollback()


def test_a_session_survives_a_restart(db: Session, team: Staff, database_url: str) -> None:
    row = ready_iv_session(db, team)
    start(db, team, row.id)
    service.chart_pump(db, actor=team.nurse, session_id=row.id, kind="pause", now=at(11))
    vitals(db, team, row.id, 12, 90, 205, 100)
    before = service.get_session(db, actor=team.nurse, session_id=row.id, now=at(20))
    engine = make_engine(database_url)  # a new process would open a new engine
    with make_session_factory(engine)() as fresh:
        after = service.get_session(fresh, actor=team.nurse, session_id=row.id, now=at(20))
    engine.dispose()
    assert after.pump is not None and before.pump is not None
    assert after.pump.state == "paused"
    assert after.pump.mg == pytest.approx(before.pump.mg)
    assert [a.rule_id for a in after.unacknowledged] == [a.rule_id for a in before.unacknowledged]


def test_a_session_from_an_appointment_is_opened_once(db: Session, team: Staff) -> None:
    patient = male_patient(db)
    iv_order(db, patient)
    booked = appointment(
        db,
        patient,
        T0,
        confirmation={
            "fasting": True,
            "ride_home": True,
            "no_nasal_decongestant": None,
            "note": "",
        },
    )
    first = service.start_session_for_appointment(db, actor=team.nurse, appointment_id=booked.id)
    second = service.start_session_for_appointment(db, actor=team.nurse, appointment_id=booked.id)
    assert first.id == second.id
    with pytest.raises(Forbidden):
        service.start_session_for_appointment(db, actor=team.desk, appointment_id=booked.id)


def test_completed_sessions_give_the_key_figures(db: Session, team: Staff) -> None:
    row = ready_iv_session(db, team)
    finish(db, team, row.id)
    service.record_score(
        db,
        actor=team.nurse,
        session_id=row.id,
        instrument_id="cadss6",
        answers={"item1": 2, "item2": 3, "item6": 1, "item7": 0, "item15": 1, "item22": 0},
        now=at(25),
    )
    service.record_side_effect(
        db, actor=team.nurse, session_id=row.id, effect_id="headache", severity="mild", now=at(30)
    )
    # Discharge now needs dissociation back to the pre-dose level: a CADSS-6 of 0 later.
    service.record_score(
        db,
        actor=team.nurse,
        session_id=row.id,
        instrument_id="cadss6",
        answers={"item1": 0, "item2": 0, "item6": 0, "item7": 0, "item15": 0, "item22": 0},
        now=at(66),
    )
    assert service.completed_sessions(db, actor=team.nurse, patient_id=row.patient_id) == []
    service.discharge(db, actor=team.nurse, session_id=row.id, now=at(72), **ESCORTED)
    [summary] = service.completed_sessions(db, actor=team.prescriber, patient_id=row.patient_id)
    assert summary.number == 1
    assert summary.peak_systolic == 142 and summary.peak_diastolic == 88
    assert summary.cadss_total == 7
    assert summary.side_effects == ["Headache (mild)"]
    assert summary.dose_mg == 35.0
    assert summary.status == "discharged"
    assert summary.started_at == at(1)


def test_every_read_is_audited_with_the_patient(db: Session, team: Staff) -> None:
    row = ready_iv_session(db, team)
    service.get_session(db, actor=team.prescriber, session_id=row.id)
    audit.flush_reads(db)  # as the unit of work does when the act ends
    seen = db.scalars(select(AuditEvent).where(AuditEvent.action == "session.view")).all()
    assert [e.patient_id for e in seen] == [row.patient_id]


def test_the_prediction_follows_the_charted_pause(db: Session, team: Staff) -> None:
    row = ready_iv_session(db, team)
    start(db, team, row.id)
    service.chart_pump(db, actor=team.nurse, session_id=row.id, kind="pause", now=at(21))
    paused = service.predict(
        service.get_session(db, actor=team.nurse, session_id=row.id, now=at(22))
    )
    service.chart_pump(db, actor=team.nurse, session_id=row.id, kind="resume", now=at(31))
    resumed = service.predict(
        service.get_session(db, actor=team.nurse, session_id=row.id, now=at(32))
    )
    assert paused.model_id == "domino"
    assert paused.threshold_ng_ml == 100
    assert paused.below_at is not None and resumed.below_at is not None
    # Resuming gives the rest of the bag, so plasma stays above the threshold longer.
    assert resumed.below_at > paused.below_at + timedelta(minutes=10)
    assert "<svg" in resumed.svg


def test_a_patient_account_reads_its_own_completed_sessions_only(db) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from ketaclinic.platform.actors import Actor
    from ketaclinic.platform.errors import NotFound
    from ketaclinic.platform.roles import Role
    from ketaclinic.sessions.service import completed_sessions
    from tests.patients.factories import a_patient

    own = a_patient(db)
    other = a_patient(db, given_name="Other")
    me = Actor(user_id=None, username="p", roles=frozenset({Role.patient}), patient_id=own.id)
    assert completed_sessions(db, actor=me, patient_id=own.id) == []
    with pytest.raises(NotFound):
        completed_sessions(db, actor=me, patient_id=other.id)


def test_an_iv_patient_half_an_hour_after_the_infusion_with_high_pressure_is_not_ready(
    db: Session, team: Staff
) -> None:
    from ketaclinic.sessions.models import InfusionSession
    from ketaclinic.sessions.service import view

    patient = male_patient(db)
    iv_order(db, patient)
    row = service.start_walk_in_session(db, actor=team.nurse, patient_id=patient.id, now=T0)
    service.answer_checklist(
        db,
        actor=team.nurse,
        session_id=row.id,
        answers={"identity": "yes", "consent": "yes", "fasting": "yes", "driver": "yes"},
        now=T0,
    )
    vitals(db, team, row.id, 0, 76, 135, 85)
    start(db, team, row.id, 1)
    service.chart_pump(
        db, actor=team.nurse, session_id=row.id, kind="stop", reason="complete", now=at(41)
    )
    vitals(db, team, row.id, 70, 118, 178, 108, spo2=93)
    service.record_score(
        db,
        actor=team.nurse,
        session_id=row.id,
        instrument_id="aldrete",
        answers={
            "activity": 2,
            "respiration": 2,
            "circulation": 1,
            "consciousness": 2,
            "oxygen_saturation": 2,
        },
        now=at(70),
    )
    service.record_score(
        db,
        actor=team.nurse,
        session_id=row.id,
        instrument_id="moaas",
        answers={"rating": 5},
        now=at(70),
    )
    loaded = db.get(InfusionSession, row.id)
    assert loaded is not None
    state = view.build(db, actor=team.nurse, row=loaded, now=at(71))
    decision = view.discharge_view(state, escort_recorded=True, no_driving_instruction_given=True)
    assert not decision.ready
    unmet = " | ".join(text for met, text, _, _ in decision.reasons if not met)
    assert "Not within 20% of the pre-dose baseline" in unmet
    assert "Systolic BP 178" in unmet and "Diastolic BP 108" in unmet
    assert "Heart rate 118" in unmet
    assert "SpO2 93% is below 94%" in unmet


def test_a_warning_alarm_is_acknowledged_only_with_the_action_taken(
    db: Session, team: Staff
) -> None:
    row = ready_iv_session(db, team)
    start(db, team, row.id)
    vitals(db, team, row.id, 5, 130, 128, 82)
    state = service.get_session(db, actor=team.nurse, session_id=row.id, now=at(6))
    warn = next(a for a in state.unacknowledged if a.rule_id == "inf_hr_warn")
    assert warn.level == "warn"
    for note in ("", "  ", "ok"):
        with pytest.raises(Invalid, match="say what was done about this warn alarm"):
            service.acknowledge_alarm(
                db, actor=team.nurse, session_id=row.id, alarm_id=warn.id, note=note
            )
    done = service.acknowledge_alarm(
        db, actor=team.nurse, session_id=row.id, alarm_id=warn.id, note="rested, rechecked"
    )
    assert done.acknowledgement_note == "rested, rechecked"


def test_an_assessment_with_an_item_unanswered_is_refused_naming_the_item(
    db: Session, team: Staff
) -> None:
    row = ready_iv_session(db, team)
    answers = {"activity": 2, "respiration": 2, "circulation": 2, "consciousness": 2}
    with pytest.raises(Invalid, match="answer Oxygen saturation") as refused:
        service.record_score(
            db, actor=team.nurse, session_id=row.id, instrument_id="aldrete", answers=answers
        )
    assert refused.value.fields == {"aldrete_oxygen_saturation": "required"}
    with pytest.raises(Invalid, match="answer Responsiveness"):
        service.record_score(
            db, actor=team.nurse, session_id=row.id, instrument_id="moaas", answers={}
        )


def test_a_pre_dose_reading_56_minutes_old_does_not_clear_the_start(
    db: Session, team: Staff
) -> None:
    row = ready_iv_session(db, team)  # its pre-dose reading is at minute 0
    state = service.get_session(db, actor=team.nurse, session_id=row.id, now=at(56))
    item = next(i for i in state.checklist if i.rule.id == "vitals")
    assert not item.met and not state.may_start
    assert "56 min old" in item.text and "within 15 min before the start" in item.text
    with pytest.raises(Conflict, match="checklist is incomplete"):
        start(db, team, row.id, minute=56)


def test_a_pre_dose_reading_10_minutes_old_clears_the_start(db: Session, team: Staff) -> None:
    row = ready_iv_session(db, team)
    state = service.get_session(db, actor=team.nurse, session_id=row.id, now=at(10))
    item = next(i for i in state.checklist if i.rule.id == "vitals")
    assert item.met and state.may_start
    start(db, team, row.id, minute=10)
    started = service.get_session(db, actor=team.nurse, session_id=row.id, now=at(60))
    assert next(i for i in started.checklist if i.rule.id == "vitals").met


def second_session(db: Session, team: Staff, minute: float) -> int:
    """The same patient's first infusion is given and discharged at minute 72; a second
    session opens at ``minute`` with its checklist and a fresh reading."""
    first = ready_iv_session(db, team)
    finish(db, team, first.id)
    service.discharge(db, actor=team.nurse, session_id=first.id, now=at(72), **ESCORTED)
    row = service.start_walk_in_session(
        db, actor=team.nurse, patient_id=first.patient_id, now=at(minute)
    )
    service.answer_checklist(
        db,
        actor=team.nurse,
        session_id=row.id,
        answers={"identity": "yes", "consent": "yes", "fasting": "yes", "driver": "yes"},
        now=at(minute),
    )
    vitals(db, team, row.id, minute, 72, 128, 82)
    return row.id


def test_a_second_dose_the_same_day_waits_for_a_prescriber_override(
    db: Session, team: Staff
) -> None:
    sid = second_session(db, team, 41 + 90)  # 90 minutes after the first infusion ended
    state = service.get_session(db, actor=team.nurse, session_id=sid, now=at(132))
    item = next(i for i in state.checklist if i.rule.id == "spacing")
    assert not item.met and not state.may_start
    assert "The last dose began 2.2 h ago" in item.text
    assert "at least 48 h between sessions" in item.text
    # The first dose began at minute 1 (14:01 UTC), shown on the clinic's own clock.
    local = at(1).astimezone(get_settings().zone)  # type: ignore[attr-defined]
    assert f"({local:%Y-%m-%d %H:%M %Z})" in item.text and "UTC" not in item.text
    with pytest.raises(Conflict, match="checklist is incomplete"):
        start(db, team, sid, minute=132)
    service.override_checklist(
        db,
        actor=team.prescriber,
        session_id=sid,
        reason="rescue dose agreed with the patient; seen by me",
        now=at(132),
    )
    start(db, team, sid, minute=133)


def test_a_dose_after_the_minimum_interval_needs_no_override(db: Session, team: Staff) -> None:
    sid = second_session(db, team, 48 * 60 + 2)
    state = service.get_session(db, actor=team.nurse, session_id=sid, now=at(48 * 60 + 3))
    item = next(i for i in state.checklist if i.rule.id == "spacing")
    assert item.met and item.text == "Last dose 48 h ago"
    start(db, team, sid, minute=48 * 60 + 3)


def test_a_session_opened_early_moves_its_appointment_to_the_real_start(
    db: Session, team: Staff
) -> None:
    patient = male_patient(db)
    iv_order(db, patient)
    one_pm = T0 + timedelta(hours=4)  # 13:00 in New York
    booked = appointment(db, patient, one_pm)
    opened_at = T0 + timedelta(hours=2, minutes=26)  # 11:26
    service.start_session_for_appointment(
        db, actor=team.nurse, appointment_id=booked.id, now=opened_at
    )
    db.refresh(booked)
    assert booked.starts_at == opened_at
    assert booked.ends_at == opened_at + timedelta(minutes=90)
    assert booked.status == "checked_in"
    moved = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "appointment.moved_to_actual_start")
    ).one()
    assert moved.detail == "booked 2026-03-10 18:00 UTC, started 2026-03-10 16:26 UTC"


def test_a_session_opened_after_the_booked_time_leaves_the_appointment_as_booked(
    db: Session, team: Staff
) -> None:
    patient = male_patient(db)
    iv_order(db, patient)
    booked = appointment(db, patient, T0)
    service.start_session_for_appointment(
        db, actor=team.nurse, appointment_id=booked.id, now=T0 + timedelta(minutes=5)
    )
    db.refresh(booked)
    assert booked.starts_at == T0 and booked.ends_at == T0 + timedelta(minutes=90)
