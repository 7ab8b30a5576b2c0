from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.candidacy import service
from ketaclinic.candidacy.models import Intake
from ketaclinic.candidacy.schemas import DecisionIn, TrialIn
from ketaclinic.patients import service as patients
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid
from tests.candidacy.factories import (
    DESK,
    NURSE,
    PRESCRIBER,
    a_decision,
    all_answers,
    an_intake,
    cleared_patient,
    intake_in,
)
from tests.patients.factories import a_patient


def test_a_nurse_records_an_intake_and_the_weight_joins_the_patients_history(
    db: Session,
) -> None:
    patient = a_patient(db)
    intake = an_intake(db, patient.id, weight_kg=81.5, height_cm=172, heart_rate=72)
    assert intake.version == 1
    assert intake.recorded_by == "nurse.test"
    assert intake.vitals == {"heart_rate": 72}
    db.expire_all()
    fresh = db.get(type(patient), patient.id)
    assert fresh is not None
    assert patients.current_body(fresh) == (81.5, 172.0)
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == patient.id)).all()
    assert "intake.create" in actions


def test_it_refuses_an_intake_that_leaves_a_rule_unanswered(db: Session) -> None:
    patient = a_patient(db)
    answers = all_answers()
    del answers["pregnancy"]
    with pytest.raises(Invalid) as exc:
        an_intake(db, patient.id, findings=answers)
    assert "finding.pregnancy" in exc.value.fields
    db.rollback()
    assert db.scalars(select(Intake)).all() == []


def test_it_refuses_an_answer_to_a_rule_not_asked_for_the_route(db: Session) -> None:
    patient = a_patient(db)
    answers = all_answers("intranasal")
    answers["ptsd"] = True  # PTSD is not an esketamine indication
    with pytest.raises(Invalid) as exc:
        an_intake(db, patient.id, route="intranasal", findings=answers)
    assert "finding.ptsd" in exc.value.fields


def test_the_trial_list_gives_the_count_of_failed_adequate_trials(db: Session) -> None:
    patient = a_patient(db)
    answers = all_answers()
    answers["failed_antidepressant_trials"] = None
    trials = [
        TrialIn(drug="sertraline", dose="200 mg", duration_weeks=8, adequate=True),
        TrialIn(drug="venlafaxine", dose="225 mg", duration_weeks=6, adequate=True),
        TrialIn(drug="bupropion", dose="150 mg", duration_weeks=2, adequate=False),
    ]
    intake = an_intake(db, patient.id, findings=answers, trials=trials)
    assert intake.findings["failed_antidepressant_trials"] == 2
    assert len(intake.history["trials"]) == 3


def test_it_refuses_a_trial_count_that_contradicts_the_trial_list(db: Session) -> None:
    patient = a_patient(db)
    answers = all_answers(failed_antidepressant_trials=3)
    trials = [TrialIn(drug="sertraline", duration_weeks=8, adequate=True)]
    with pytest.raises(Invalid) as exc:
        an_intake(db, patient.id, findings=answers, trials=trials)
    assert "finding.failed_antidepressant_trials" in exc.value.fields


def test_it_refuses_a_protocol_of_another_route(db: Session) -> None:
    patient = a_patient(db)
    with pytest.raises(Invalid) as exc:
        an_intake(db, patient.id, protocol_id="in_esketamine")
    assert "protocol_id" in exc.value.fields


def test_front_desk_can_neither_record_nor_read_an_intake(db: Session) -> None:
    patient = a_patient(db)
    with pytest.raises(Forbidden):
        service.create_intake(db, actor=DESK, patient_id=patient.id, data=intake_in())
    intake = an_intake(db, patient.id)
    with pytest.raises(Forbidden):
        service.get_intake(db, actor=DESK, intake_id=intake.id)
    with pytest.raises(Forbidden):
        service.evaluate_candidacy(db, actor=DESK, patient_id=patient.id)


def test_a_correction_is_a_new_version_and_the_old_one_stays(db: Session) -> None:
    patient = a_patient(db)
    first = an_intake(db, patient.id, episodes=1)
    second = service.correct_intake(
        db, actor=NURSE, intake_id=first.id, data=intake_in(episodes=3), reason="second episode"
    )
    assert (second.version, second.supersedes_id, second.correction_reason) == (
        2,
        first.id,
        "second episode",
    )
    db.expire_all()
    assert db.get(Intake, first.id).history["episodes"] == 1  # type: ignore[union-attr]
    versions = service.intake_versions(db, actor=NURSE, patient_id=patient.id)
    assert [v.version for v in versions] == [2, 1]
    with pytest.raises(Conflict):
        service.correct_intake(
            db, actor=NURSE, intake_id=first.id, data=intake_in(), reason="stale correction"
        )


def test_the_evaluation_gives_every_reason_with_its_source_and_the_medication_findings(
    db: Session,
) -> None:
    patient = a_patient(db)
    an_intake(
        db,
        patient.id,
        findings=all_answers(hypertension=True),
        medications=["lamotrigine 200 mg", "lorazepam 1 mg", "sertraline 100 mg", "zzzfoo"],
    )
    result = service.evaluate_candidacy(db, actor=NURSE, patient_id=patient.id)
    assert result is not None
    assert result.evaluation.verdict == "eligible_with_precautions"
    reasons = {r.rule_id: r for r in result.evaluation.reasons}
    assert set(reasons) == {
        "treatment_resistant_depression",
        "failed_antidepressant_trials",
        "hypertension",
    }
    assert all(r.source and r.evidence for r in reasons.values())
    classes = {f.interaction_id for f in result.medications.findings}
    assert {"lamotrigine", "benzodiazepines", "ssris"} <= classes
    assert result.medications.unknown == ("zzzfoo",)


