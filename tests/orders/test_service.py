from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.orders import service
from ketaclinic.orders.models import Order, SignedOrderChanged
from ketaclinic.orders.schemas import OrderIn, OverrideIn
from ketaclinic.platform.audit import service as audit
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
)
from tests.conftest import PASSWORD
from tests.orders.factories import IV, a_course, a_signed_order, a_weighed_patient, signer


def _open(db: Session, patient_id: int, protocol_id: str = "iv_ketamine") -> object:
    return service.open_course(
        db,
        actor=PRESCRIBER,
        patient_id=patient_id,
        protocol_id=protocol_id,
        indication="treatment_resistant_depression",
    )


def test_a_course_is_refused_without_a_candidacy_decision(db: Session) -> None:
    patient = a_weighed_patient(db)
    an_intake(db, patient.id)
    with pytest.raises(Conflict) as exc:
        _open(db, patient.id)
    assert "no prescriber has decided" in exc.value.detail


def test_a_course_is_refused_when_the_final_verdict_is_not_eligible(db: Session) -> None:
    patient = a_weighed_patient(db)
    intake = an_intake(db, patient.id, findings=all_answers(illicit_ketamine_use=True))
    a_decision(db, patient.id, intake.id)
    with pytest.raises(Conflict) as exc:
        _open(db, patient.id)
    assert "not eligible" in exc.value.detail


def test_an_override_to_eligible_clears_the_patient(db: Session) -> None:
    patient = a_weighed_patient(db)
    intake = an_intake(db, patient.id, findings=all_answers(psychosis_history=True))
    a_decision(
        db,
        patient.id,
        intake.id,
        decision="override",
        final_verdict="eligible",
        reason="single drug-induced episode 15 years ago",
    )
    course = _open(db, patient.id)
    assert course.status == "active"  # type: ignore[attr-defined]


def test_a_protocol_of_another_route_than_the_decision_is_refused(db: Session) -> None:
    patient = a_weighed_patient(db)
    cleared_patient(db, patient.id, route="intranasal")
    with pytest.raises(Invalid) as exc:
        _open(db, patient.id, "iv_ketamine")
    assert "protocol_id" in exc.value.fields


def test_nurses_cannot_open_a_course(db: Session) -> None:
    patient = a_weighed_patient(db)
    with pytest.raises(Forbidden):
        service.open_course(
            db, actor=NURSE, patient_id=patient.id, protocol_id="iv_ketamine", indication="ptsd"
        )


def test_an_iv_course_plans_six_induction_sessions(db: Session) -> None:
    patient = a_weighed_patient(db)
    course = a_course(db, patient, started_on=date(2026, 1, 5))
    sessions = service.planned_sessions(db, actor=DESK, course_id=course.id)
    assert [(s.number, s.kind, s.status) for s in sessions] == [
        (n, "induction", "planned") for n in range(1, 7)
    ]
    assert sessions[0].earliest_on == date(2026, 1, 5)
    with pytest.raises(Conflict):
        _open(db, patient.id)  # a second active course


def test_an_esketamine_course_plans_eight_sessions(db: Session) -> None:
    patient = a_weighed_patient(db)
    course = a_course(db, patient, "in_esketamine")
    assert course.series_sessions == 8


def test_a_signed_order_carries_the_dose_arithmetic(db: Session) -> None:
    patient = a_weighed_patient(db, weight=80, height=175, sex="male")
    course = a_course(db, patient)
    order = a_signed_order(db, course)
    # 0.5 mg/kg x 80 kg = 40 mg; 40 mg / 10 mg/mL = 4 mL; 100 + 4 = 104 mL over 40 min.
    assert (order.dose_mg, order.drug_volume_ml, order.total_volume_ml) == (40.0, 4.0, 104.0)
    assert order.rate_ml_per_h == 156.0
    assert (order.weight_kg, order.dose_weight_kg, order.dose_weight_basis) == (80, 80, "actual")
    assert order.status == "signed" and order.signed_by == "dr.test"
    assert any("Pump rate" in s for s in order.plan_steps)
    assert service.current_order(db, actor=NURSE, course_id=course.id).id == order.id  # type: ignore[union-attr]


