"""Candidacy JSON routes under /api/candidacy: intake, evaluation, decision."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from ketaclinic.candidacy import service
from ketaclinic.candidacy.models import CandidacyDecision, Intake
from ketaclinic.candidacy.schemas import (
    CorrectionIn,
    DecisionIn,
    DecisionOut,
    EvaluationOut,
    IntakeIn,
    IntakeOut,
)
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.auth import allow, get_db
from ketaclinic.platform.errors import NotFound
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role

router = APIRouter(prefix="/api/candidacy", tags=["candidacy"])
DB = Annotated[Session, Depends(get_db)]
CLINICAL = (Role.prescriber, Role.nurse)


def intake_out(row: Intake) -> IntakeOut:
    return IntakeOut.model_validate(row, from_attributes=True)


def decision_out(row: CandidacyDecision) -> DecisionOut:
    return DecisionOut.model_validate(row, from_attributes=True)


@router.post("/patients/{patient_id}/intakes", status_code=201)
def create_intake(
    patient_id: RecordId, body: IntakeIn, db: DB, actor: Actor = allow(*CLINICAL)
) -> IntakeOut:
    return intake_out(service.create_intake(db, actor=actor, patient_id=patient_id, data=body))


@router.get("/patients/{patient_id}/intakes")
def list_intakes(patient_id: RecordId, db: DB, actor: Actor = allow(*CLINICAL)) -> list[IntakeOut]:
    return [intake_out(r) for r in service.intake_versions(db, actor=actor, patient_id=patient_id)]


@router.get("/intakes/{intake_id}")
def read_intake(intake_id: RecordId, db: DB, actor: Actor = allow(*CLINICAL)) -> IntakeOut:
    return intake_out(service.get_intake(db, actor=actor, intake_id=intake_id))


@router.post("/intakes/{intake_id}/corrections", status_code=201)
def correct_intake(
    intake_id: RecordId, body: CorrectionIn, db: DB, actor: Actor = allow(*CLINICAL)
) -> IntakeOut:
    return intake_out(
        service.correct_intake(
            db, actor=actor, intake_id=intake_id, data=body.intake, reason=body.reason
        )
    )


@router.get("/patients/{patient_id}/evaluation")
def evaluation(patient_id: RecordId, db: DB, actor: Actor = allow(*CLINICAL)) -> EvaluationOut:
    result = service.evaluate_candidacy(db, actor=actor, patient_id=patient_id)
    if result is None:
        raise NotFound("no intake recorded for this patient")
    return EvaluationOut(**result.snapshot())


@router.post("/patients/{patient_id}/decisions", status_code=201)
def decide(
    patient_id: RecordId, body: DecisionIn, db: DB, actor: Actor = allow(Role.prescriber)
) -> DecisionOut:
    return decision_out(service.decide(db, actor=actor, patient_id=patient_id, data=body))


@router.get("/patients/{patient_id}/decisions")
def list_decisions(
    patient_id: RecordId, db: DB, actor: Actor = allow(*CLINICAL)
) -> list[DecisionOut]:
    return [decision_out(r) for r in service.decisions(db, actor=actor, patient_id=patient_id)]
