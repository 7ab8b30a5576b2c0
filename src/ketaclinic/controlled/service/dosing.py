"""A session's dose: the checklist's ledger item, the draw when dosing starts (or each
nasal device given), what the pump record says went in, and the lots each session
drew from."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.controlled.models import MILLI, ControlledLot, ControlledProduct, LedgerEntry
from ketaclinic.controlled.service.common import (
    LICENSED,
    ROUTE_SUBSTANCE,
    _entry,
    _product,
    _require,
    _usable_lots,
    lot_by_id,
    show,
    to_milli,
    units,
)
from ketaclinic.controlled.service.setup import ledger_configured
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.clock import clinic_today
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Invalid


@dataclass(frozen=True)
class ChecklistAnswer:
    met: bool
    text: str


def checklist_item(db: Session, *, route: str, session_id: int, on: date) -> ChecklistAnswer:
    """The session checklist's "Controlled-substance ledger" item."""
    if not ledger_configured(db):
        return ChecklistAnswer(
            True,
            "No controlled-substance ledger is configured: this dose is not drawn from a "
            "lot (keep the paper record)",
        )
    drawn = db.scalar(
        select(LedgerEntry.id).where(
            LedgerEntry.session_id == session_id, LedgerEntry.kind == "draw"
        )
    )
    if drawn is not None:
        return ChecklistAnswer(True, "Drawn from the ledger")
    substance = ROUTE_SUBSTANCE.get(route, "")
    usable = _usable_lots(db, substance, on)
    if not usable:
        return ChecklistAnswer(
            False, f"No {substance} in stock (unexpired): receive stock before dosing"
        )
    lot, product = usable[0]
    return ChecklistAnswer(
        True,
        f"{product.name}, lot {lot.lot_number}: {show(lot.balance_milli, product.count_unit)} "
        "on hand; the dose is drawn when dosing starts",
    )


def _pick_lot(
    db: Session, substance: str, lot_id: int | None, on: date
) -> tuple[ControlledLot, ControlledProduct]:
    if lot_id is not None:
        lot = lot_by_id(db, lot_id)
        product = _product(db, lot.product_id)
        if product.substance != substance:
            raise Invalid(
                f"lot {lot.lot_number} is {product.name}, not {substance}",
                fields={"lot_id": "wrong product"},
            )
        if lot.expires_on <= on:
            raise Conflict(
                f"lot {lot.lot_number} expired on {lot.expires_on}", fields={"lot_id": "expired"}
            )
        return lot, product
    usable = _usable_lots(db, substance, on)
    if not usable:
        raise Conflict(
            f"no {substance} in stock in the ledger: receive stock before dosing",
            fields={"lot_id": "no stock"},
        )
    return usable[0]


def _units_for(product: ControlledProduct, mg: float) -> int:
    """What leaves stock for ``mg``: whole vials or devices, or the mL drawn."""
    if product.count_unit == "mL":
        return to_milli(round(mg / product.mg_per_unit, 3))
    return math.ceil(mg / product.mg_per_unit - 1e-9) * MILLI


def draw_for_dose(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    patient_id: int,
    route: str,
    mg: float,
    lot_id: int | None = None,
    administered: bool = False,
    at: datetime | None = None,
) -> LedgerEntry | None:
    """Draw the stock a dose needs from a lot (chosen, or the first expiring); None when
    the clinic keeps no ledger. ``administered``: the amount is given at once (a nasal
    device), so the draw is also the administration."""
    _require(actor, LICENSED, "draw controlled stock (nurses and prescribers)")
    if not ledger_configured(db):
        return None
    substance = ROUTE_SUBSTANCE.get(route)
    if substance is None:
        raise Invalid(f"no controlled product is drawn for route {route!r}")
    moment = at or utcnow()
    lot, product = _pick_lot(db, substance, lot_id, clinic_today(moment))
    milli = _units_for(product, mg)
    drawn_mg = mg if product.count_unit == "mL" else units(milli) * product.mg_per_unit
    entry = _entry(
        db,
        actor,
        lot,
        "administer" if administered else "draw",
        -milli,
        at=moment,
        mg=round(drawn_mg, 3),
        session_id=session_id,
        patient_id=patient_id,
    )
    audit.record(
        db,
        actor=actor,
        action="controlled.draw",
        patient_id=patient_id,
        object_type="controlled_entry",
        object_id=entry.id,
        detail=f"session {session_id}, lot {lot.lot_number}: {show(milli, product.count_unit)} "
        f"({drawn_mg:g} mg)",
    )
    return entry


def record_given(
    db: Session, *, actor: Actor, session_id: int, mg: float, at: datetime | None = None
) -> LedgerEntry | None:
    """At the end of an infusion: the mg the pump record says went in (no stock moves:
    it left with the draw); what was drawn and not given is left to waste."""
    draw = db.scalar(
        select(LedgerEntry)
        .where(LedgerEntry.session_id == session_id, LedgerEntry.kind == "draw")
        .order_by(LedgerEntry.id.desc())
        .limit(1)
    )
    if draw is None:
        return None
    lot = lot_by_id(db, draw.lot_id)
    entry = _entry(
        db,
        actor,
        lot,
        "administer",
        0,
        at=at,
        mg=round(mg, 3),
        session_id=session_id,
        patient_id=draw.patient_id,
        refers_to_id=draw.id,
    )
    audit.record(
        db,
        actor=actor,
        action="controlled.administer",
        patient_id=draw.patient_id,
        object_type="controlled_entry",
        object_id=entry.id,
        detail=f"session {session_id}: {mg:g} mg given of {draw.mg:g} mg drawn",
    )
    return entry


def lots_of_sessions(
    db: Session, session_ids: Iterable[int]
) -> dict[int, list[tuple[datetime, str]]]:
    """The lot numbers stock was drawn from for each session (an infusion's draw, each
    nasal device's administration), in the order drawn: for a record of what was given."""
    found: dict[int, list[tuple[datetime, str]]] = {}
    ids = sorted(set(session_ids))
    if not ids:
        return found
    for session_id, at, lot_number in db.execute(
        select(LedgerEntry.session_id, LedgerEntry.at, ControlledLot.lot_number)
        .join(ControlledLot, ControlledLot.id == LedgerEntry.lot_id)
        .where(
            LedgerEntry.session_id.in_(ids),
            LedgerEntry.kind.in_(("draw", "administer")),
            LedgerEntry.units_milli != 0,  # an infusion's "given" entry moves no stock
        )
        .order_by(LedgerEntry.at, LedgerEntry.id)
    ):
        if session_id is not None:  # always, by the filter: for the type checker
            found.setdefault(session_id, []).append((at, lot_number))
    return found
