"""What is on hand: the lots of each location with their balances, and the lots a
session may draw from."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.controlled.models import ControlledLocation, ControlledLot, ControlledProduct
from ketaclinic.controlled.service.common import (
    READERS,
    ROUTE_SUBSTANCE,
    StockLine,
    _location,
    _product,
    _require,
    _usable_lots,
    lot_by_id,
)
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.clock import clinic_today


def stock(
    db: Session, *, actor: Actor, location_id: int | None = None, with_empty: bool = False
) -> list[StockLine]:
    _require(actor, READERS, "see controlled stock")
    query = (
        select(ControlledLot, ControlledProduct, ControlledLocation)
        .join(ControlledProduct, ControlledProduct.id == ControlledLot.product_id)
        .join(ControlledLocation, ControlledLocation.id == ControlledLot.location_id)
        .order_by(ControlledLocation.code, ControlledProduct.code, ControlledLot.expires_on)
    )
    if location_id is not None:
        query = query.where(ControlledLot.location_id == location_id)
    if not with_empty:
        query = query.where(ControlledLot.balance_milli > 0)
    return [StockLine(lot, product, location) for lot, product, location in db.execute(query)]


def lot_choices(db: Session, *, route: str, on: date | None = None) -> list[StockLine]:
    """The lots a session of ``route`` may draw from (for the start form)."""
    substance = ROUTE_SUBSTANCE.get(route)
    if substance is None:
        return []
    day = on or clinic_today()
    found = _usable_lots(db, substance, day)
    return [StockLine(lot, product, _location(db, lot.location_id)) for lot, product in found]


def lot_stock(db: Session, lot_id: int) -> StockLine:
    lot = lot_by_id(db, lot_id)
    return StockLine(lot, _product(db, lot.product_id), _location(db, lot.location_id))