def test_a_prescriber_confirms_and_the_evaluation_is_stored_and_audited(db: Session) -> None:
    patient = a_patient(db)
    intake = an_intake(db, patient.id, medications=["sertraline"])
    decision = a_decision(db, patient.id, intake.id)
    assert (decision.decision, decision.computed_verdict, decision.final_verdict) == (
        "confirmed",
        "eligible",
        "eligible",
    )
    assert decision.evaluation["verdict"] == "eligible"
    assert decision.evaluation["medication_findings"][0]["interaction_id"] == "ssris"
    assert decision.findings["treatment_resistant_depression"] is True
    assert "pregnancy" in decision.rule_ids
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "candidacy.confirmed")).one()
    assert event.actor == "dr.test" and event.patient_id == patient.id


def test_an_override_needs_a_different_verdict_and_a_written_reason(db: Session) -> None:
    patient = a_patient(db)
    intake = an_intake(db, patient.id, findings=all_answers(active_psychosis=True))
    with pytest.raises(Invalid) as exc:
        a_decision(db, patient.id, intake.id, decision="override", final_verdict="eligible")
    assert "reason" in exc.value.fields
    with pytest.raises(Invalid):
        a_decision(
            db,
            patient.id,
            intake.id,
            decision="override",
            final_verdict="not_eligible",
            reason="same verdict as computed",
        )
    decision = a_decision(
        db,
        patient.id,
        intake.id,
        decision="override",
        final_verdict="eligible_with_precautions",
        reason="psychosis resolved two years ago, psychiatrist reviewed",
    )
    assert (decision.computed_verdict, decision.final_verdict, decision.decision) == (
        "not_eligible",
        "eligible_with_precautions",
        "overridden",
    )


def test_nobody_but_a_prescriber_decides(db: Session) -> None:
    patient = a_patient(db)
    intake = an_intake(db, patient.id)
    for actor in (NURSE, DESK):
        with pytest.raises(Forbidden):
            service.decide(
                db,
                actor=actor,
                patient_id=patient.id,
                data=DecisionIn(intake_id=intake.id, decision="confirm"),
            )


def test_a_decision_on_a_corrected_intake_is_refused(db: Session) -> None:
    patient = a_patient(db)
    first = an_intake(db, patient.id)
    service.correct_intake(db, actor=NURSE, intake_id=first.id, data=intake_in(), reason="typo")
    with pytest.raises(Conflict):
        a_decision(db, patient.id, first.id)


def test_clearance_follows_the_latest_decision_and_intake(db: Session) -> None:
    patient = a_patient(db)
    assert not service.clearance(db, actor=PRESCRIBER, patient_id=patient.id).cleared
    intake = an_intake(db, patient.id)
    assert (
        "no prescriber has decided"
        in service.clearance(db, actor=PRESCRIBER, patient_id=patient.id).why
    )
    a_decision(db, patient.id, intake.id)
    assert service.clearance(db, actor=PRESCRIBER, patient_id=patient.id).cleared
    service.correct_intake(db, actor=NURSE, intake_id=intake.id, data=intake_in(), reason="typo")
    later = service.clearance(db, actor=PRESCRIBER, patient_id=patient.id)
    assert not later.cleared and "corrected" in later.why


def test_age_comes_from_the_date_of_birth_and_blood_pressure_from_the_intake(
    db: Session,
) -> None:
    from datetime import date

    patient = a_patient(db, date_of_birth=date(2010, 6, 1))
    answers = all_answers("intranasal", measured_systolic_bp=None, measured_diastolic_bp=None)
    intake = an_intake(
        db,
        patient.id,
        route="intranasal",
        findings=answers,
        taken_on=date(2026, 5, 31),
        bp_systolic=152,
        bp_diastolic=94,
    )
    assert intake.findings["esketamine_under_18"] == 15
    assert (intake.findings["measured_systolic_bp"], intake.findings["measured_diastolic_bp"]) == (
        152,
        94,
    )
    result = service.evaluate_candidacy(db, actor=NURSE, patient_id=patient.id)
    assert result is not None and result.evaluation.verdict == "not_eligible"
    assert "esketamine_under_18" in {r.rule_id for r in result.evaluation.reasons}


def test_it_refuses_an_age_or_blood_pressure_that_contradicts_the_record(db: Session) -> None:
    patient = a_patient(db)
    answers = all_answers(age_outside_clinic_range=17, measured_systolic_bp=120)
    with pytest.raises(Invalid) as exc:
        an_intake(db, patient.id, findings=answers, bp_systolic=150, bp_diastolic=80)
    assert {"finding.age_outside_clinic_range", "finding.measured_systolic_bp"} <= set(
        exc.value.fields
    )


def test_only_an_intake_without_a_decision_waits_for_the_prescriber(db: Session) -> None:
    waiting = a_patient(db)
    decided = a_patient(db, given_name="Dee")
    corrected = a_patient(db, given_name="Cora")
    first = an_intake(db, waiting.id)
    cleared_patient(db, decided.id)
    old = cleared_patient(db, corrected.id)
    # A new intake after the decision (a later visit) waits for a decision of its own.
    newer = an_intake(db, corrected.id)
    found = service.decisions_waiting(db, actor=PRESCRIBER)
    assert [(w.intake.id, w.patient_name) for w in found] == [
        (first.id, waiting.display_name),
        (newer.id, corrected.display_name),
    ]
    assert old.id not in {w.intake.id for w in found}
    with pytest.raises(Forbidden):
        service.decisions_waiting(db, actor=NURSE)
