"""The clinic's money, one function per act: the price list and packages, charges for
sessions given, payments, refunds and adjustments, balances, good-faith estimates,
superbills, claim files and the owner's reports.

Front desk and admin handle money; a prescriber reads a patient's balance; a patient
reads their own estimates, receipts and superbills; a researcher reads nothing. Every
read and write of a patient's money is audited in the act's own transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.billing.models import (
    PAYMENT_METHODS,
    SERVICE_KINDS,
    Adjustment,
    Charge,
    Coverage,
    Estimate,
    PackagePlan,
    PatientPackage,
    Payment,
    PricedService,
    ServicePrice,
)
from ketaclinic.clinical.codes import billing as codes
from ketaclinic.clinical.codes import estimates as gfe
from ketaclinic.clinical.overrides import apply
from ketaclinic.configuration import service as configuration
from ketaclinic.orders import service as orders
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.clock import clinic_today
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid, NotFound
from ketaclinic.platform.roles import Role
from ketaclinic.platform.settings import get_settings
from ketaclinic.public import service as public
from ketaclinic.sessions import service as sessions

MONEY = frozenset({Role.front_desk, Role.admin})
BALANCE_READERS = MONEY | {Role.prescriber}
OWNER = frozenset({Role.admin})


def _require(actor: Actor, roles: frozenset[Role], what: str) -> None:
    if not actor.roles & roles:
        raise Forbidden(f"{what} is for {', '.join(sorted(r.value for r in roles))}")


def _reader(db: Session, actor: Actor, patient_id: int, *, roles: frozenset[Role]) -> None:
    """A patient account reads its own money; staff need one of ``roles``."""
    if actor.patient_only:
        if actor.patient_id != patient_id:
            raise NotFound("no such patient")
    else:
        _require(actor, roles, "reading a patient's account")
    patients.check_patient(db, actor=actor, patient_id=patient_id)


def _writer(db: Session, actor: Actor, patient_id: int) -> None:
    _require(actor, MONEY, "handling money")
    patients.check_patient(db, actor=actor, patient_id=patient_id)


def _cents(value: int, what: str, *, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"{what} must be a whole number of cents", fields={what: "whole cents"})
    if value < 0 or (value == 0 and not allow_zero):
        raise Invalid(f"{what} must be more than zero", fields={what: "more than zero"})
    if value > 100_000_000:
        raise Invalid(f"{what} is implausibly large", fields={what: "too large"})
    return value


def dollars(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def code_table(db: Session) -> dict[str, codes.BillingCode]:
    """The billing codes with the clinic's overrides applied."""
    return apply(codes.CODES, configuration.overrides_for(db, "billing.codes"))


def diagnosis_table(db: Session) -> dict[str, codes.Diagnosis]:
    return apply(codes.DIAGNOSES, configuration.overrides_for(db, "billing.diagnoses"))


# price list ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PriceRow:
    service: PricedService
    price_cents: int | None


def price_on(db: Session, service_id: int, day: date) -> int | None:
    return db.scalar(
        select(ServicePrice.amount_cents)
        .where(ServicePrice.service_id == service_id, ServicePrice.effective_from <= day)
        .order_by(ServicePrice.effective_from.desc(), ServicePrice.id.desc())
        .limit(1)
    )


def price_list(db: Session, *, on: date | None = None, public_only: bool = False) -> list[PriceRow]:
    """The services and their price on ``on`` (no patient data: anyone may read it)."""
    day = on or clinic_today()
    query = select(PricedService).where(PricedService.active.is_(True))
    if public_only:
        query = query.where(PricedService.public.is_(True))
    return [
        PriceRow(s, price_on(db, s.id, day)) for s in db.scalars(query.order_by(PricedService.id))
    ]


def _service(db: Session, service_id: int) -> PricedService:
    row = db.get(PricedService, service_id)
    if row is None:
        raise NotFound(f"no service {service_id} on the price list")
    return row


def service_by_key(db: Session, key: str) -> PricedService | None:
    return db.scalar(select(PricedService).where(PricedService.key == key))


