"""Stock leaving a location: returned to its supplier or transferred to another of the
clinic's locations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.clinical import controlled as rules_table
from ketaclinic.controlled.models import ControlledLot, LedgerEntry
from ketaclinic.controlled.service.common import (
    LICENSED,
    _audit,
    _entry,
    _location,
    _require,
    _text,
    lot_by_id,
    to_milli,
)
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.errors import Invalid


def return_to_supplier(
    db: Session,
    *,
    actor: Actor,
    lot_id: int,
    quantity: float,
    supplier: str,
    supplier_dea_number: str,
    reference: str,
    reason: str,
    now: datetime | None = None,
) -> LedgerEntry:
    _require(actor, LICENSED, "return controlled stock (nurses and prescribers)")
    lot = lot_by_id(db, lot_id)
    number = (supplier_dea_number or "").strip().upper()
    problem = rules_table.dea_number_problem(number)
    if problem:
        raise Invalid(
            f"supplier's DEA number: {problem}", fields={"supplier_dea_number": "invalid"}
        )
    milli = to_milli(quantity)
    entry = _entry(
        db,
        actor,
        lot,
        "return",
        -milli,
        at=now,
        supplier=_text(supplier, "the supplier", field="supplier", most=200),
        supplier_dea_number=number,
        reference=_text(
            reference, "the return authorisation or invoice number", field="reference", most=80
        ),
        reason=_text(reason, "why it is returned", field="reason"),
    )
    _audit(db, actor, "return", "controlled_entry", entry.id, detail=f"lot {lot.lot_number}")
    return entry


def transfer(
    db: Session,
    *,
    actor: Actor,
    lot_id: int,
    to_location_id: int,
    quantity: float,
    reference: str,
    now: datetime | None = None,
) -> tuple[LedgerEntry, LedgerEntry]:
    """A transfer between the clinic's locations, recorded on both sides: out of the lot
    here, into the same lot number there."""
    _require(actor, LICENSED, "transfer controlled stock (nurses and prescribers)")
    lot = lot_by_id(db, lot_id)
    target = _location(db, to_location_id)
    if target.id == lot.location_id:
        raise Invalid("choose another location", fields={"to_location_id": "same location"})
    milli = to_milli(quantity)
    ref = _text(
        reference,
        "the transfer's reference (e.g. the order form number)",
        field="reference",
        most=80,
    )
    there = db.scalar(
        select(ControlledLot).where(
            ControlledLot.location_id == target.id,
            ControlledLot.product_id == lot.product_id,
            ControlledLot.lot_number == lot.lot_number,
        )
    )
    if there is None:
        there = ControlledLot(
            location_id=target.id,
            product_id=lot.product_id,
            lot_number=lot.lot_number,
            expires_on=lot.expires_on,
            balance_milli=0,
        )
        db.add(there)
        db.flush()
    out = _entry(
        db,
        actor,
        lot,
        "transfer_out",
        -milli,
        at=now,
        counterpart_location_id=target.id,
        reference=ref,
    )
    into = _entry(
        db,
        actor,
        there,
        "transfer_in",
        milli,
        at=out.at,
        counterpart_location_id=lot.location_id,
        reference=ref,
        refers_to_id=out.id,
    )
    _audit(
        db,
        actor,
        "transfer",
        "controlled_entry",
        out.id,
        detail=f"lot {lot.lot_number} to {target.code}",
    )
    return out, into
