"""What every act on the ledger shares: who may do what, the clinic's ledger rules,
quantities in thousandths, loading a location, product or lot, and the one way a
balance changes.

Every act is one entry (or one count) in the caller's transaction, with its audit row;
a balance changes only through ``_move``: one conditional UPDATE that refuses to take a
lot below zero, so two nurses drawing the last vial at once cannot both succeed."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ketaclinic.clinical import controlled as rules_table
from ketaclinic.clinical.overrides import apply
from ketaclinic.configuration import service as configuration
from ketaclinic.controlled.models import (
    MILLI,
    ControlledLocation,
    ControlledLot,
    ControlledProduct,
    Discrepancy,
    LedgerEntry,
    StockCount,
)
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid, NotFound
from ketaclinic.platform.roles import Role

# Licensed hands: who receives, draws, wastes and counts, and who may witness.
LICENSED = frozenset({Role.nurse, Role.prescriber})
# Who resolves discrepancies, approves destruction and sets up locations and products.
SUPERVISORS = frozenset({Role.prescriber, Role.admin})
SETUP = frozenset({Role.admin})
READERS = LICENSED | SUPERVISORS
# A lot never holds more than a million counted units (thousandths fit a 32-bit
# integer column): a bound of ketaclinic's, not a regulatory number.
MAX_BALANCE_MILLI = 10**9
# Which product a session's route draws from.
ROUTE_SUBSTANCE = {"iv": "ketamine", "esketamine_nasal": "esketamine"}


def rules(db: Session) -> dict[str, rules_table.LedgerRule]:
    """The ledger rules with the clinic's overrides."""
    return apply(rules_table.RULES, configuration.clinic_overrides(db, "controlled.rules"))


def _require(actor: Actor, roles: frozenset[Role], what: str) -> None:
    if not actor.roles & roles:
        raise Forbidden(f"your role does not permit you to {what}")


def _text(value: str | None, what: str, *, field: str, minimum: int = 1, most: int = 2000) -> str:
    text = (value or "").strip()
    if len(text) < minimum:
        raise Invalid(f"give {what}", fields={field: "required"})
    if len(text) > most:
        raise Invalid(f"{what}: at most {most} characters", fields={field: "too long"})
    return text


def to_milli(quantity: float, *, field: str = "quantity", allow_zero: bool = False) -> int:
    if not math.isfinite(quantity) or quantity < 0 or (quantity == 0 and not allow_zero):
        raise Invalid(
            "give a quantity above zero" if not allow_zero else "give a quantity, zero or more",
            fields={field: "out of range"},
        )
    milli = round(quantity * MILLI)
    if milli > MAX_BALANCE_MILLI:
        raise Invalid("at most a million units at once", fields={field: "too large"})
    if abs(milli - quantity * MILLI) > 1e-6:
        raise Invalid("give the quantity to at most 3 decimals", fields={field: "precision"})
    return int(milli)


def units(milli: int) -> float:
    return milli / MILLI


def show(milli: int, unit: str) -> str:
    value = f"{milli / MILLI:g}"
    plural = unit if unit == "mL" or abs(milli) == MILLI else unit + "s"
    return f"{value} {plural}"


def _audit(db: Session, actor: Actor, action: str, kind: str, oid: object, **kw: Any) -> None:
    audit.record(
        db, actor=actor, action=f"controlled.{action}", object_type=kind, object_id=oid, **kw
    )


def _signer_name(actor: Actor) -> str:
    return actor.full_name or actor.username


def _location(db: Session, location_id: int) -> ControlledLocation:
    row = db.get(ControlledLocation, location_id)
    if row is None:
        raise NotFound(f"no ledger location with id {location_id}")
    return row


def _product(db: Session, product_id: int) -> ControlledProduct:
    row = db.get(ControlledProduct, product_id)
    if row is None:
        raise NotFound(f"no ledger product with id {product_id}")
    return row


def lot_by_id(db: Session, lot_id: int) -> ControlledLot:
    row = db.get(ControlledLot, lot_id)
    if row is None:
        raise NotFound(f"no lot with id {lot_id}", fields={"lot_id": "unknown"})
    return row