def add_service(
    db: Session,
    *,
    actor: Actor,
    key: str,
    name: str,
    kind: str,
    amount_cents: int,
    effective_from: date,
    protocol_id: str | None = None,
    codes_used: Sequence[str] = (),
    public_listed: bool = True,
) -> PricedService:
    _require(actor, MONEY, "keeping the price list")
    if kind not in SERVICE_KINDS:
        raise Invalid(f"kind must be one of {', '.join(SERVICE_KINDS)}", fields={"kind": kind})
    unknown = [c for c in codes_used if c not in codes.CODES]
    if unknown:
        raise Invalid(f"unknown billing code(s) {', '.join(unknown)}", fields={"codes": "unknown"})
    if not key.strip() or not name.strip():
        raise Invalid("a service needs a key and a name", fields={"name": "required"})
    if service_by_key(db, key) is not None:
        raise Conflict(f"the price list already has {key!r}")
    row = PricedService(
        key=key.strip(),
        name=name.strip(),
        kind=kind,
        protocol_id=protocol_id or None,
        codes=list(codes_used),
        public=public_listed,
        created_by=actor.username,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="billing.service_add",
        object_type="billing_service",
        object_id=row.id,
        detail=f"{key}",
    )
    set_price(
        db,
        actor=actor,
        service_id=row.id,
        amount_cents=amount_cents,
        effective_from=effective_from,
        reason="first price",
    )
    return row


def set_price(
    db: Session,
    *,
    actor: Actor,
    service_id: int,
    amount_cents: int,
    effective_from: date,
    reason: str,
) -> ServicePrice:
    """A new price from a day on; sessions before it keep the price of their day."""
    _require(actor, MONEY, "keeping the price list")
    service = _service(db, service_id)
    _cents(amount_cents, "amount_cents", allow_zero=True)
    row = ServicePrice(
        service_id=service.id,
        amount_cents=amount_cents,
        effective_from=effective_from,
        reason=reason.strip(),
        set_by=actor.username,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="billing.price_set",
        object_type="billing_service",
        object_id=service.id,
        detail=f"{service.key} {dollars(amount_cents)} from {effective_from}: {reason.strip()}",
    )
    return row


def add_plan(
    db: Session,
    *,
    actor: Actor,
    name: str,
    kind: str,
    service_id: int,
    sessions_count: int,
    price_cents: int,
    public_listed: bool = True,
) -> PackagePlan:
    _require(actor, MONEY, "keeping the price list")
    _service(db, service_id)
    if kind not in ("package", "membership"):
        raise Invalid("kind must be package or membership", fields={"kind": kind})
    if not 1 <= sessions_count <= 52:
        raise Invalid("a package has 1 to 52 sessions", fields={"sessions": str(sessions_count)})
    _cents(price_cents, "price_cents")
    row = PackagePlan(
        name=name.strip(),
        kind=kind,
        service_id=service_id,
        sessions=sessions_count,
        price_cents=price_cents,
        public=public_listed,
        created_by=actor.username,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="billing.plan_add",
        object_type="billing_package_plan",
        object_id=row.id,
        detail=f"{name}: {sessions_count} for {dollars(price_cents)}",
    )
    return row


def plans(db: Session, *, public_only: bool = False) -> list[PackagePlan]:
    query = select(PackagePlan).where(PackagePlan.active.is_(True))
    if public_only:
        query = query.where(PackagePlan.public.is_(True))
    return list(db.scalars(query.order_by(PackagePlan.id)))


@dataclass(frozen=True)
class SeriesCost:
    service: PricedService
    sessions: int
    at_session_price_cents: int | None
    package: PackagePlan | None


@dataclass(frozen=True)
class PublicPrices:
    rows: list[PriceRow]
    plans: list[PackagePlan]
    series: list[SeriesCost]


def public_prices(db: Session, *, on: date | None = None) -> PublicPrices:
    """What the public pages show: the listed prices, packages and memberships, and what
    a typical series costs (the course's series length at the session price, beside the
    package of the same length)."""
    rows = price_list(db, on=on, public_only=True)
    listed = plans(db, public_only=True)
    series = []
    for row in rows:
        if row.service.kind not in ("iv_infusion", "esketamine") or row.price_cents is None:
            continue
        package = next(
            (p for p in listed if p.service_id == row.service.id and p.kind == "package"), None
        )
        count = package.sessions if package else 6
        series.append(SeriesCost(row.service, count, row.price_cents * count, package))
    return PublicPrices(rows, listed, series)


# charges ------------------------------------------------------------------------------
def _lines_json(lines: Iterable[codes.Line]) -> list[dict[str, Any]]:
    return [
        {
            "code": line.code.code,
            "system": line.code.system,
            "description": line.code.description,
            "units": line.units,
            "modifiers": list(line.modifiers),
            "note": line.note,
        }
        for line in lines
    ]


