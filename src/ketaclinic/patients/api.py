"""Patient JSON routes under /api/patients."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header
from sqlalchemy.orm import Session

from ketaclinic.patients import service
from ketaclinic.patients.models import BodyMeasurement, Patient
from ketaclinic.patients.schemas import (
    MeasurementError,
    MeasurementIn,
    MeasurementOut,
    PatientIn,
    PatientOut,
    PatientSummary,
    PatientUpdate,
    VersionOut,
)
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.auth import allow, get_db
from ketaclinic.platform.errors import Invalid
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role

router = APIRouter(prefix="/api/patients", tags=["patients"])
DB = Annotated[Session, Depends(get_db)]
DESK = (Role.prescriber, Role.nurse, Role.front_desk)


def measurement_out(row: BodyMeasurement) -> MeasurementOut:
    return MeasurementOut(
        id=row.id,
        measured_on=row.measured_on,
        weight_kg=row.weight_kg,
        height_cm=row.height_cm,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
        entered_in_error=row.entered_in_error_at is not None,
        error_reason=row.error_reason,
    )


def patient_out(patient: Patient) -> PatientOut:
    return PatientOut(
        **{name: getattr(patient, name) for name in service.DEMOGRAPHIC_FIELDS},
        id=patient.id,
        version=patient.version,
        updated_at=patient.updated_at,
        measurements=[measurement_out(m) for m in patient.measurements],
    )


@router.get("")
def search(
    db: DB, q: str = "", limit: int = 50, actor: Actor = allow(*DESK)
) -> list[PatientSummary]:
    if not 1 <= limit <= 500:
        raise Invalid("limit must be between 1 and 500", fields={"limit": str(limit)})
    return [
        PatientSummary(
            id=p.id, mrn=p.mrn, name=p.display_name, date_of_birth=p.date_of_birth, sex=p.sex
        )
        for p in service.search_patients(db, actor=actor, query=q, limit=limit)
    ]


@router.post("", status_code=201)
def create(body: PatientIn, db: DB, actor: Actor = allow(*DESK)) -> PatientOut:
    return patient_out(service.create_patient(db, actor=actor, data=body))


@router.get("/{patient_id}")
def read(patient_id: RecordId, db: DB, actor: Actor = allow(*DESK, Role.patient)) -> PatientOut:
    return patient_out(service.get_patient(db, actor=actor, patient_id=patient_id))


@router.put("/{patient_id}")
def update(
    patient_id: RecordId,
    body: PatientUpdate,
    db: DB,
    if_match: Annotated[int | None, Header()] = None,
    actor: Actor = allow(*DESK),
) -> PatientOut:
    return patient_out(
        service.update_patient(
            db, actor=actor, patient_id=patient_id, data=body, expected_version=if_match
        )
    )


@router.get("/{patient_id}/history")
def history(patient_id: RecordId, db: DB, actor: Actor = allow(*DESK)) -> list[VersionOut]:
    return [
        VersionOut(
            version=v.version,
            changed_at=v.changed_at,
            changed_by=v.changed_by,
            reason=v.reason,
            data=v.data,
        )
        for v in service.versions(db, actor=actor, patient_id=patient_id)
    ]


@router.post("/{patient_id}/measurements", status_code=201)
def add_measurement(
    patient_id: RecordId, body: MeasurementIn, db: DB, actor: Actor = allow(*DESK)
) -> MeasurementOut:
    return measurement_out(
        service.add_measurement(db, actor=actor, patient_id=patient_id, data=body)
    )


@router.post("/{patient_id}/measurements/{measurement_id}/entered-in-error")
def measurement_in_error(
    patient_id: RecordId,
    measurement_id: RecordId,
    body: MeasurementError,
    db: DB,
    actor: Actor = allow(Role.prescriber, Role.nurse),
) -> MeasurementOut:
    return measurement_out(
        service.mark_measurement_in_error(
            db,
            actor=actor,
            patient_id=patient_id,
            measurement_id=measurement_id,
            reason=body.reason,
        )
    )