def _move(db: Session, lot: ControlledLot, delta_milli: int) -> int:
    """Change a lot's balance by ``delta_milli`` in one conditional UPDATE: refused (no
    row matched) when it would go below zero. On PostgreSQL a concurrent draw waits for
    the row lock and then re-checks the condition against the committed balance; on
    SQLite writers are serialised by the database's write lock."""
    new = db.execute(
        update(ControlledLot)
        .where(
            ControlledLot.id == lot.id,
            ControlledLot.balance_milli + delta_milli >= 0,
            ControlledLot.balance_milli + delta_milli <= MAX_BALANCE_MILLI,
        )
        .values(balance_milli=ControlledLot.balance_milli + delta_milli)
        .returning(ControlledLot.balance_milli)
        .execution_options(synchronize_session=False)
    ).scalar()
    if new is None:
        current = (
            db.scalar(select(ControlledLot.balance_milli).where(ControlledLot.id == lot.id)) or 0
        )
        product = _product(db, lot.product_id)
        if delta_milli > 0:
            raise Conflict(
                f"lot {lot.lot_number} would hold more than a million units: check the quantity",
                fields={"quantity": "too large"},
            )
        raise Conflict(
            f"lot {lot.lot_number} holds {show(current, product.count_unit)}: it cannot give "
            f"{show(-delta_milli, product.count_unit)} (a balance never goes below zero)",
            fields={"quantity": "more than the balance"},
        )
    set_committed_value(lot, "balance_milli", int(new))
    return int(new)


def _entry(
    db: Session,
    actor: Actor,
    lot: ControlledLot,
    kind: str,
    delta_milli: int,
    *,
    at: datetime | None = None,
    **fields: Any,
) -> LedgerEntry:
    balance = _move(db, lot, delta_milli) if delta_milli else lot.balance_milli
    row = LedgerEntry(
        location_id=lot.location_id,
        lot_id=lot.id,
        kind=kind,
        at=at or utcnow(),
        recorded_by=actor.username,
        recorded_by_name=_signer_name(actor),
        units_milli=delta_milli,
        balance_after_milli=balance,
        **fields,
    )
    db.add(row)
    db.flush()
    return row


@dataclass(frozen=True)
class StockLine:
    lot: ControlledLot
    product: ControlledProduct
    location: ControlledLocation

    @property
    def balance(self) -> str:
        return show(self.lot.balance_milli, self.product.count_unit)


def _usable_lots(
    db: Session, substance: str, on: date
) -> list[tuple[ControlledLot, ControlledProduct]]:
    """Lots with stock, not expired, earliest expiry first (first expiring, first out)."""
    rows = db.execute(
        select(ControlledLot, ControlledProduct)
        .join(ControlledProduct, ControlledProduct.id == ControlledLot.product_id)
        .where(
            ControlledProduct.substance == substance,
            ControlledLot.balance_milli > 0,
            ControlledLot.expires_on > on,
        )
        .order_by(ControlledLot.expires_on, ControlledLot.id)
    )
    return [(lot, product) for lot, product in rows]


def _count(
    db: Session,
    actor: Actor,
    lot: ControlledLot,
    found_milli: int,
    occasion: str,
    note: str | None,
    now: datetime | None,
    *,
    inventory_id: int | None = None,
    estimated: bool = False,
) -> tuple[StockCount, Discrepancy | None]:
    db.refresh(lot)
    row = StockCount(
        location_id=lot.location_id,
        lot_id=lot.id,
        at=now or utcnow(),
        occasion=occasion,
        counted_by=actor.username,
        counted_by_name=_signer_name(actor),
        expected_milli=lot.balance_milli,
        found_milli=found_milli,
        estimated=estimated,
        inventory_id=inventory_id,
        note=(note or "").strip()[:2000] or None,
    )
    db.add(row)
    db.flush()
    opened = None
    if found_milli != lot.balance_milli:
        opened = Discrepancy(
            count_id=row.id,
            lot_id=lot.id,
            location_id=lot.location_id,
            difference_milli=found_milli - lot.balance_milli,
            opened_at=row.at,
        )
        db.add(opened)
        db.flush()
    _audit(
        db,
        actor,
        "count",
        "controlled_count",
        row.id,
        detail=f"lot {lot.lot_number}: found {units(found_milli):g}, "
        f"balance {units(lot.balance_milli):g}" + (f"; discrepancy {opened.id}" if opened else ""),
    )
    return row, opened