def _diagnoses(db: Session, patient_id: int) -> list[str]:
    course = orders.latest_course(db, patient_id)
    if course is None:
        return []
    return [d.code for d in codes.diagnoses_for(course.indication, diagnosis_table(db))]


def session_lines(
    summary: sessions.SessionSummary, day: date, table: dict[str, codes.BillingCode]
) -> list[codes.Line]:
    """The coded lines of one session given (the coding rules of ``clinical.codes``)."""
    if summary.route == "esketamine_nasal":
        return codes.esketamine_lines(summary.dose_mg, day, table)
    minutes = summary.dosing_minutes or 0.0
    return codes.iv_ketamine_lines(minutes, summary.dose_mg, day, table)


def _open_package(
    db: Session, patient_id: int, service_id: int, day: date
) -> PatientPackage | None:
    """The oldest package bought on or before ``day`` with a session left."""
    for package in db.scalars(
        select(PatientPackage)
        .join(PackagePlan, PackagePlan.id == PatientPackage.plan_id)
        .where(
            PatientPackage.patient_id == patient_id,
            PackagePlan.service_id == service_id,
            PatientPackage.bought_on <= day,
        )
        .order_by(PatientPackage.bought_on, PatientPackage.id)
    ):
        if _used(db, package.id) < package.sessions:
            return package
    return None


def _used(db: Session, package_id: int) -> int:
    return int(
        db.scalar(
            select(func.count(Charge.id)).where(
                Charge.package_id == package_id, Charge.kind == "session"
            )
        )
        or 0
    )


def _share(package: PatientPackage, index: int) -> int:
    """The ``index``-th (0-based) session's share of the package price: equal cents,
    the last session taking what rounding left over, so the shares add up exactly."""
    base = package.price_cents // package.sessions
    if index == package.sessions - 1:
        return package.price_cents - base * (package.sessions - 1)
    return base


def _charging_services(db: Session) -> list[PricedService]:
    return list(
        db.scalars(
            select(PricedService)
            .where(PricedService.protocol_id.is_not(None), PricedService.active.is_(True))
            .order_by(PricedService.id)
        )
    )


def _service_for(
    summary: sessions.SessionSummary, services: list[PricedService]
) -> PricedService | None:
    """The service that charges a session: the one for its protocol, else the first
    for its route (a variant protocol of the same treatment)."""
    for s in services:
        if s.protocol_id == summary.protocol_id:
            return s
    kind = "esketamine" if summary.route == "esketamine_nasal" else "iv_infusion"
    return next((s for s in services if s.kind == kind), None)


def post_session_charges(db: Session, *, actor: Actor, patient_id: int) -> list[Charge]:
    """Charge every session given and not yet charged: drawn from an open package (owing
    nothing more), else at its service's price of the day."""
    _writer(db, actor, patient_id)
    given = sessions.given_sessions(db, actor=actor, patient_id=patient_id)
    charged = set(db.scalars(select(Charge.session_id).where(Charge.patient_id == patient_id)))
    services = _charging_services(db)
    table = code_table(db)
    diagnoses = _diagnoses(db, patient_id)
    zone = get_settings().zone
    made = []
    for summary in sorted(given, key=lambda s: (s.started_at or utcnow(), s.session_id)):
        if summary.session_id in charged or summary.started_at is None:
            continue
        service = _service_for(summary, services)
        if service is None:
            continue  # a protocol the price list does not charge
        day = summary.started_at.astimezone(zone).date()
        try:
            lines = session_lines(summary, day, table)
        except codes.NoCode as exc:
            raise Invalid(f"session {summary.session_id}: {exc}") from None
        package = _open_package(db, patient_id, service.id, day)
        if package is not None:
            amount, billed = 0, _share(package, _used(db, package.id))
            what = f"{service.name} (session {_used(db, package.id) + 1} of package)"
        else:
            price = price_on(db, service.id, day)
            if price is None:
                raise Invalid(f"{service.name} has no price on {day}")
            amount = billed = price
            what = service.name
        row = Charge(
            patient_id=patient_id,
            service_id=service.id,
            session_id=summary.session_id,
            package_id=package.id if package else None,
            kind="session",
            description=what,
            service_on=day,
            amount_cents=amount,
            billed_cents=billed,
            lines=_lines_json(lines),
            diagnoses=diagnoses,
            created_by=actor.username,
        )
        db.add(row)
        db.flush()
        made.append(row)
        audit.record(
            db,
            actor=actor,
            action="billing.charge",
            patient_id=patient_id,
            object_type="billing_charge",
            object_id=row.id,
            detail=f"session {summary.session_id} {dollars(amount)}",
        )
    return made


