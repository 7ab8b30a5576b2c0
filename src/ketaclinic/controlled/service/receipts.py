"""Receiving stock from a supplier into a lot of a location."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.clinical import controlled as rules_table
from ketaclinic.controlled.models import ControlledLot, LedgerEntry
from ketaclinic.controlled.service.common import (
    LICENSED,
    _audit,
    _entry,
    _location,
    _product,
    _require,
    _text,
    show,
    to_milli,
)
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.clock import clinic_today
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Invalid


def receive(
    db: Session,
    *,
    actor: Actor,
    location_id: int,
    product_id: int,
    lot_number: str,
    expires_on: date,
    quantity: float,
    supplier: str,
    supplier_dea_number: str,
    reference: str,
    received_on: date | None = None,
    now: datetime | None = None,
) -> LedgerEntry:
    """A receipt with the fields 21 CFR 1304.22 asks for: date, supplier and its DEA
    number, the invoice or order form number, lot, expiry and the quantity."""
    _require(actor, LICENSED, "receive controlled stock (nurses and prescribers)")
    location = _location(db, location_id)
    product = _product(db, product_id)
    lot_text = _text(lot_number, "the lot number", field="lot_number", most=40)
    moment = now or utcnow()
    today = clinic_today(moment)
    day = received_on or today
    if day > today:
        raise Invalid("a receipt cannot be dated in the future", fields={"received_on": "future"})
    if expires_on <= day:
        raise Invalid(
            "this lot is already expired: it cannot be received into stock",
            fields={"expires_on": "expired"},
        )
    number = (supplier_dea_number or "").strip().upper()
    problem = rules_table.dea_number_problem(number)
    if problem:
        raise Invalid(
            f"supplier's DEA number: {problem}", fields={"supplier_dea_number": "invalid"}
        )
    milli = to_milli(quantity)
    lot = db.scalar(
        select(ControlledLot).where(
            ControlledLot.location_id == location.id,
            ControlledLot.product_id == product.id,
            ControlledLot.lot_number == lot_text,
        )
    )
    if lot is None:
        lot = ControlledLot(
            location_id=location.id,
            product_id=product.id,
            lot_number=lot_text,
            expires_on=expires_on,
            balance_milli=0,
        )
        db.add(lot)
        db.flush()
    elif lot.expires_on != expires_on:
        raise Conflict(
            f"lot {lot_text} is on file with expiry {lot.expires_on}: check the label",
            fields={"expires_on": "differs from the lot on file"},
        )
    at = moment if day == today else datetime.combine(day, time(12), tzinfo=UTC)
    entry = _entry(
        db,
        actor,
        lot,
        "receive",
        milli,
        at=at,
        supplier=_text(supplier, "the supplier", field="supplier", most=200),
        supplier_dea_number=number,
        reference=_text(reference, "the invoice or order form number", field="reference", most=80),
    )
    _audit(
        db,
        actor,
        "receive",
        "controlled_entry",
        entry.id,
        detail=f"{location.code} {product.code} lot {lot_text}: {show(milli, product.count_unit)}",
    )
    return entry
