"""Care plan JSON routes: a patient's care team and medication plan."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from ketaclinic.care import service
from ketaclinic.care.schemas import FindingOut, MedicationOut, MemberOut
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.auth import allow, get_db
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role

router = APIRouter(prefix="/api/patients", tags=["care"])
DB = Annotated[Session, Depends(get_db)]


@router.get("/{patient_id}/care-team", response_model=list[MemberOut])
def care_team(
    db: DB,
    patient_id: RecordId,
    actor: Actor = allow(Role.prescriber, Role.nurse, Role.front_desk, Role.therapist),
) -> list[MemberOut]:
    return [
        MemberOut(
            id=m.id,
            role=m.role,
            user_id=m.user_id,
            name=m.name,
            organisation=m.organisation,
            phone=m.phone,
            email=m.email,
            primary=m.primary,
        )
        for m in service.care_team(db, actor=actor, patient_id=patient_id)
    ]


@router.get("/{patient_id}/medication-plan", response_model=list[MedicationOut])
def medication_plan(
    db: DB,
    patient_id: RecordId,
    actor: Actor = allow(Role.prescriber, Role.nurse, Role.therapist),
) -> list[MedicationOut]:
    return [
        MedicationOut(
            id=m.entry.id,
            name=m.entry.name,
            dose=m.entry.dose,
            kind=m.entry.kind,
            prescriber=m.entry.prescriber,
            started_on=m.entry.started_on,
            stopped_on=m.entry.stopped_on,
            findings=[
                FindingOut(
                    drug_class=f.drug_class,
                    severity=f.severity,
                    effect=f.effect,
                    advice=f.advice,
                    source=f.source,
                    evidence=f.evidence,
                )
                for f in m.findings
            ],
            in_interaction_table=m.in_table,
        )
        for m in service.medication_plan(db, actor=actor, patient_id=patient_id)
    ]
