"""A patient's account: charges, payments, adjustments, packages left and the balance,
for the front desk, the chart's balance line and the patient's own portal."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.billing.models import (
    Adjustment,
    Charge,
    Estimate,
    PackagePlan,
    PatientPackage,
    Payment,
)
from ketaclinic.billing.service.common import (
    BALANCE_READERS,
    MONEY,
    _charging_services,
    _reader,
    _service_for,
    _used,
)
from ketaclinic.billing.service.estimates import DisputeNotice, dispute_notices
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.errors import Forbidden
from ketaclinic.sessions import service as sessions


@dataclass(frozen=True)
class PackageStanding:
    package: PatientPackage
    plan: PackagePlan
    used: int
    paid_cents: int

    @property
    def left(self) -> int:
        return self.package.sessions - self.used


@dataclass(frozen=True)
class Totals:
    charged_cents: int = 0
    paid_cents: int = 0
    adjusted_cents: int = 0

    @property
    def balance_cents(self) -> int:
        return self.charged_cents - self.paid_cents - self.adjusted_cents


@dataclass
class Account:
    patient: Any
    charges: list[Charge]
    payments: list[Payment]
    adjustments: list[Adjustment]
    packages: list[PackageStanding]
    estimates: list[Estimate]
    totals: Totals
    uncharged_sessions: int
    disputes: list[DisputeNotice] = field(default_factory=list)
    may_edit: bool = False


def totals_of(db: Session, patient_id: int) -> Totals:
    def total(model: Any) -> int:
        return int(
            db.scalar(select(func.sum(model.amount_cents)).where(model.patient_id == patient_id))
            or 0
        )

    return Totals(total(Charge), total(Payment), total(Adjustment))


def totals_by_patient(db: Session) -> dict[int, Totals]:
    """Every patient's totals, for the outstanding balances report and the books' check."""
    found: dict[int, dict[str, int]] = defaultdict(lambda: {"c": 0, "p": 0, "a": 0})
    for key, model in (("c", Charge), ("p", Payment), ("a", Adjustment)):
        for patient_id, amount in db.execute(
            select(model.patient_id, func.sum(model.amount_cents)).group_by(model.patient_id)
        ):
            found[patient_id][key] = int(amount or 0)
    return {pid: Totals(v["c"], v["p"], v["a"]) for pid, v in found.items()}


def _standing(db: Session, patient_id: int) -> list[PackageStanding]:
    out = []
    for package in db.scalars(
        select(PatientPackage)
        .where(PatientPackage.patient_id == patient_id)
        .order_by(PatientPackage.id)
    ):
        paid = int(
            db.scalar(
                select(func.sum(Payment.amount_cents)).where(Payment.package_id == package.id)
            )
            or 0
        )
        plan = db.get(PackagePlan, package.plan_id)
        assert plan is not None
        out.append(PackageStanding(package, plan, _used(db, package.id), paid))
    return out


def _uncharged(db: Session, actor: Actor, patient_id: int) -> int:
    charged = set(db.scalars(select(Charge.session_id).where(Charge.patient_id == patient_id)))
    services = _charging_services(db)
    return sum(
        1
        for s in sessions.given_sessions(db, actor=actor, patient_id=patient_id)
        if s.session_id not in charged and _service_for(s, services) is not None
    )


def account(db: Session, *, actor: Actor, patient_id: int) -> Account:
    """A patient's charges, payments, adjustments, packages and balance."""
    _reader(db, actor, patient_id, roles=BALANCE_READERS)
    audit.note_read(
        db,
        actor=actor,
        action="billing.account",
        patient_id=patient_id,
        object_type="patient",
        object_id=patient_id,
    )

    def rows(model: Any, order: Any) -> list[Any]:
        return list(
            db.scalars(
                select(model).where(model.patient_id == patient_id).order_by(order, model.id)
            )
        )

    return Account(
        patient=patients.patient_by_id(db, patient_id),
        charges=rows(Charge, Charge.service_on),
        payments=rows(Payment, Payment.received_on),
        adjustments=rows(Adjustment, Adjustment.made_on),
        packages=_standing(db, patient_id),
        estimates=rows(Estimate, Estimate.asked_on),
        totals=totals_of(db, patient_id),
        uncharged_sessions=_uncharged(db, actor, patient_id) if not actor.patient_only else 0,
        disputes=dispute_notices(db, patient_id),
        may_edit=bool(actor.roles & MONEY),
    )


@dataclass(frozen=True)
class BalanceLine:
    balance_cents: int
    packages_left: int


def balance(db: Session, *, actor: Actor, patient_id: int) -> BalanceLine | None:
    """The balance line of the chart (prescribers see it, never edit it); None for a
    reader who may not see money (nurses, researchers)."""
    if not actor.roles & BALANCE_READERS:
        return None
    _reader(db, actor, patient_id, roles=BALANCE_READERS)
    audit.note_read(
        db,
        actor=actor,
        action="billing.balance",
        patient_id=patient_id,
        object_type="patient",
        object_id=patient_id,
    )
    left = sum(p.left for p in _standing(db, patient_id))
    return BalanceLine(totals_of(db, patient_id).balance_cents, left)


def portal_documents(db: Session, *, actor: Actor) -> Account:
    """The logged-in patient's own estimates, receipts and superbills."""
    if not actor.patient_only or actor.patient_id is None:
        raise Forbidden("the billing portal is for patient accounts")
    return account(db, actor=actor, patient_id=actor.patient_id)