def test_a_signed_order_is_immutable(db: Session) -> None:
    patient = a_weighed_patient(db)
    course = a_course(db, patient)
    order = a_signed_order(db, course)
    with pytest.raises(Conflict):
        service.revise_draft(db, actor=PRESCRIBER, order_id=order.id, data=IV)
    with pytest.raises(Conflict):
        service.sign_order(db, actor=signer(db), order_id=order.id, password=PASSWORD)
    with pytest.raises(Conflict):
        service.draft_order(db, actor=PRESCRIBER, course_id=course.id, data=IV)
    order.dose_mg = 400.0
    with pytest.raises(SignedOrderChanged):
        db.commit()
    db.rollback()
    assert db.get(Order, order.id).dose_mg == 40.0  # type: ignore[union-attr]


def test_a_change_supersedes_the_signed_order_once_signed(db: Session) -> None:
    patient = a_weighed_patient(db)
    course = a_course(db, patient)
    first = a_signed_order(db, course)
    change = OrderIn(dose_mg_per_kg=0.4, concentration_mg_per_ml=10, bag_volume_ml=100)
    draft = service.supersede_order(
        db, actor=PRESCRIBER, order_id=first.id, data=change, reason="dissociation too strong"
    )
    assert db.get(Order, first.id).status == "signed"  # type: ignore[union-attr]
    service.sign_order(db, actor=signer(db), order_id=draft.id, password=PASSWORD)
    db.expire_all()
    assert db.get(Order, first.id).status == "superseded"  # type: ignore[union-attr]
    current = service.current_order(db, actor=NURSE, course_id=course.id)
    assert current is not None and current.id == draft.id and current.dose_mg == 32.0
    assert current.change_reason == "dissociation too strong"
    with pytest.raises(Conflict):
        service.supersede_order(
            db, actor=PRESCRIBER, order_id=first.id, data=change, reason="from a stale order"
        )


def test_titration_steps_up_to_the_next_protocol_step(db: Session) -> None:
    patient = a_weighed_patient(db, weight=80)
    course = a_course(db, patient)
    first = a_signed_order(db, course)
    draft = service.titrate(db, actor=PRESCRIBER, order_id=first.id)
    assert (draft.dose_mg_per_kg, draft.dose_mg, draft.change_reason) == (0.75, 60.0, "titration")
    top = service.sign_order(db, actor=signer(db), order_id=draft.id, password=PASSWORD)
    third = service.titrate(db, actor=PRESCRIBER, order_id=top.id)
    assert third.dose_mg_per_kg == 1.0
    final = service.sign_order(db, actor=signer(db), order_id=third.id, password=PASSWORD)
    with pytest.raises(Invalid):
        service.titrate(db, actor=PRESCRIBER, order_id=final.id)
    with pytest.raises(Forbidden):
        service.titrate(db, actor=NURSE, order_id=final.id)


def test_a_dose_outside_the_protocol_is_a_field_error(db: Session) -> None:
    patient = a_weighed_patient(db)
    course = a_course(db, patient)
    bad = OrderIn(dose_mg_per_kg=1.5, concentration_mg_per_ml=10, bag_volume_ml=100)
    with pytest.raises(Invalid) as exc:
        service.draft_order(db, actor=PRESCRIBER, course_id=course.id, data=bad)
    assert "dose_mg_per_kg" in exc.value.fields
    with pytest.raises(Invalid) as exc:
        service.draft_order(
            db, actor=PRESCRIBER, course_id=course.id, data=OrderIn(dose_mg_per_kg=0.5)
        )
    assert "concentration_mg_per_ml" in exc.value.fields


def test_a_prescriber_raises_the_cap_with_a_reason_and_it_is_stored_and_audited(
    db: Session,
) -> None:
    patient = a_weighed_patient(db, weight=120)
    course = a_course(db, patient)
    heavy = OrderIn(dose_mg_per_kg=1.0, concentration_mg_per_ml=10, bag_volume_ml=100)
    with pytest.raises(Invalid) as exc:
        service.draft_order(db, actor=PRESCRIBER, course_id=course.id, data=heavy)
    assert "maximum single dose" in exc.value.detail
    raised = heavy.model_copy(
        update={
            "overrides": [
                OverrideIn(
                    target="iv_ketamine",
                    field="max_dose_mg",
                    value=130,
                    reason="partial response at 0.75 mg/kg, well tolerated",
                )
            ]
        }
    )
    order = service.draft_order(db, actor=PRESCRIBER, course_id=course.id, data=raised)
    assert order.dose_mg == 120.0
    assert order.overrides == [
        {
            "target": "iv_ketamine",
            "field": "max_dose_mg",
            "value": 130.0,
            "by": "dr.test",
            "reason": "partial response at 0.75 mg/kg, well tolerated",
        }
    ]
    detail = db.scalars(select(AuditEvent.detail).where(AuditEvent.action == "order.draft")).one()
    assert "max_dose_mg=130" in detail


