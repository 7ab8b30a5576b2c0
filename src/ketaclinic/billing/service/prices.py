"""Keeping the price list: services and their price from a day on, packages and
memberships, and the prices the public pages show."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.billing.models import SERVICE_KINDS, PackagePlan, PricedService, ServicePrice
from ketaclinic.billing.service.common import MONEY, _cents, _require, _service, dollars
from ketaclinic.clinical.codes import billing as codes
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.clock import clinic_today
from ketaclinic.platform.errors import Conflict, Invalid


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
