"""Counting stock at shift change or end of day, and resolving the discrepancies a
count opens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.controlled.models import Discrepancy, StockCount
from ketaclinic.controlled.service.common import (
    LICENSED,
    READERS,
    SUPERVISORS,
    StockLine,
    _audit,
    _count,
    _entry,
    _location,
    _product,
    _require,
    _signer_name,
    _text,
    lot_by_id,
    to_milli,
)
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Invalid, NotFound

OCCASIONS = ("shift_change", "end_of_day")


def count(
    db: Session,
    *,
    actor: Actor,
    lot_id: int,
    found: float,
    occasion: str = "end_of_day",
    note: str | None = None,
    now: datetime | None = None,
) -> tuple[StockCount, Discrepancy | None]:
    """A count at shift change or end of day; a difference opens a discrepancy."""
    _require(actor, LICENSED, "count controlled stock (nurses and prescribers)")
    if occasion not in OCCASIONS:
        raise Invalid("a count is at shift change or end of day", fields={"occasion": "invalid"})
    lot = lot_by_id(db, lot_id)
    return _count(
        db, actor, lot, to_milli(found, field="found", allow_zero=True), occasion, note, now
    )


def open_discrepancies(db: Session, *, actor: Actor) -> list[tuple[Discrepancy, StockLine]]:
    _require(actor, READERS, "see controlled stock")
    rows = db.scalars(
        select(Discrepancy).where(Discrepancy.status == "open").order_by(Discrepancy.opened_at)
    )
    found = []
    for d in rows:
        lot = lot_by_id(db, d.lot_id)
        found.append(
            (d, StockLine(lot, _product(db, lot.product_id), _location(db, lot.location_id)))
        )
    return found


def resolve(
    db: Session, *, actor: Actor, discrepancy_id: int, reason: str, now: datetime | None = None
) -> Discrepancy:
    """A prescriber or admin resolves a discrepancy with a reason; the balance follows
    the count (an ``adjustment`` entry of the difference found)."""
    _require(actor, SUPERVISORS, "resolve a discrepancy (prescribers and administrators)")
    row = db.get(Discrepancy, discrepancy_id)
    if row is None:
        raise NotFound(f"no discrepancy {discrepancy_id}")
    if row.status != "open":
        raise Conflict("this discrepancy is already resolved")
    text = _text(
        reason, "the reason for the difference and what was done", field="reason", minimum=5
    )
    lot = lot_by_id(db, row.lot_id)
    moment = now or utcnow()
    entry = _entry(db, actor, lot, "adjustment", row.difference_milli, at=moment, reason=text)
    row.status = "resolved"
    row.resolved_by = actor.username
    row.resolved_by_name = _signer_name(actor)
    row.resolved_at = moment
    row.reason = text
    row.adjustment_id = entry.id
    db.flush()
    _audit(db, actor, "discrepancy.resolve", "controlled_discrepancy", row.id, detail=text[:200])
    return row


@dataclass(frozen=True)
class DiscrepancySummary:
    open: int
    oldest_opened_at: datetime | None


def discrepancy_summary(db: Session, *, actor: Actor) -> DiscrepancySummary:
    """How many count discrepancies are open and since when (one aggregate query)."""
    _require(actor, READERS, "see controlled stock")
    count, oldest = db.execute(
        select(func.count(), func.min(Discrepancy.opened_at)).where(Discrepancy.status == "open")
    ).one()
    return DiscrepancySummary(int(count or 0), oldest)