def test_an_order_needs_a_weight_on_the_record(db: Session) -> None:
    from tests.patients.factories import a_patient

    patient = a_patient(db)
    course = a_course(db, patient)
    with pytest.raises(Invalid) as exc:
        service.draft_order(db, actor=PRESCRIBER, course_id=course.id, data=IV)
    assert "weight" in exc.value.detail


def test_planned_sessions_are_booked_completed_and_stay_completed(db: Session) -> None:
    patient = a_weighed_patient(db)
    course = a_course(db, patient)
    first = service.next_planned_session(db, actor=DESK, patient_id=patient.id)
    assert first is not None and first.number == 1
    service.mark_planned_session(db, actor=DESK, planned_session_id=first.id, status="booked")
    assert service.next_planned_session(db, actor=DESK, patient_id=patient.id).id == first.id  # type: ignore[union-attr]
    service.mark_planned_session(db, actor=NURSE, planned_session_id=first.id, status="completed")
    second = service.next_planned_session(db, actor=DESK, patient_id=patient.id)
    assert second is not None and second.number == 2
    with pytest.raises(Conflict):
        service.mark_planned_session(db, actor=DESK, planned_session_id=first.id, status="planned")
    with pytest.raises(Invalid):
        service.mark_planned_session(db, actor=DESK, planned_session_id=second.id, status="done")
    assert service.active_course(db, actor=DESK, patient_id=patient.id).id == course.id  # type: ignore[union-attr]


def test_front_desk_reads_the_plan_but_not_the_orders(db: Session) -> None:
    patient = a_weighed_patient(db)
    course = a_course(db, patient)
    order = a_signed_order(db, course)
    with pytest.raises(Forbidden):
        service.get_order(db, actor=DESK, order_id=order.id)
    with pytest.raises(Forbidden):
        service.current_order(db, actor=DESK, course_id=course.id)
    assert service.get_order(db, actor=NURSE, order_id=order.id).id == order.id


def test_reads_of_orders_are_audited(db: Session) -> None:
    patient = a_weighed_patient(db)
    course = a_course(db, patient)
    order = a_signed_order(db, course)
    service.get_order(db, actor=NURSE, order_id=order.id)
    service.planned_sessions(db, actor=NURSE, course_id=course.id)
    audit.flush_reads(db)  # as the unit of work does when the act ends
    # One row for the patient's read, naming each thing read.
    rows = db.execute(
        select(AuditEvent.action, AuditEvent.detail).where(
            AuditEvent.actor == "nurse.test",
            AuditEvent.action.in_(["order.view", "planned_session.list"]),
        )
    ).all()
    assert [r.action for r in rows] == ["order.view"]
    assert "planned_session.list" in rows[0].detail


def test_a_drafted_order_waits_on_the_prescribers_list_until_it_is_signed(
    db: Session,
) -> None:
    patient = a_weighed_patient(db)
    course = a_course(db, patient)
    signed = a_signed_order(db, a_course(db, a_weighed_patient(db, given_name="Ann")))
    draft = service.draft_order(db, actor=PRESCRIBER, course_id=course.id, data=IV)
    waiting = service.drafts_to_sign(db, actor=PRESCRIBER)
    assert [(w.order.id, w.patient_name) for w in waiting] == [(draft.id, patient.display_name)]
    assert signed.id not in {w.order.id for w in waiting}
    service.sign_order(db, actor=signer(db), order_id=draft.id, password=PASSWORD)
    assert service.drafts_to_sign(db, actor=PRESCRIBER) == []
    with pytest.raises(Forbidden):
        service.drafts_to_sign(db, actor=NURSE)
