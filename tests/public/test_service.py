from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.patients.models import Patient
from ketaclinic.patients.schemas import PatientIn
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid, NotFound
from ketaclinic.platform.roles import Role
from ketaclinic.public import service
from ketaclinic.public.models import IntakeLead
from tests.public.helpers import a_lead, answers


def _actor(db: Session, role: str) -> Actor:
    patient_id = 1 if role == "patient" else None
    return Actor(
        user_id=None,
        username=role.replace("_", ""),
        roles=frozenset({Role(role)}),
        patient_id=patient_id,
    )


def test_an_eligible_person_is_told_a_consultation_makes_sense() -> None:
    result = service.explain(answers(), "intravenous")
    assert result.verdict == "eligible"
    assert result.consultation == "yes"
    assert "consultation makes sense" in result.summary
    assert {r.rule_id for r in result.reasons} == {
        "treatment_resistant_depression",
        "failed_antidepressant_trials",
    }
    assert all(r.source for r in result.reasons)
    assert not result.crisis and not result.to_clarify


def test_an_absolute_contraindication_explains_why_not_without_diagnosing() -> None:
    result = service.explain(answers(uncontrolled_hypertension=True), "intravenous")
    assert result.verdict == "not_eligible"
    assert result.consultation == "not_now"
    reason = next(r for r in result.reasons if r.rule_id == "uncontrolled_hypertension")
    assert reason.absolute and "blood pressure" in reason.plain
    assert "Ketalar" in reason.source
    assert "diagnos" not in result.summary.lower()
    assert "your blood pressure" in result.workup


def test_unknown_answers_are_listed_as_what_to_clarify() -> None:
    result = service.explain(answers(pregnancy=None, cardiovascular_disease=None), "intravenous")
    assert result.verdict == "needs_information"
    assert result.consultation == "to_clarify"
    assert result.to_clarify == (
        "Are you pregnant, or could you be?",
        "Do you have a heart or blood-vessel condition (for example heart failure, a heart "
        "rhythm problem or a valve problem)?",
    )


def test_no_indication_says_what_the_treatment_is_for() -> None:
    result = service.explain(
        answers(treatment_resistant_depression=False, failed_antidepressant_trials=0),
        "intravenous",
    )
    assert result.verdict == "not_eligible"
    assert result.reasons[0].rule_id == "no_indication"
    assert "none of them applies to you" in result.reasons[0].plain


def test_suicidal_thoughts_raise_the_crisis_flag() -> None:
    assert service.explain(answers(suicidal_ideation=True), "intravenous").crisis


def test_the_nasal_spray_does_not_block_on_warnings_the_label_does_not_list() -> None:
    iv = service.explain(answers(pregnancy=True), "intravenous")
    nasal = service.explain(answers(pregnancy=True), "intranasal")
    assert iv.verdict == "not_eligible"
    assert nasal.verdict == "eligible_with_precautions"


def test_a_lead_is_stored_with_its_answers_and_verdict_and_audited(db: Session) -> None:
    lead = a_lead(db, suicidal_ideation=True, pregnancy=None)
    stored = db.get(IntakeLead, lead.id)
    assert stored is not None
    assert stored.answers["pregnancy"] is None
    assert stored.answers["failed_antidepressant_trials"] == 3
    assert stored.verdict == "needs_information"
    assert stored.urgent and stored.status == "new"
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "lead.create")).one()
    assert event.actor == "public" and event.object_id == str(lead.id)


def test_get_lead_returns_the_answers_keyed_by_rule_id_and_audits_the_read(
    db: Session,
) -> None:
    lead = a_lead(db, hypertension=True)
    desk = _actor(db, "front_desk")
    found = service.get_lead(db, actor=desk, lead_id=lead.id)
    assert found.answers["hypertension"] is True
    assert found.answers["treatment_resistant_depression"] is True
    assert found.answers["pregnancy"] is False
    audit.flush_reads(db)  # as the unit of work does when the act ends
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.actor == "frontdesk")).all()
    assert "lead.view" in actions