def charge_service(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    service_id: int,
    on: date,
    code_ids: Sequence[str] | None = None,
) -> Charge:
    """Charge a service by hand (a consultation, an integration therapy session)."""
    _writer(db, actor, patient_id)
    service = _service(db, service_id)
    price = price_on(db, service.id, on)
    if price is None:
        raise Invalid(f"{service.name} has no price on {on}", fields={"on": str(on)})
    table = code_table(db)
    try:
        lines = [codes.Line(codes.code_on(c, on, table), 1) for c in (code_ids or service.codes)]
    except codes.NoCode as exc:
        raise Invalid(str(exc), fields={"codes": str(exc)}) from None
    problems = codes.conflicts([line.code.code for line in lines], table)
    if problems:
        raise Invalid("; ".join(problems), fields={"codes": problems[0]})
    row = Charge(
        patient_id=patient_id,
        service_id=service.id,
        kind="service",
        description=service.name,
        service_on=on,
        amount_cents=price,
        billed_cents=price,
        lines=_lines_json(lines),
        diagnoses=_diagnoses(db, patient_id),
        created_by=actor.username,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="billing.charge",
        patient_id=patient_id,
        object_type="billing_charge",
        object_id=row.id,
        detail=f"{service.key} {dollars(price)}",
    )
    return row


def buy_package(
    db: Session, *, actor: Actor, patient_id: int, plan_id: int, on: date
) -> PatientPackage:
    """The patient buys a package: its whole price is charged now; its sessions are
    then drawn as they are given."""
    _writer(db, actor, patient_id)
    plan = db.get(PackagePlan, plan_id)
    if plan is None or not plan.active:
        raise NotFound(f"no package {plan_id}")
    package = PatientPackage(
        patient_id=patient_id,
        plan_id=plan.id,
        sessions=plan.sessions,
        price_cents=plan.price_cents,
        bought_on=on,
        sold_by=actor.username,
    )
    db.add(package)
    db.flush()
    charge = Charge(
        patient_id=patient_id,
        service_id=plan.service_id,
        package_id=package.id,
        kind="package",
        description=plan.name,
        service_on=on,
        amount_cents=plan.price_cents,
        billed_cents=0,
        lines=[],
        diagnoses=[],
        created_by=actor.username,
    )
    db.add(charge)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="billing.package_buy",
        patient_id=patient_id,
        object_type="billing_patient_package",
        object_id=package.id,
        detail=f"{plan.name} {dollars(plan.price_cents)}",
    )
    return package


# payments ------------------------------------------------------------------------------
def record_payment(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    method: str,
    amount_cents: int,
    on: date,
    reference: str | None = None,
    charge_id: int | None = None,
    package_id: int | None = None,
    note: str | None = None,
) -> Payment:
    _writer(db, actor, patient_id)
    if method not in PAYMENT_METHODS:
        raise Invalid(
            f"method must be one of {', '.join(PAYMENT_METHODS)}", fields={"method": method}
        )
    _cents(amount_cents, "amount_cents")
    if charge_id is not None:
        charge = db.get(Charge, charge_id)
        if charge is None or charge.patient_id != patient_id:
            raise Invalid("that charge is not this patient's", fields={"charge_id": str(charge_id)})
    if package_id is not None:
        package = db.get(PatientPackage, package_id)
        if package is None or package.patient_id != patient_id:
            raise Invalid(
                "that package is not this patient's", fields={"package_id": str(package_id)}
            )
    row = Payment(
        patient_id=patient_id,
        charge_id=charge_id,
        package_id=package_id,
        method=method,
        amount_cents=amount_cents,
        received_on=on,
        reference=(reference or "").strip() or None,
        note=(note or "").strip() or None,
        received_by=actor.username,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="billing.payment",
        patient_id=patient_id,
        object_type="billing_payment",
        object_id=row.id,
        detail=f"{method} {dollars(amount_cents)}",
    )
    return row


