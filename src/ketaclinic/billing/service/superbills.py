"""What a patient sends their insurer or keeps: the superbill of a period or a session,
and a payment's receipt."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.billing.models import Charge, PatientPackage, Payment
from ketaclinic.billing.service.balances import Totals, totals_of
from ketaclinic.billing.service.common import MONEY, _reader, diagnosis_table
from ketaclinic.clinical.codes import billing as codes
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.clock import clinic_today
from ketaclinic.platform.errors import NotFound


@dataclass(frozen=True)
class SuperbillLine:
    charge: Charge
    paid_cents: int


@dataclass(frozen=True)
class Superbill:
    patient: Any
    start: date
    end: date
    lines: list[SuperbillLine]
    diagnoses: list[codes.Diagnosis]

    @property
    def billed_cents(self) -> int:
        return sum(line.charge.billed_cents for line in self.lines)

    @property
    def paid_cents(self) -> int:
        return sum(line.paid_cents for line in self.lines)


def _paid_per_charge(db: Session, patient_id: int) -> dict[int, int]:
    """What was paid towards each billed charge: payments named for the charge, and a
    package's payments shared out over its sessions in the order they were given."""
    paid: dict[int, int] = defaultdict(int)
    for charge_id, amount in db.execute(
        select(Payment.charge_id, func.sum(Payment.amount_cents))
        .where(Payment.patient_id == patient_id, Payment.charge_id.is_not(None))
        .group_by(Payment.charge_id)
    ):
        if charge_id is not None:
            paid[charge_id] += int(amount or 0)
    for package in db.scalars(
        select(PatientPackage).where(PatientPackage.patient_id == patient_id)
    ):
        pot = int(
            db.scalar(
                select(func.sum(Payment.amount_cents)).where(Payment.package_id == package.id)
            )
            or 0
        )
        for charge in db.scalars(
            select(Charge)
            .where(Charge.package_id == package.id, Charge.kind == "session")
            .order_by(Charge.service_on, Charge.id)
        ):
            share = min(charge.billed_cents, max(pot, 0))
            paid[charge.id] += share
            pot -= share
    return paid


def superbill(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    start: date | None = None,
    end: date | None = None,
    session_id: int | None = None,
) -> Superbill:
    """The coded, billed charges of a period (or one session) for the patient to send
    to their insurer."""
    _reader(db, actor, patient_id, roles=MONEY)
    query = select(Charge).where(Charge.patient_id == patient_id, Charge.kind != "package")
    if session_id is not None:
        query = query.where(Charge.session_id == session_id)
    if start is not None:
        query = query.where(Charge.service_on >= start)
    if end is not None:
        query = query.where(Charge.service_on <= end)
    charges = list(db.scalars(query.order_by(Charge.service_on, Charge.id)))
    if session_id is not None and not charges:
        raise NotFound(f"session {session_id} has no charge yet")
    paid = _paid_per_charge(db, patient_id)
    table = diagnosis_table(db)
    wanted = []
    for charge in charges:
        for code in charge.diagnoses:
            if code not in wanted:
                wanted.append(code)
    audit.note_read(
        db,
        actor=actor,
        action="billing.superbill",
        patient_id=patient_id,
        object_type="patient",
        object_id=patient_id,
        detail=f"{len(charges)} charge(s)",
    )
    days = [c.service_on for c in charges]
    return Superbill(
        patient=patients.patient_by_id(db, patient_id),
        start=start or (min(days) if days else clinic_today()),
        end=end or (max(days) if days else clinic_today()),
        lines=[SuperbillLine(c, paid.get(c.id, 0)) for c in charges],
        diagnoses=[table[c] for c in wanted if c in table],
    )


def receipt(db: Session, *, actor: Actor, payment_id: int) -> tuple[Payment, Any, Totals]:
    row = db.get(Payment, payment_id)
    if row is None:
        raise NotFound(f"no payment {payment_id}")
    _reader(db, actor, row.patient_id, roles=MONEY)
    audit.note_read(
        db,
        actor=actor,
        action="billing.receipt",
        patient_id=row.patient_id,
        object_type="billing_payment",
        object_id=row.id,
    )
    return row, patients.patient_by_id(db, row.patient_id), totals_of(db, row.patient_id)