def test_patients_researchers_and_admins_cannot_read_leads(db: Session) -> None:
    lead = a_lead(db)
    for role in ("patient", "researcher", "admin"):
        with pytest.raises(Forbidden):
            service.get_lead(db, actor=_actor(db, role), lead_id=lead.id)


def test_staff_mark_a_lead_contacted_then_closed_with_notes(db: Session) -> None:
    lead = a_lead(db)
    nurse = _actor(db, "nurse")
    service.mark_lead(db, actor=nurse, lead_id=lead.id, status="contacted", note="phoned")
    service.mark_lead(db, actor=nurse, lead_id=lead.id, status="closed", note="not interested")
    found = service.get_lead(db, actor=nurse, lead_id=lead.id)
    assert found.status == "closed" and found.handled_by == "nurse"
    assert [(e.from_status, e.to_status, e.note) for e in found.events] == [
        (None, "new", ""),
        ("new", "contacted", "phoned"),
        ("contacted", "closed", "not interested"),
    ]


def test_marking_a_lead_needs_a_note_and_an_allowed_status(db: Session) -> None:
    lead = a_lead(db)
    desk = _actor(db, "front_desk")
    with pytest.raises(Invalid):
        service.mark_lead(db, actor=desk, lead_id=lead.id, status="contacted", note=" ")
    with pytest.raises(Invalid):
        service.mark_lead(db, actor=desk, lead_id=lead.id, status="converted", note="yes")
    with pytest.raises(NotFound):
        service.mark_lead(db, actor=desk, lead_id=9999, status="closed", note="gone")


def test_converting_a_lead_registers_the_patient_and_keeps_the_link(db: Session) -> None:
    lead = a_lead(db, name="Robin Vale")
    desk = _actor(db, "front_desk")
    data = PatientIn(
        given_name="Robin", family_name="Vale", date_of_birth=date(1985, 3, 2), sex="female"
    )
    converted = service.convert_lead(db, actor=desk, lead_id=lead.id, data=data, note="booked")
    patient = db.get(Patient, converted.patient_id)
    assert patient is not None and patient.family_name == "Vale"
    assert converted.status == "converted"
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "lead.convert")).one()
    assert event.patient_id == patient.id
    with pytest.raises(Conflict):
        service.convert_lead(db, actor=desk, lead_id=lead.id, data=data)
    assert db.scalar(select(Patient.id).where(Patient.family_name == "Vale").offset(1)) is None


def test_a_failed_conversion_saves_nothing(db: Session) -> None:
    lead = a_lead(db)
    desk = _actor(db, "front_desk")
    taken = PatientIn(
        given_name="A", family_name="B", date_of_birth=date(1980, 1, 1), sex="male", mrn="X1"
    )
    service.convert_lead(db, actor=desk, lead_id=a_lead(db, name="First One").id, data=taken)
    with pytest.raises(Conflict):
        service.convert_lead(db, actor=desk, lead_id=lead.id, data=taken)
    db.rollback()
    again = service.get_lead(db, actor=desk, lead_id=lead.id)
    assert again.status == "new" and again.patient_id is None
    assert [e.to_status for e in again.events] == ["new"]


def test_the_open_list_puts_urgent_leads_first_and_hides_closed_ones(db: Session) -> None:
    calm = a_lead(db, name="Calm Person")
    urgent = a_lead(db, name="Urgent Person", suicidal_ideation=True)
    closed = a_lead(db, name="Closed Person")
    desk = _actor(db, "front_desk")
    service.mark_lead(db, actor=desk, lead_id=closed.id, status="closed", note="duplicate")
    open_ids = [lead.id for lead in service.list_leads(db, actor=desk)]
    assert open_ids == [urgent.id, calm.id]
    assert [lead.id for lead in service.list_leads(db, actor=desk, status="closed")] == [closed.id]
    with pytest.raises(Invalid):
        service.list_leads(db, actor=desk, status="bogus")