def refund(
    db: Session,
    *,
    actor: Actor,
    payment_id: int,
    amount_cents: int,
    on: date,
    reason: str,
    patient_id: int | None = None,
) -> Payment:
    """Money given back: a payment row of minus the amount, never more than was paid."""
    _require(actor, MONEY, "handling money")
    original = db.get(Payment, payment_id)
    if (
        original is None
        or original.amount_cents <= 0
        or (patient_id is not None and original.patient_id != patient_id)
    ):
        raise NotFound(f"no payment {payment_id} to refund")
    _cents(amount_cents, "amount_cents")
    if len(reason.strip()) < 3:
        raise Invalid("say why the money is given back", fields={"reason": "required"})
    already = -int(
        db.scalar(select(func.sum(Payment.amount_cents)).where(Payment.refund_of_id == payment_id))
        or 0
    )
    if amount_cents > original.amount_cents - already:
        raise Invalid(
            f"at most {dollars(original.amount_cents - already)} of this payment is left to refund",
            fields={"amount_cents": "more than was paid"},
        )
    row = Payment(
        patient_id=original.patient_id,
        charge_id=original.charge_id,
        package_id=original.package_id,
        refund_of_id=original.id,
        method=original.method,
        amount_cents=-amount_cents,
        received_on=on,
        note=reason.strip(),
        received_by=actor.username,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="billing.refund",
        patient_id=original.patient_id,
        object_type="billing_payment",
        object_id=row.id,
        detail=f"{dollars(amount_cents)} of payment {original.id}",
        reason=reason.strip(),
    )
    return row


def adjust(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    kind: str,
    amount_cents: int,
    reason: str,
    on: date,
    charge_id: int | None = None,
) -> Adjustment:
    """A discount or write-off (lowers the balance) or a correction, with its reason."""
    _writer(db, actor, patient_id)
    if kind not in ("discount", "write_off", "correction"):
        raise Invalid("kind must be discount, write_off or correction", fields={"kind": kind})
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents == 0:
        raise Invalid(
            "an adjustment is a non-zero whole number of cents", fields={"amount_cents": "non-zero"}
        )
    if kind != "correction":
        _cents(amount_cents, "amount_cents")
    if len(reason.strip()) < 3:
        raise Invalid("a discount or adjustment needs its reason", fields={"reason": "required"})
    if charge_id is not None:
        charge = db.get(Charge, charge_id)
        if charge is None or charge.patient_id != patient_id:
            raise Invalid("that charge is not this patient's", fields={"charge_id": str(charge_id)})
    row = Adjustment(
        patient_id=patient_id,
        charge_id=charge_id,
        kind=kind,
        amount_cents=amount_cents,
        reason=reason.strip(),
        made_on=on,
        made_by=actor.username,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="billing.adjust",
        patient_id=patient_id,
        object_type="billing_adjustment",
        object_id=row.id,
        detail=f"{kind} {dollars(amount_cents)}",
        reason=reason.strip(),
    )
    return row


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


# the account --------------------------------------------------------------------------
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


# estimates ----------------------------------------------------------------------------
def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _due(asked_on: date, service_on: date | None, requested: bool, db: Session) -> gfe.EstimateDue:
    timelines = apply(gfe.TIMELINES, configuration.overrides_for(db, "billing.estimate_timelines"))
    return gfe.estimate_due(
        asked_on=asked_on,
        service_on=service_on,
        requested=requested,
        timelines=timelines,
        holidays=configuration.holidays(db),
    )


def request_estimate(
    db: Session,
    *,
    actor: Actor,
    name: str,
    email: str | None,
    service_key: str | None,
    service_on: date | None,
    asked_on: date | None = None,
) -> tuple[Estimate, str]:
    """A prospective patient asks for a good-faith estimate on the public page; they read
    it back by the secret link returned (only its hash is kept). An earlier self-screen
    lead with the same email is linked."""
    if not name.strip():
        raise Invalid("your name is needed", fields={"name": "required"})
    if service_key and service_by_key(db, service_key) is None:
        raise Invalid("choose a service from the list", fields={"service_key": "unknown"})
    day = asked_on or clinic_today()
    due = _due(day, service_on, True, db)
    token = secrets.token_urlsafe(24)
    lead_id = public.lead_id_for_email(db, email) if email else None
    row = Estimate(
        lead_id=lead_id,
        recipient_name=name.strip(),
        recipient_email=(email or "").strip() or None,
        requested=True,
        asked_on=day,
        service_on=service_on,
        due_on=due.due_on,
        due_reason=due.reason,
        status="due",
        token_hash=_token_hash(token),
        service_key=service_key or None,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="billing.estimate_request",
        object_type="billing_estimate",
        object_id=row.id,
        detail=f"due {due.due_on}" + (f", lead {lead_id}" if lead_id else ""),
    )
    return row, token


