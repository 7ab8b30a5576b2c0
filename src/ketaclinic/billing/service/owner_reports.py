"""The owner's money reports: revenue by service and month, outstanding balances and
package liability."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.billing.models import Charge, PackagePlan, PatientPackage, Payment, PricedService
from ketaclinic.billing.service.balances import Totals, totals_by_patient
from ketaclinic.billing.service.common import OWNER, _require, _share, _used
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit


@dataclass(frozen=True)
class RevenueRow:
    month: str
    service: str
    charged_cents: int
    count: int


@dataclass(frozen=True)
class Outstanding:
    patient_id: int
    name: str
    totals: Totals


@dataclass(frozen=True)
class Liability:
    patient_id: int
    name: str
    plan: str
    left: int
    value_cents: int


@dataclass
class Reports:
    revenue: list[RevenueRow]
    payments_by_month: dict[str, int]
    outstanding: list[Outstanding]
    liability: list[Liability]

    @property
    def liability_cents(self) -> int:
        return sum(r.value_cents for r in self.liability)

    @property
    def outstanding_cents(self) -> int:
        return sum(r.totals.balance_cents for r in self.outstanding)


def reports(db: Session, *, actor: Actor) -> Reports:
    """Revenue by service and month, outstanding balances, package liability (sessions
    paid for and not yet given, at their share of the package price)."""
    _require(actor, OWNER, "the money reports")
    names = {s.id: s.name for s in db.scalars(select(PricedService))}
    revenue: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for charge in db.scalars(select(Charge).where(Charge.amount_cents != 0)):
        key = (
            charge.service_on.strftime("%Y-%m"),
            names.get(charge.service_id or 0, charge.description),
        )
        revenue[key][0] += charge.amount_cents
        revenue[key][1] += 1
    by_month: dict[str, int] = defaultdict(int)
    for payment in db.scalars(select(Payment)):
        by_month[payment.received_on.strftime("%Y-%m")] += payment.amount_cents
    totals = totals_by_patient(db)
    display = patients.display_names(db, set(totals))
    outstanding = [
        Outstanding(pid, display.get(pid, "?"), t)
        for pid, t in sorted(totals.items(), key=lambda kv: -kv[1].balance_cents)
        if t.balance_cents != 0
    ]
    liability = []
    for package in db.scalars(select(PatientPackage).order_by(PatientPackage.id)):
        used = _used(db, package.id)
        left = package.sessions - used
        if left <= 0:
            continue
        value = sum(_share(package, i) for i in range(used, package.sessions))
        plan = db.get(PackagePlan, package.plan_id)
        liability.append(
            Liability(
                package.patient_id,
                display.get(package.patient_id, "?"),
                plan.name if plan else "?",
                left,
                value,
            )
        )
    audit.note_read(
        db,
        actor=actor,
        action="billing.reports",
        object_type="report",
        detail=f"{len(outstanding)} balance(s), {len(liability)} open package(s)",
    )
    return Reports(
        revenue=[RevenueRow(m, s, v[0], v[1]) for (m, s), v in sorted(revenue.items())],
        payments_by_month=dict(sorted(by_month.items())),
        outstanding=outstanding,
        liability=liability,
    )
