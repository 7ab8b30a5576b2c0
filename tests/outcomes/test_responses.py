"""Recording questionnaires: items, observations with LOINC codes, alerts, nothing
half-saved."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.outcomes import service
from ketaclinic.outcomes.models import (
    OutboxMessage,
    OutcomeObservation,
    QuestionnaireResponse,
    QuestionnaireResponseItem,
    SuicidalityAlert,
)
from ketaclinic.platform.errors import Forbidden, Invalid, NotFound
from tests.outcomes.helpers import a_patient, phq9, staff


def _count(db: Session, model: type) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_a_phq9_is_stored_item_by_item_with_its_total_under_loinc_44261_6(db: Session) -> None:
    nurse = staff(db, "nurse")
    patient = a_patient(db)
    response = service.record_response(
        db,
        actor=nurse,
        patient_id=patient.id,
        instrument_id="phq9",
        answers=[2, 2, 3, 2, 1, 2, 2, 1, 0],
        context="baseline",
    )
    assert response.total == 15
    assert response.severity == "moderately severe"
    items = db.scalars(
        select(QuestionnaireResponseItem).where(
            QuestionnaireResponseItem.response_id == response.id
        )
    ).all()
    assert [(i.item_id, i.value) for i in sorted(items, key=lambda i: i.position)][:2] == [
        ("item1", 2),
        ("item2", 2),
    ]
    assert len(items) == 9
    total = db.scalar(select(OutcomeObservation).where(OutcomeObservation.kind == "total"))
    assert total is not None and total.loinc == "44261-6" and total.value == 15


def test_a_gad7_total_carries_70274_6_and_pcl5_clusters_have_no_invented_code(db: Session) -> None:
    nurse = staff(db, "nurse")
    patient = a_patient(db)
    service.record_response(
        db, actor=nurse, patient_id=patient.id, instrument_id="gad7", answers=[1] * 7
    )
    service.record_response(
        db, actor=nurse, patient_id=patient.id, instrument_id="pcl5", answers=[2] * 20
    )
    rows = db.scalars(select(OutcomeObservation)).all()
    gad = [r for r in rows if r.instrument_id == "gad7" and r.kind == "total"]
    assert gad[0].loinc == "70274-6" and gad[0].value == 7
    pcl_total = [r for r in rows if r.instrument_id == "pcl5" and r.kind == "total"]
    assert pcl_total[0].value == 40 and pcl_total[0].loinc is None
    clusters = [r for r in rows if r.instrument_id == "pcl5" and r.kind == "subscale"]
    assert len(clusters) == 4 and all(r.loinc is None for r in clusters)


def test_a_missing_answer_is_refused_naming_the_question_and_nothing_is_saved(db: Session) -> None:
    nurse = staff(db, "nurse")
    patient = a_patient(db)
    answers = phq9(10)
    del answers["item4"]
    with pytest.raises(Invalid) as caught:
        service.record_response(
            db, actor=nurse, patient_id=patient.id, instrument_id="phq9", answers=answers
        )
    db.rollback()
    assert "item4" in caught.value.fields
    assert "question 4" in caught.value.detail
    assert _count(db, QuestionnaireResponse) == 0
    assert _count(db, QuestionnaireResponseItem) == 0
    assert _count(db, OutcomeObservation) == 0


def test_an_answer_out_of_range_is_refused_naming_the_question(db: Session) -> None:
    nurse = staff(db, "nurse")
    patient = a_patient(db)
    answers = phq9(5)
    answers["item2"] = 4
    with pytest.raises(Invalid) as caught:
        service.record_response(
            db, actor=nurse, patient_id=patient.id, instrument_id="phq9", answers=answers
        )
    db.rollback()
    assert set(caught.value.fields) == {"item2"}
    assert _count(db, QuestionnaireResponse) == 0


def test_phq9_item_9_above_zero_raises_an_alert_for_every_prescriber(db: Session) -> None:
    staff(db, "prescriber", "dr.one")
    staff(db, "prescriber", "dr.two")
    nurse = staff(db, "nurse")
    patient = a_patient(db)
    service.record_response(
        db, actor=nurse, patient_id=patient.id, instrument_id="phq9", answers=phq9(12, item9=1)
    )
    alert = db.scalar(select(SuicidalityAlert))
    assert alert is not None and alert.status == "open"
    assert sorted(alert.notified) == ["dr.one", "dr.two"]
    messages = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "alert")).all()
    assert sorted(m.recipient_username or "" for m in messages) == ["dr.one", "dr.two"]
    assert all(patient.family_name not in m.body for m in messages)


def test_phq9_item_9_at_zero_raises_no_alert(db: Session) -> None:
    nurse = staff(db, "nurse")
    patient = a_patient(db)
    service.record_response(
        db, actor=nurse, patient_id=patient.id, instrument_id="phq9", answers=phq9(20, item9=0)
    )
    assert _count(db, SuicidalityAlert) == 0


def test_a_cssrs_screen_alerts_at_moderate_risk_but_not_at_low(db: Session) -> None:
    nurse = staff(db, "nurse")
    patient = a_patient(db)
    low = {"item1": 1, "item2": 0, "item6": 0}
    service.record_response(
        db,
        actor=nurse,
        patient_id=patient.id,
        instrument_id="cssrs_screen",
        answers=low,
        context="pre_session",
    )
    assert _count(db, SuicidalityAlert) == 0
    moderate = {"item1": 1, "item2": 1, "item3": 1, "item4": 0, "item5": 0, "item6": 0}
    response = service.record_response(
        db, actor=nurse, patient_id=patient.id, instrument_id="cssrs_screen", answers=moderate
    )
    assert response.risk == "moderate"
    assert _count(db, SuicidalityAlert) == 1
    risk = db.scalar(
        select(OutcomeObservation).where(OutcomeObservation.response_id == response.id)
    )
    assert risk is not None and risk.kind == "risk" and risk.value_text == "moderate"


def test_a_patient_sees_only_their_own_scores(db: Session) -> None:
    from ketaclinic.platform.accounts import service as accounts
    from tests.conftest import make_user

    nurse = staff(db, "nurse")
    mine, other = a_patient(db), a_patient(db, given_name="Olu")
    me = accounts.actor_for(make_user(db, "patient", patient_id=mine.id))
    service.record_response(
        db, actor=nurse, patient_id=mine.id, instrument_id="gad7", answers=[1] * 7
    )
    service.record_response(
        db, actor=nurse, patient_id=other.id, instrument_id="gad7", answers=[2] * 7
    )
    history = service.score_history(db, actor=me, patient_id=mine.id)
    assert [(p.instrument_id, p.total) for p in history] == [("gad7", 7)]
    with pytest.raises(NotFound):
        service.score_history(db, actor=me, patient_id=other.id)


def test_a_patient_cannot_enter_a_clinician_rated_madrs(db: Session) -> None:
    from ketaclinic.platform.accounts import service as accounts
    from tests.conftest import make_user

    patient = a_patient(db)
    me = accounts.actor_for(make_user(db, "patient", patient_id=patient.id))
    with pytest.raises(Forbidden):
        service.record_response(
            db, actor=me, patient_id=patient.id, instrument_id="madrs", answers=[1] * 10
        )


def test_front_desk_cannot_record_a_questionnaire(db: Session) -> None:
    desk = staff(db, "front_desk")
    patient = a_patient(db)
    with pytest.raises(Forbidden):
        service.record_response(
            db, actor=desk, patient_id=patient.id, instrument_id="gad7", answers=[0] * 7
        )