def open_estimate(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    service_on: date | None,
    requested: bool,
    asked_on: date | None = None,
    service_key: str | None = None,
) -> Estimate:
    """An estimate the clinic owes a self-pay patient: scheduled (due by the timelines)
    or asked for."""
    _writer(db, actor, patient_id)
    return _open_for_patient(
        db,
        actor=actor,
        patient_id=patient_id,
        service_on=service_on,
        requested=requested,
        asked_on=asked_on or clinic_today(),
        service_key=service_key,
    )


def _open_for_patient(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    service_on: date | None,
    requested: bool,
    asked_on: date,
    service_key: str | None,
    why: str = "",
) -> Estimate:
    """The estimate's row, due by the timelines from ``asked_on``, and its audit row; the
    caller has checked who may open it."""
    patient = patients.patient_by_id(db, patient_id)
    due = _due(asked_on, service_on, requested, db)
    row = Estimate(
        patient_id=patient_id,
        recipient_name=f"{patient.given_name} {patient.family_name}",
        recipient_email=patient.email,
        requested=requested,
        asked_on=asked_on,
        service_on=service_on,
        due_on=due.due_on,
        due_reason=due.reason,
        status="due",
        service_key=service_key,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="billing.estimate_open",
        patient_id=patient_id,
        object_type="billing_estimate",
        object_id=row.id,
        detail=f"{why}due {due.due_on}: {due.reason}",
    )
    return row


@dataclass(frozen=True)
class EstimateItem:
    service_id: int | None = None
    plan_id: int | None = None
    quantity: int = 1


def proposed_items(db: Session, service_key: str | None) -> list[EstimateItem]:
    """What an estimate for a service usually lists: the consultation, then the package
    of the service if one is sold, else six sessions."""
    found: list[EstimateItem] = []
    consultation = db.scalar(
        select(PricedService).where(
            PricedService.kind == "consultation", PricedService.active.is_(True)
        )
    )
    if consultation is not None:
        found.append(EstimateItem(service_id=consultation.id))
    service = service_by_key(db, service_key) if service_key else None
    if service is None:
        service = db.scalar(select(PricedService).where(PricedService.kind == "iv_infusion"))
    if service is not None:
        plan = db.scalar(
            select(PackagePlan).where(
                PackagePlan.service_id == service.id, PackagePlan.kind == "package"
            )
        )
        found.append(
            EstimateItem(plan_id=plan.id)
            if plan
            else EstimateItem(service_id=service.id, quantity=6)
        )
    return found


def _item_json(db: Session, item: EstimateItem, day: date) -> dict[str, Any]:
    if not 1 <= item.quantity <= 52:
        raise Invalid("quantity must be 1 to 52", fields={"quantity": str(item.quantity)})
    if item.plan_id is not None:
        plan = db.get(PackagePlan, item.plan_id)
        if plan is None:
            raise Invalid(f"no package {item.plan_id}", fields={"items": "unknown package"})
        service = _service(db, plan.service_id)
        return {
            "description": f"{plan.name} ({plan.sessions} sessions)",
            "codes": [f"{c} x{plan.sessions}" for c in service.codes],
            "quantity": item.quantity,
            "unit_cents": plan.price_cents,
            "total_cents": plan.price_cents * item.quantity,
        }
    if item.service_id is None:
        raise Invalid("an item names a service or a package", fields={"items": "empty"})
    service = _service(db, item.service_id)
    price = price_on(db, service.id, day)
    if price is None:
        raise Invalid(f"{service.name} has no price", fields={"items": "no price"})
    return {
        "description": service.name,
        "codes": list(service.codes),
        "quantity": item.quantity,
        "unit_cents": price,
        "total_cents": price * item.quantity,
    }


