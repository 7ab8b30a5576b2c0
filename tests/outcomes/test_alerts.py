"""The suicidality alert lifecycle: raised, shown, acknowledged with the action taken,
escalated at the clinic's set time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.outcomes import service
from ketaclinic.outcomes.models import OutboxMessage, SuicidalityAlert
from ketaclinic.outcomes.service import config
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid
from tests.outcomes.helpers import a_patient, phq9, staff


def _alert(db: Session) -> SuicidalityAlert:
    nurse = staff(db, "nurse")
    patient = a_patient(db)
    service.record_response(
        db, actor=nurse, patient_id=patient.id, instrument_id="phq9", answers=phq9(14, item9=2)
    )
    alert = db.scalar(select(SuicidalityAlert))
    assert alert is not None
    return alert


def test_an_unacknowledged_alert_escalates_at_the_clinic_set_time(db: Session) -> None:
    admin = staff(db, "admin")
    staff(db, "prescriber", "dr.rivera")
    staff(db, ["prescriber", "admin"], "dr.chen")
    config.change_setting(
        db,
        actor=admin,
        key="escalate_after_minutes",
        value="30",
        reason="our medical director wants 30 minutes",
    )
    alert = _alert(db)
    assert alert.escalate_after_min == 30
    raised = alert.raised_at
    assert service.escalate_due(db, now=raised + timedelta(minutes=29)) == []
    escalated = service.escalate_due(db, now=raised + timedelta(minutes=30))
    assert [a.id for a in escalated] == [alert.id]
    db.refresh(alert)
    assert alert.escalated_at == raised + timedelta(minutes=30)
    assert alert.escalated_to == ["dr.chen", "dr.rivera"]
    sent = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "alert_escalation")).all()
    assert sorted(m.recipient_username or "" for m in sent) == ["dr.chen", "dr.rivera"]
    assert service.escalate_due(db, now=raised + timedelta(hours=5)) == []


def test_an_acknowledged_alert_does_not_escalate(db: Session) -> None:
    staff(db, "prescriber", "dr.rivera")
    alert = _alert(db)
    doctor = staff(db, "prescriber", "dr.x")
    service.acknowledge(db, actor=doctor, alert_id=alert.id, action="safety_plan_reviewed")
    assert service.escalate_due(db, now=alert.raised_at + timedelta(days=1)) == []


def test_acknowledging_needs_the_action_taken_and_a_note_for_other(db: Session) -> None:
    alert = _alert(db)
    doctor = staff(db, "prescriber", "dr.x")
    with pytest.raises(Invalid):
        service.acknowledge(db, actor=doctor, alert_id=alert.id, action="")
    with pytest.raises(Invalid) as caught:
        service.acknowledge(db, actor=doctor, alert_id=alert.id, action="other", note="")
    assert "note" in caught.value.fields
    done = service.acknowledge(
        db,
        actor=doctor,
        alert_id=alert.id,
        action="crisis_line_given",
        note="gave 988, patient safe at home with partner",
    )
    assert done.status == "acknowledged" and done.acknowledged_by == "dr.x"
    assert service.open_alerts(db, actor=doctor) == []
    with pytest.raises(Conflict):
        service.acknowledge(db, actor=doctor, alert_id=alert.id, action="other", note="again")


def test_front_desk_and_researchers_cannot_see_or_acknowledge_alerts(db: Session) -> None:
    alert = _alert(db)
    for role in ("front_desk", "researcher"):
        who = staff(db, role)
        with pytest.raises(Forbidden):
            service.open_alerts(db, actor=who)
        with pytest.raises(Forbidden):
            service.acknowledge(db, actor=who, alert_id=alert.id, action="other", note="x y z")


def test_a_clinician_can_raise_an_alert_by_hand_with_what_they_observed(db: Session) -> None:
    nurse = staff(db, "nurse")
    patient = a_patient(db)
    with pytest.raises(Invalid):
        service.flag_by_clinician(db, actor=nurse, patient_id=patient.id, note="")
    alert = service.flag_by_clinician(
        db, actor=nurse, patient_id=patient.id, note="spoke of hopelessness in the chair"
    )
    assert alert.source == "clinician" and "hopelessness" in alert.detail
    assert [a.id for a in service.open_alerts(db, actor=nurse)] == [alert.id]


def test_the_escalation_time_is_a_whole_number_of_minutes(db: Session) -> None:
    admin = staff(db, "admin")
    with pytest.raises(Invalid):
        config.change_setting(
            db, actor=admin, key="escalate_after_minutes", value="soon", reason="test"
        )
    nurse = staff(db, "nurse")
    with pytest.raises(Forbidden):
        config.change_setting(
            db, actor=nurse, key="escalate_after_minutes", value="5", reason="test"
        )
    assert config.setting(db, "escalate_after_minutes") == 60
    assert utcnow()  # the default stays in force


def test_a_notice_for_an_alert_already_acknowledged_is_not_sent(db: Session) -> None:
    from ketaclinic.outcomes.service import MemoryTransport
    from ketaclinic.outcomes.service.outbox import deliver_pending

    staff(db, "prescriber", "dr.rivera")
    alert = _alert(db)
    service.acknowledge(
        db,
        actor=staff(db, "nurse", "nurse.two"),
        alert_id=alert.id,
        action="emergency_escalation",
        note="911 called with the patient",
    )
    transport = MemoryTransport()
    result = deliver_pending(db, now=utcnow(), transport=transport)
    assert (result.sent, result.skipped) == (0, 1) and transport.sent == []


def test_the_open_alerts_come_with_their_patients_names_and_an_acknowledged_one_leaves(
    db: Session,
) -> None:
    nurse = staff(db, "nurse")
    doctor = staff(db, "prescriber", "dr.x")
    first, second, calm = a_patient(db), a_patient(db), a_patient(db)
    one = service.flag_by_clinician(db, actor=nurse, patient_id=first.id, note="said goodbye")
    service.flag_by_clinician(db, actor=nurse, patient_id=second.id, note="gave things away")
    service.acknowledge(db, actor=doctor, alert_id=one.id, action="safety_plan_reviewed")
    named = service.open_alerts_named(db, actor=doctor)
    assert [(a.patient_id, name) for a, name in named] == [(second.id, second.display_name)]
    ids = [first.id, second.id, calm.id]
    assert service.patients_with_open_alert(db, patient_ids=ids) == {second.id}
    assert service.patients_with_open_alert(db, patient_ids=[]) == set()
