"""The patient's insurer on file: a patient with one is not self-pay, and their sessions
may go on a claim."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.billing.models import Coverage
from ketaclinic.billing.service.common import _writer
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.errors import Invalid


def record_coverage(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    payer_name: str,
    payer_id: str,
    member_id: str,
    group_number: str | None = None,
) -> Coverage:
    _writer(db, actor, patient_id)
    if not (payer_name.strip() and payer_id.strip() and member_id.strip()):
        raise Invalid(
            "payer, payer id and member id are all needed", fields={"member_id": "required"}
        )
    row = Coverage(
        patient_id=patient_id,
        payer_name=payer_name.strip(),
        payer_id=payer_id.strip(),
        member_id=member_id.strip(),
        group_number=(group_number or "").strip() or None,
        recorded_by=actor.username,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="billing.coverage",
        patient_id=patient_id,
        object_type="billing_coverage",
        object_id=row.id,
        detail=payer_name.strip(),
    )
    return row


def coverage_of(db: Session, patient_id: int) -> Coverage | None:
    return db.scalar(
        select(Coverage)
        .where(Coverage.patient_id == patient_id)
        .order_by(Coverage.id.desc())
        .limit(1)
    )