def issue_estimate(
    db: Session,
    *,
    actor: Actor,
    estimate_id: int,
    items: Sequence[EstimateItem] | None = None,
    at: datetime | None = None,
) -> Estimate:
    """Issue the estimate with its items priced today (proposed items when none given)."""
    _require(actor, MONEY, "issuing good-faith estimates")
    row = db.get(Estimate, estimate_id)
    if row is None:
        raise NotFound(f"no estimate {estimate_id}")
    if row.status == "issued":
        raise Conflict("this estimate was already issued; open a new one for a change")
    chosen = list(items) if items else proposed_items(db, row.service_key)
    if not chosen:
        raise Invalid("an estimate needs at least one item (the price list is empty)")
    day = clinic_today(at)
    priced = [_item_json(db, item, row.service_on or day) for item in chosen]
    row.items = priced
    row.total_cents = sum(i["total_cents"] for i in priced)
    row.diagnoses = _diagnoses(db, row.patient_id) if row.patient_id else []
    row.status = "issued"
    row.issued_by = actor.username
    row.issued_at = at or utcnow()
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="billing.estimate_issue",
        patient_id=row.patient_id,
        object_type="billing_estimate",
        object_id=row.id,
        detail=f"total {dollars(row.total_cents)}",
    )
    return row


# Which priced service a booked visit is (the clinic's price list names services by kind).
SERVICE_OF_VISIT = {
    "infusion": "iv_infusion",
    "esketamine": "esketamine",
    "consultation": "consultation",
    "therapy": "integration",
}
# One estimate may cover recurring items or services for up to 12 months, 45 CFR
# 149.610(c) [secondary]: a visit booked within a year of an estimate for the same kind
# of service is already covered by it.
RECURRING_ESTIMATE_COVERS = timedelta(days=365)


def appointment_booked(
    db: Session,
    *,
    actor: Actor,
    appointment_id: int,
    patient_id: int,
    kind: str,
    service_on: date,
    booked_on: date,
) -> Estimate | None:
    """Answers ``platform.ports.appointment_booked``: a self-pay patient (no insurance
    on file) booked for a priced service is owed a good-faith estimate, due by the No
    Surprises Act timelines counted from the booking, unless an estimate for that kind of
    service from the last 12 months covers it. Opened in the booking's act, under the
    booker's name, so it is on the front desk's list of estimates due."""
    service_kind = SERVICE_OF_VISIT.get(kind)
    if service_kind is None or coverage_of(db, patient_id) is not None:
        return None
    priced = db.scalar(
        select(PricedService)
        .where(PricedService.kind == service_kind, PricedService.active.is_(True))
        .order_by(PricedService.id)
        .limit(1)
    )
    if priced is None:
        return None  # nothing on the price list to estimate
    keys = select(PricedService.key).where(PricedService.kind == service_kind)
    covered = db.scalar(
        select(Estimate.id)
        .where(
            Estimate.patient_id == patient_id,
            Estimate.service_key.in_(keys),
            Estimate.asked_on >= booked_on - RECURRING_ESTIMATE_COVERS,
        )
        .limit(1)
    )
    if covered is not None:
        return None
    return _open_for_patient(
        db,
        actor=actor,
        patient_id=patient_id,
        service_on=service_on,
        requested=False,
        asked_on=booked_on,
        service_key=priced.key,
        why=f"booked visit {appointment_id}: ",
    )


@dataclass(frozen=True)
class DueEstimate:
    estimate: Estimate
    late: bool


def estimates_due(db: Session, *, actor: Actor, on: date | None = None) -> list[DueEstimate]:
    """Estimates not yet issued, soonest due first, with those past their day marked."""
    _require(actor, MONEY, "good-faith estimates")
    day = on or clinic_today()
    rows = list(
        db.scalars(
            select(Estimate).where(Estimate.status == "due").order_by(Estimate.due_on, Estimate.id)
        )
    )
    for row in rows:
        audit.note_read(
            db,
            actor=actor,
            action="billing.estimates_due",
            patient_id=row.patient_id,
            object_type="billing_estimate",
            object_id=row.id,
        )
    return [DueEstimate(r, r.due_on is not None and r.due_on < day) for r in rows]


def get_estimate(db: Session, *, actor: Actor, estimate_id: int) -> Estimate:
    row = db.get(Estimate, estimate_id)
    if row is None:
        raise NotFound(f"no estimate {estimate_id}")
    if row.patient_id is not None:
        _reader(db, actor, row.patient_id, roles=MONEY)
    else:
        _require(actor, MONEY, "good-faith estimates")
    audit.note_read(
        db,
        actor=actor,
        action="billing.estimate_view",
        patient_id=row.patient_id,
        object_type="billing_estimate",
        object_id=row.id,
    )
    return row


def recipient_birth_date(db: Session, estimate: Estimate) -> date | None:
    """The patient's date of birth for the estimate's header (a lead has none on file)."""
    if estimate.patient_id is None:
        return None
    return patients.patient_by_id(db, estimate.patient_id).date_of_birth


def estimate_by_token(db: Session, *, actor: Actor, token: str) -> Estimate:
    """The estimate a person asked for on the public page, by its secret link."""
    row = db.scalar(select(Estimate).where(Estimate.token_hash == _token_hash(token)))
    if row is None:
        raise NotFound("no estimate at this link")
    audit.note_read(
        db,
        actor=actor,
        action="billing.estimate_link",
        object_type="billing_estimate",
        object_id=row.id,
    )
    return row


@dataclass(frozen=True)
class DisputeNotice:
    estimate: Estimate
    billed_cents: int
    over_cents: int


def dispute_notices(db: Session, patient_id: int) -> list[DisputeNotice]:
    """Issued estimates the patient's bills since then exceed by the dispute threshold
    ($400): the patient is told they may dispute (45 CFR 149.620)."""
    rules = apply(gfe.DISPUTE, configuration.overrides_for(db, "billing.dispute"))
    found = []
    for estimate in db.scalars(
        select(Estimate).where(Estimate.patient_id == patient_id, Estimate.status == "issued")
    ):
        billed = int(
            db.scalar(
                select(func.sum(Charge.amount_cents)).where(
                    Charge.patient_id == patient_id, Charge.service_on >= estimate.asked_on
                )
            )
            or 0
        )
        if gfe.may_dispute(billed, estimate.total_cents, rules):
            found.append(DisputeNotice(estimate, billed, billed - estimate.total_cents))
    return found


# superbills -----------------------------------------------------------------------------
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


# claims ---------------------------------------------------------------------------------
def claim_charges(db: Session, *, actor: Actor, charge_ids: Sequence[int]) -> list[Charge]:
    """The session charges an 837P is made of: coded, one patient, with a coverage."""
    _require(actor, MONEY, "making claim files")
    if not charge_ids:
        raise Invalid("choose at least one session charge", fields={"charge_ids": "empty"})
    rows = list(
        db.scalars(select(Charge).where(Charge.id.in_(list(charge_ids))).order_by(Charge.id))
    )
    if len(rows) != len(set(charge_ids)):
        raise NotFound("some of those charges do not exist")
    if len({r.patient_id for r in rows}) != 1:
        raise Invalid(
            "a claim file here holds one patient's sessions", fields={"charge_ids": "mixed"}
        )
    if any(not r.lines for r in rows):
        raise Invalid("only coded charges go on a claim", fields={"charge_ids": "uncoded"})
    if coverage_of(db, rows[0].patient_id) is None:
        raise Invalid("record the patient's insurer first", fields={"coverage": "missing"})
    for row in rows:
        audit.note_read(
            db,
            actor=actor,
            action="billing.claim",
            patient_id=row.patient_id,
            object_type="billing_charge",
            object_id=row.id,
        )
    return rows


def claim_837p(
    db: Session, *, actor: Actor, charge_ids: Sequence[int], at: datetime | None = None
) -> str:
    from ketaclinic.billing import claims

    rows = claim_charges(db, actor=actor, charge_ids=charge_ids)
    patient = patients.patient_by_id(db, rows[0].patient_id)
    coverage = coverage_of(db, patient.id)
    assert coverage is not None
    return claims.build_837p(
        claims.claim_data(rows, patient, coverage, get_settings()), at=at or utcnow()
    )


def cms1500(db: Session, *, actor: Actor, charge_ids: Sequence[int]) -> dict[str, Any]:
    from ketaclinic.billing import claims

    rows = claim_charges(db, actor=actor, charge_ids=charge_ids)
    patient = patients.patient_by_id(db, rows[0].patient_id)
    coverage = coverage_of(db, patient.id)
    assert coverage is not None
    return claims.cms1500(claims.claim_data(rows, patient, coverage, get_settings()))


def claimable(db: Session, *, actor: Actor, patient_id: int) -> list[Charge]:
    _reader(db, actor, patient_id, roles=MONEY)
    return list(
        db.scalars(
            select(Charge)
            .where(Charge.patient_id == patient_id, Charge.kind != "package")
            .order_by(Charge.service_on, Charge.id)
        )
    )


# reports --------------------------------------------------------------------------------
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


def portal_documents(db: Session, *, actor: Actor) -> Account:
    """The logged-in patient's own estimates, receipts and superbills."""
    if not actor.patient_only or actor.patient_id is None:
        raise Forbidden("the billing portal is for patient accounts")
    return account(db, actor=actor, patient_id=actor.patient_id)
