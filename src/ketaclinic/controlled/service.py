"""The controlled-substance ledger: stock by location and lot, receipts, draws for a
session's dose, witnessed waste, destruction, returns, transfers, counts, discrepancies,
inventories, theft or loss reports, corrections and the inspector's logs.

Every act is one entry (or one count) in the caller's transaction, with its audit row;
a balance changes only through ``_move``: one conditional UPDATE that refuses to take a
lot below zero, so two nurses drawing the last vial at once cannot both succeed.

Other areas call: ``ledger_configured``, ``checklist_item``, ``draw_for_dose``,
``record_given``, ``lot_by_id`` (the sessions area, at the start of dosing, at each
nasal device and at the end of an infusion).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ketaclinic.clinical import calendar
from ketaclinic.clinical import controlled as rules_table
from ketaclinic.clinical.overrides import apply
from ketaclinic.configuration import service as configuration
from ketaclinic.controlled.models import (
    MILLI,
    ControlledLocation,
    ControlledLot,
    ControlledProduct,
    Discrepancy,
    Inventory,
    LedgerEntry,
    LossReport,
    StockCount,
)
from ketaclinic.patients import service as patients
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.clock import clinic_today
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid, NotFound
from ketaclinic.platform.roles import Role
from ketaclinic.platform.settings import get_settings

__all__ = [
    "ControlledLocation",
    "ControlledLot",
    "ControlledProduct",
    "Discrepancy",
    "Inventory",
    "LedgerEntry",
    "LossReport",
    "StockCount",
]

# Licensed hands: who receives, draws, wastes and counts, and who may witness.
LICENSED = frozenset({Role.nurse, Role.prescriber})
# Who resolves discrepancies, approves destruction and sets up locations and products.
SUPERVISORS = frozenset({Role.prescriber, Role.admin})
SETUP = frozenset({Role.admin})
READERS = LICENSED | SUPERVISORS
COUNT_UNITS = ("vial", "mL", "device")
# A lot never holds more than a million counted units (thousandths fit a 32-bit
# integer column): a bound of ketaclinic's, not a regulatory number.
MAX_BALANCE_MILLI = 10**9
SUBSTANCES = ("ketamine", "esketamine")
OCCASIONS = ("shift_change", "end_of_day")
LOG_KINDS = {
    "dispensing": ("draw", "administer"),
    "receipt": ("receive", "transfer_in"),
    "waste": ("waste", "destroy", "return", "transfer_out", "loss"),
    "corrections": ("correction", "adjustment"),
}
# Which product a session's route draws from.
ROUTE_SUBSTANCE = {"iv": "ketamine", "esketamine_nasal": "esketamine"}
KIND_LABELS = {
    "receive": "Received",
    "draw": "Drawn for a dose",
    "administer": "Given (from the chart)",
    "waste": "Wasted",
    "destroy": "Destroyed (DEA Form 41)",
    "return": "Returned to supplier",
    "transfer_out": "Transferred out",
    "transfer_in": "Transferred in",
    "loss": "Theft or loss (DEA Form 106)",
    "adjustment": "Count reconciled",
    "correction": "Correction",
}


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


# ------------------------------------------------------------------ set-up


def ledger_configured(db: Session) -> bool:
    return db.scalar(select(ControlledLocation.id).limit(1)) is not None


def add_location(
    db: Session, *, actor: Actor, code: str, name: str, dea_number: str, address: str = ""
) -> ControlledLocation:
    _require(actor, SETUP, "set up ledger locations (administrators)")
    code_text = _text(code, "a short code for the location", field="code", most=20).upper()
    number = (dea_number or "").strip().upper()
    problem = rules_table.dea_number_problem(number)
    if problem:
        raise Invalid(problem, fields={"dea_number": "invalid"})
    if db.scalar(select(ControlledLocation.id).where(ControlledLocation.code == code_text)):
        raise Conflict(f"a location {code_text} exists", fields={"code": "taken"})
    row = ControlledLocation(
        code=code_text,
        name=_text(name, "the location's name", field="name", most=120),
        dea_number=number,
        address=(address or "").strip()[:500],
        created_by=actor.username,
    )
    db.add(row)
    db.flush()
    _audit(db, actor, "location.add", "controlled_location", row.id, detail=f"{code_text} {number}")
    return row


def add_product(
    db: Session,
    *,
    actor: Actor,
    code: str,
    name: str,
    substance: str,
    count_unit: str,
    strength_mg_per_ml: float | None = None,
    volume_ml: float | None = None,
    mg_per_device: float | None = None,
) -> ControlledProduct:
    """A vial product needs strength and volume (its mg per vial follow); a nasal device
    its mg per device (esketamine: 28 mg, SPRAVATO label [confirmed])."""
    _require(actor, SETUP, "set up ledger products (administrators)")
    if substance not in SUBSTANCES:
        raise Invalid("substance: ketamine or esketamine", fields={"substance": "invalid"})
    if count_unit not in COUNT_UNITS:
        raise Invalid("count in vials, mL or devices", fields={"count_unit": "invalid"})
    if count_unit == "device":
        if not mg_per_device or not 0 < mg_per_device <= 1000:
            raise Invalid("give the mg in one device", fields={"mg_per_device": "required"})
        mg_per_unit = float(mg_per_device)
    else:
        if not strength_mg_per_ml or not 0 < strength_mg_per_ml <= 500:
            raise Invalid("give the strength in mg/mL", fields={"strength_mg_per_ml": "required"})
        if not volume_ml or not 0 < volume_ml <= 1000:
            raise Invalid("give the vial's volume in mL", fields={"volume_ml": "required"})
        per_vial = strength_mg_per_ml * volume_ml
        mg_per_unit = per_vial if count_unit == "vial" else float(strength_mg_per_ml)
    code_text = _text(code, "a product code", field="code", most=40).upper()
    if db.scalar(select(ControlledProduct.id).where(ControlledProduct.code == code_text)):
        raise Conflict(f"a product {code_text} exists", fields={"code": "taken"})
    row = ControlledProduct(
        code=code_text,
        name=_text(name, "the product's name", field="name", most=160),
        substance=substance,
        strength_mg_per_ml=strength_mg_per_ml,
        volume_ml=volume_ml,
        mg_per_unit=mg_per_unit,
        count_unit=count_unit,
        created_by=actor.username,
    )
    db.add(row)
    db.flush()
    _audit(db, actor, "product.add", "controlled_product", row.id, detail=code_text)
    return row


def locations(db: Session) -> list[ControlledLocation]:
    return list(db.scalars(select(ControlledLocation).order_by(ControlledLocation.code)))


def products(db: Session) -> list[ControlledProduct]:
    return list(db.scalars(select(ControlledProduct).order_by(ControlledProduct.code)))


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


# ------------------------------------------------------------------ balance


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


# ------------------------------------------------------------------ receipts


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


# ------------------------------------------------------------------ stock


@dataclass(frozen=True)
class StockLine:
    lot: ControlledLot
    product: ControlledProduct
    location: ControlledLocation

    @property
    def balance(self) -> str:
        return show(self.lot.balance_milli, self.product.count_unit)


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


def lot_choices(db: Session, *, route: str, on: date | None = None) -> list[StockLine]:
    """The lots a session of ``route`` may draw from (for the start form)."""
    substance = ROUTE_SUBSTANCE.get(route)
    if substance is None:
        return []
    day = on or clinic_today()
    found = _usable_lots(db, substance, day)
    return [StockLine(lot, product, _location(db, lot.location_id)) for lot, product in found]


# ------------------------------------------------------------------ sessions


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


@dataclass(frozen=True)
class ToWaste:
    """A draw whose remainder is not wasted yet."""

    draw: LedgerEntry
    lot: ControlledLot
    product: ControlledProduct
    given_mg: float
    wasted_mg: float

    @property
    def remainder_mg(self) -> float:
        return round((self.draw.mg or 0) - self.given_mg - self.wasted_mg, 3)


def _remainder(db: Session, draw: LedgerEntry) -> ToWaste:
    related = list(db.scalars(select(LedgerEntry).where(LedgerEntry.refers_to_id == draw.id)))
    given = sum(e.mg or 0 for e in related if e.kind == "administer")
    wasted = sum(e.mg or 0 for e in related if e.kind == "waste")
    lot = lot_by_id(db, draw.lot_id)
    return ToWaste(draw, lot, _product(db, lot.product_id), given, wasted)


def awaiting_waste(db: Session, *, actor: Actor) -> list[ToWaste]:
    """Draws with mg neither given nor wasted, once the dose has been recorded as given
    (and not corrected): one aggregate query, whatever the ledger's length."""
    _require(actor, READERS, "see controlled stock")
    related = (
        select(
            LedgerEntry.refers_to_id.label("draw_id"),
            func.sum(case((LedgerEntry.kind == "administer", LedgerEntry.mg), else_=0)).label(
                "given"
            ),
            func.sum(case((LedgerEntry.kind == "waste", LedgerEntry.mg), else_=0)).label("wasted"),
            func.count(case((LedgerEntry.kind == "administer", 1))).label("n_given"),
            func.count(case((LedgerEntry.kind == "correction", 1))).label("n_corrected"),
        )
        .where(LedgerEntry.refers_to_id.is_not(None))
        .group_by(LedgerEntry.refers_to_id)
        .subquery()
    )
    rows = db.execute(
        select(LedgerEntry, ControlledLot, ControlledProduct, related.c.given, related.c.wasted)
        .join(related, related.c.draw_id == LedgerEntry.id)
        .join(ControlledLot, ControlledLot.id == LedgerEntry.lot_id)
        .join(ControlledProduct, ControlledProduct.id == ControlledLot.product_id)
        .where(
            LedgerEntry.kind == "draw",
            related.c.n_given > 0,
            related.c.n_corrected == 0,
            LedgerEntry.mg - related.c.given - related.c.wasted > 0.0005,
        )
        .order_by(LedgerEntry.at.desc())
        .limit(200)
    )
    return [
        ToWaste(draw, lot, product, float(given or 0), float(wasted or 0))
        for draw, lot, product, given, wasted in rows
    ]


# ------------------------------------------------------------------ witnesses


def _witness(
    db: Session,
    *,
    actor: Actor,
    username: str,
    password: str,
    meaning: str,
    object_type: str,
    field: str,
    password_field: str,
    others: Iterable[str] = (),
) -> dict[str, Any]:
    """A second licensed person authenticates with their own password at this screen:
    never a name typed alone. The witness is never the person recording the act."""
    name = (username or "").strip().lower()
    if not name:
        raise Invalid(
            "the witness signs in with their username and password", fields={field: "required"}
        )
    if name == actor.username:
        raise Invalid(
            "you cannot witness your own act: ask a second licensed colleague",
            fields={field: "same user"},
        )
    if name in set(others):
        raise Invalid("each witness is a different person", fields={field: "same witness"})
    try:
        user = accounts.get_user(db, username=name)
    except NotFound:
        user = None
    witness = accounts.actor_for(user) if user is not None else Actor(None, name)
    if user is not None and user.active and not witness.roles & LICENSED:
        raise Invalid(
            "a witness must be a licensed user (nurse or prescriber)",
            fields={field: "not licensed"},
        )
    settings = get_settings()
    try:
        signature = accounts.confirm_signature(
            db,
            actor=witness,
            password=password,
            meaning=meaning,
            object_type=object_type,
            object_id=None,
            lockout_failures=settings.lockout_failures,
            lockout_minutes=settings.lockout_minutes,
        )
    except Invalid as exc:
        raise Invalid(
            f"witness: {exc.detail}", fields={password_field: "not authenticated"}
        ) from exc
    return {
        "username": signature.username,
        "name": signature.printed_name,
        "meaning": signature.meaning,
        "at": signature.at.astimezone(UTC).isoformat(),
    }


@dataclass(frozen=True)
class WitnessIn:
    username: str
    password: str


# ------------------------------------------------------------------ waste, destruction


def waste(
    db: Session,
    *,
    actor: Actor,
    reason: str,
    witness: WitnessIn,
    more_witnesses: Sequence[WitnessIn] = (),
    draw_id: int | None = None,
    mg: float | None = None,
    lot_id: int | None = None,
    quantity: float | None = None,
    now: datetime | None = None,
) -> LedgerEntry:
    """Waste what a dose left (``draw_id`` and ``mg``: the rest of a vial, already out of
    stock) or spoiled stock from a lot (``lot_id`` and ``quantity``: a broken vial), with
    as many licensed witnesses as the clinic's rule asks (one by default), each of whom
    authenticates here."""
    _require(actor, LICENSED, "waste controlled stock (nurses and prescribers)")
    needed = waste_witnesses_needed(db)
    given = [witness, *more_witnesses]
    if len(given) < needed:
        raise Invalid(
            f"this clinic's waste needs {needed} witnesses",
            fields={f"witness_{len(given) + 1}_username": "required"},
        )
    text = _text(reason, "why it is wasted (e.g. rest of the vial, spoiled bag)", field="reason")
    if draw_id is not None:
        draw = db.get(LedgerEntry, draw_id)
        if draw is None or draw.kind != "draw":
            raise Invalid("choose the dose whose rest is wasted", fields={"draw_id": "unknown"})
        left = _remainder(db, draw)
        if mg is None or not math.isfinite(mg) or mg <= 0:
            raise Invalid("give the mg wasted", fields={"mg": "required"})
        if mg > left.remainder_mg + 0.0005:
            raise Conflict(
                f"only {left.remainder_mg:g} mg of this draw is neither given nor wasted",
                fields={"mg": "more than the rest"},
            )
        lot, delta, patient_id, session_id = left.lot, 0, draw.patient_id, draw.session_id
        wasted_mg: float = mg
    elif lot_id is not None:
        lot = lot_by_id(db, lot_id)
        product = _product(db, lot.product_id)
        delta = -to_milli(quantity or 0)
        wasted_mg = round(units(-delta) * product.mg_per_unit, 3)
        patient_id = session_id = None
    else:
        raise Invalid("choose a dose's rest or a lot", fields={"draw_id": "required"})
    signed_all: list[dict[str, Any]] = []
    for index, w in enumerate(given[:needed], start=1):
        prefix = "witness" if index == 1 else f"witness_{index}"
        signed_all.append(
            _witness(
                db,
                actor=actor,
                username=w.username,
                password=w.password,
                meaning="witnessed this waste of a controlled substance",
                object_type="controlled_entry",
                field=f"{prefix}_username",
                password_field=f"{prefix}_password",
                others=[s["username"] for s in signed_all],
            )
        )
    entry = _entry(
        db,
        actor,
        lot,
        "waste",
        delta,
        at=now,
        mg=wasted_mg,
        patient_id=patient_id,
        session_id=session_id,
        refers_to_id=draw_id,
        witnesses=signed_all,
        reason=text,
    )
    names = ", ".join(s["username"] for s in signed_all)
    audit.record(
        db,
        actor=actor,
        action="controlled.waste",
        patient_id=patient_id,
        object_type="controlled_entry",
        object_id=entry.id,
        detail=f"lot {lot.lot_number}: {wasted_mg:g} mg, witnessed by {names}",
    )
    return entry


def waste_witnesses_needed(db: Session) -> int:
    """How many witnesses a waste takes here (the clinic's ``waste_witnesses`` rule, at
    least one and at most four, as many as the forms offer)."""
    return min(4, max(1, int(rules(db)["waste_witnesses"].value)))


def destroy(
    db: Session,
    *,
    actor: Actor,
    lot_id: int,
    quantity: float,
    method: str,
    reason: str,
    witnesses: Sequence[WitnessIn],
    now: datetime | None = None,
) -> LedgerEntry:
    """Destruction of stock (expired, recalled): approved by a prescriber or admin, with
    as many witnesses as the rule asks (two: 21 CFR 1317.95(d), DEA Form 41)."""
    _require(actor, SUPERVISORS, "approve a destruction (prescribers and administrators)")
    needed = int(rules(db)["destruction_witnesses"].value)
    if len(witnesses) < needed:
        raise Invalid(f"a destruction needs {needed} witnesses", fields={"witness_2": "required"})
    lot = lot_by_id(db, lot_id)
    milli = to_milli(quantity)
    signed: list[dict[str, Any]] = []
    for index, w in enumerate(witnesses[:needed], start=1):
        signed.append(
            _witness(
                db,
                actor=actor,
                username=w.username,
                password=w.password,
                meaning="witnessed this destruction of a controlled substance (DEA Form 41)",
                object_type="controlled_entry",
                field=f"witness_{index}",
                password_field=f"witness_{index}_password",
                others=[s["username"] for s in signed],
            )
        )
    product = _product(db, lot.product_id)
    entry = _entry(
        db,
        actor,
        lot,
        "destroy",
        -milli,
        at=now,
        mg=round(units(milli) * product.mg_per_unit, 3),
        witnesses=signed,
        method=_text(method, "how it was destroyed (non-retrievable)", field="method", most=200),
        reason=_text(reason, "why it is destroyed (expired, recalled)", field="reason"),
    )
    _audit(
        db,
        actor,
        "destroy",
        "controlled_entry",
        entry.id,
        detail=f"lot {lot.lot_number}: {show(milli, product.count_unit)}",
    )
    return entry


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


def correct(
    db: Session, *, actor: Actor, entry_id: int, reason: str, now: datetime | None = None
) -> LedgerEntry:
    """A wrong entry is never changed: a correction reverses its effect on the balance,
    naming it, with who and why; the right entry is then recorded as usual."""
    _require(actor, LICENSED | SUPERVISORS, "correct the ledger")
    wrong = db.get(LedgerEntry, entry_id)
    if wrong is None:
        raise NotFound(f"no ledger entry {entry_id}")
    if wrong.kind in ("correction", "adjustment"):
        raise Conflict("a correction or a reconciliation is not corrected: record a new entry")
    if db.scalar(
        select(LedgerEntry.id).where(
            LedgerEntry.refers_to_id == wrong.id, LedgerEntry.kind == "correction"
        )
    ):
        raise Conflict("this entry is already corrected")
    lot = lot_by_id(db, wrong.lot_id)
    entry = _entry(
        db,
        actor,
        lot,
        "correction",
        -wrong.units_milli,
        at=now,
        mg=wrong.mg,
        refers_to_id=wrong.id,
        patient_id=wrong.patient_id,
        session_id=wrong.session_id,
        reason=_text(reason, "why the entry was wrong", field="reason", minimum=5),
    )
    audit.record(
        db,
        actor=actor,
        action="controlled.correct",
        patient_id=wrong.patient_id,
        object_type="controlled_entry",
        object_id=entry.id,
        detail=f"corrects entry {wrong.id}",
    )
    return entry


# ------------------------------------------------------------------ counts


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


# ------------------------------------------------------------------ inventory


@dataclass(frozen=True)
class InventoryLine:
    lot_id: int
    found: float
    estimated: bool = False


def inventory_due(db: Session, *, location_id: int, today: date) -> date | None:
    """When the next biennial inventory is due (None: no inventory yet, take the initial)."""
    last = db.scalar(
        select(Inventory.taken_at)
        .where(Inventory.location_id == location_id)
        .order_by(Inventory.taken_at.desc())
        .limit(1)
    )
    if last is None:
        return None
    years = int(rules(db)["inventory_interval_years"].value)
    taken = last.date()
    try:
        return taken.replace(year=taken.year + years)
    except ValueError:  # 29 February
        return taken.replace(year=taken.year + years, day=28)


def take_inventory(
    db: Session,
    *,
    actor: Actor,
    location_id: int,
    kind: str,
    business_hours: str,
    lines: Sequence[InventoryLine],
    password: str,
    now: datetime | None = None,
) -> Inventory:
    """The initial or biennial inventory (21 CFR 1304.11): every lot of the location is
    counted (an opened container may be estimated unless it holds more than the rule's
    limit); the counter signs; differences open discrepancies as any count does."""
    _require(actor, LICENSED | SUPERVISORS, "take an inventory")
    location = _location(db, location_id)
    if kind not in ("initial", "biennial"):
        raise Invalid("an inventory is initial or biennial", fields={"kind": "invalid"})
    if business_hours not in ("opening", "close"):
        raise Invalid(
            "say whether it was taken at the opening or the close of business (21 CFR 1304.11(a))",
            fields={"business_hours": "required"},
        )
    lots = {
        line.lot.id: line
        for line in stock(db, actor=actor, location_id=location.id, with_empty=True)
    }
    given = {line.lot_id: line for line in lines}
    missing = [
        lots[i].lot.lot_number for i in lots if i not in given and lots[i].lot.balance_milli > 0
    ]
    if missing:
        raise Invalid(
            "count every lot of the location: " + ", ".join(missing), fields={"lines": "incomplete"}
        )
    unknown = [i for i in given if i not in lots]
    if unknown:
        raise Invalid("a lot counted is not at this location", fields={"lines": "unknown lot"})
    limit = rules(db)["estimate_limit_units"].value
    for line in given.values():
        product = lots[line.lot_id].product
        content = product.volume_ml if product.count_unit == "vial" and product.volume_ml else 1.0
        if line.estimated and not rules_table.may_estimate(content, limit):
            raise Invalid(
                f"lot {lots[line.lot_id].lot.lot_number}: a container of more than {limit:g} "
                "units is counted exactly (21 CFR 1304.11(e)(3)(ii))",
                fields={"lines": "exact count needed"},
            )
    moment = now or utcnow()
    signature = accounts.confirm_signature(
        db,
        actor=actor,
        password=password,
        meaning=f"took and attests this {kind} inventory",
        object_type="controlled_inventory",
        object_id=None,
        at=moment,
    )
    row = Inventory(
        location_id=location.id,
        kind=kind,
        taken_at=moment,
        business_hours=business_hours,
        taken_by=actor.username,
        signed_by_name=signature.printed_name,
        signature_meaning=signature.meaning,
        signed_at=signature.at,
        text="",
    )
    # The text is written before the row (the row is never updated): counts follow.
    counted = []
    for line in given.values():
        stock_line = lots[line.lot_id]
        counted.append(
            (stock_line, to_milli(line.found, field="lines", allow_zero=True), line.estimated)
        )
    row.text = inventory_text(location, kind, business_hours, moment, counted, signature)
    db.add(row)
    db.flush()
    for stock_line, milli, estimated in counted:
        _count(
            db,
            actor,
            stock_line.lot,
            milli,
            "inventory",
            None,
            moment,
            inventory_id=row.id,
            estimated=estimated,
        )
    _audit(db, actor, "inventory", "controlled_inventory", row.id, detail=f"{location.code} {kind}")
    return row


def inventory_text(
    location: ControlledLocation,
    kind: str,
    business_hours: str,
    at: datetime,
    counted: Sequence[tuple[StockLine, int, bool]],
    signature: accounts.Signature,
) -> str:
    zone = get_settings().zone
    lines = [
        f"{kind.capitalize()} inventory of controlled substances (21 CFR 1304.11)",
        f"Location: {location.name} ({location.code})",
        f"DEA registration: {location.dea_number}",
        f"Taken: {at.astimezone(zone):%Y-%m-%d %H:%M %Z}, at the {business_hours} of business",
        "",
        "Schedule III",
    ]
    for line, milli, estimated in counted:
        p = line.product
        lines.append(
            f"- {p.name} ({p.code}), lot {line.lot.lot_number}, expires {line.lot.expires_on}: "
            f"{show(milli, p.count_unit)}"
            + (" (estimated, opened container)" if estimated else "")
            + f"; ledger balance {show(line.lot.balance_milli, p.count_unit)}"
        )
    if not counted:
        lines.append("- no stock on hand")
    lines += [
        "",
        f"Signed: {signature.printed_name} ({signature.username}), {signature.meaning}, "
        f"{signature.at.astimezone(zone):%Y-%m-%d %H:%M %Z}",
    ]
    return "\n".join(lines)


def inventories(db: Session, *, actor: Actor, location_id: int | None = None) -> list[Inventory]:
    _require(actor, READERS, "see inventories")
    query = select(Inventory).order_by(Inventory.taken_at.desc())
    if location_id is not None:
        query = query.where(Inventory.location_id == location_id)
    return list(db.scalars(query))


# ------------------------------------------------------------------ theft or loss


@dataclass(frozen=True)
class LossLine:
    lot_id: int
    quantity: float


def report_loss(
    db: Session,
    *,
    actor: Actor,
    location_id: int,
    kind: str,
    discovered_on: date,
    circumstances: str,
    lines: Sequence[LossLine],
    police_report: str | None = None,
    now: datetime | None = None,
) -> LossReport:
    """A theft or significant loss: the stock leaves the ledger (``loss`` entries) and the
    report keeps DEA Form 106's data, with the written notice due one business day after
    discovery (21 CFR 1301.76(b))."""
    _require(actor, SUPERVISORS, "report a theft or loss (prescribers and administrators)")
    location = _location(db, location_id)
    if kind not in ("theft", "significant_loss"):
        raise Invalid("a theft or a significant loss", fields={"kind": "invalid"})
    if not lines:
        raise Invalid("list what was lost", fields={"lines": "required"})
    moment = now or utcnow()
    if discovered_on > clinic_today(moment):
        raise Invalid("discovered in the future?", fields={"discovered_on": "future"})
    text = _text(circumstances, "what happened", field="circumstances", minimum=5)
    kept = []
    for line in lines:
        lot = lot_by_id(db, line.lot_id)
        if lot.location_id != location.id:
            raise Invalid("a lot is not at this location", fields={"lines": "unknown lot"})
        product = _product(db, lot.product_id)
        milli = to_milli(line.quantity)
        entry = _entry(db, actor, lot, "loss", -milli, at=moment, reason=f"{kind}: {text}"[:2000])
        kept.append(
            {
                "entry_id": entry.id,
                "product": product.name,
                "lot": lot.lot_number,
                "quantity": units(milli),
                "unit": product.count_unit,
                "mg": round(units(milli) * product.mg_per_unit, 3),
            }
        )
    days = int(rules(db)["loss_notice_business_days"].value)
    row = LossReport(
        location_id=location.id,
        kind=kind,
        discovered_on=discovered_on,
        notice_due_on=calendar.add_business_days(discovered_on, days, configuration.holidays(db)),
        circumstances=text,
        police_report=(police_report or "").strip()[:120] or None,
        lines=kept,
        reported_by=actor.username,
        created_at=moment,
    )
    db.add(row)
    db.flush()
    _audit(
        db, actor, "loss.report", "controlled_loss_report", row.id, detail=f"{location.code} {kind}"
    )
    return row


def record_loss_notice(
    db: Session,
    *,
    actor: Actor,
    report_id: int,
    reference: str,
    notified_at: datetime | None = None,
) -> LossReport:
    _require(actor, SUPERVISORS, "record the DEA notice (prescribers and administrators)")
    row = db.get(LossReport, report_id)
    if row is None:
        raise NotFound(f"no loss report {report_id}")
    if row.notified_at is not None:
        raise Conflict("the notice is already recorded")
    row.notified_at = notified_at or utcnow()
    row.notified_by = actor.username
    row.notice_reference = _text(
        reference, "how the DEA was notified (reference)", field="reference", most=120
    )
    db.flush()
    _audit(db, actor, "loss.notice", "controlled_loss_report", row.id, detail=row.notice_reference)
    return row


def form_106(db: Session, *, actor: Actor, report_id: int) -> dict[str, Any]:
    """The data DEA Form 106 asks for, from the report."""
    _require(actor, SUPERVISORS, "read loss reports")
    row = db.get(LossReport, report_id)
    if row is None:
        raise NotFound(f"no loss report {report_id}")
    location = _location(db, row.location_id)
    return {
        "registrant": location.name,
        "dea_number": location.dea_number,
        "address": location.address,
        "type_of_loss": row.kind.replace("_", " "),
        "date_discovered": row.discovered_on.isoformat(),
        "notice_due_on": row.notice_due_on.isoformat(),
        "notified_at": row.notified_at.isoformat() if row.notified_at else None,
        "notice_reference": row.notice_reference,
        "police_report": row.police_report,
        "circumstances": row.circumstances,
        "lost": row.lines,
    }


# ------------------------------------------------------------------ logs


@dataclass(frozen=True)
class LogRow:
    entry: LedgerEntry
    lot: ControlledLot
    product: ControlledProduct
    patient: str | None

    def cells(self, zone: Any) -> list[str]:
        e, p = self.entry, self.product
        witnesses = "; ".join(f"{w['name']} ({w['username']})" for w in e.witnesses or [])
        other = e.supplier or ""
        if e.supplier_dea_number:
            other += f" DEA {e.supplier_dea_number}"
        return [
            e.at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            str(e.id),
            KIND_LABELS.get(e.kind, e.kind),
            p.name,
            self.lot.lot_number,
            self.lot.expires_on.isoformat(),
            f"{units(e.units_milli):g}",
            p.count_unit,
            "" if e.mg is None else f"{e.mg:g}",
            f"{units(e.balance_after_milli):g}",
            self.patient or "",
            str(e.session_id or ""),
            f"{e.recorded_by_name} ({e.recorded_by})",
            witnesses,
            other.strip(),
            e.reference or "",
            (e.method or "") + (" " if e.method and e.reason else "") + (e.reason or ""),
            str(e.refers_to_id or ""),
        ]


LOG_HEADINGS = [
    "Time",
    "Entry",
    "Act",
    "Product",
    "Lot",
    "Expires",
    "Change",
    "Unit",
    "mg",
    "Balance",
    "Patient",
    "Session",
    "Recorded by",
    "Witnesses",
    "Supplier",
    "Invoice / order form",
    "Reason",
    "Refers to",
]


@dataclass(frozen=True)
class Log:
    kind: str
    location: ControlledLocation
    start: date
    end: date
    rows: list[LogRow]
    inventories: list[Inventory]


def _day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    zone = get_settings().zone
    low = datetime.combine(start, time(0), tzinfo=zone).astimezone(UTC)
    high = datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return low, high


def log(
    db: Session,
    *,
    actor: Actor,
    location_id: int,
    kind: str,
    start: date | None,
    end: date | None,
) -> Log:
    """An inspector's log for a location and a date range (the clinic's days; today when
    no day is given, the first day alone when no last day is)."""
    _require(actor, READERS, "read the controlled-substance logs")
    location = _location(db, location_id)
    if kind not in LOG_KINDS and kind not in ("all", "inventory"):
        # The kind names the log itself (a path segment on the API): no such log.
        raise NotFound(
            "no such log: dispensing, receipt, waste, corrections, inventory or all",
            fields={"kind": "unknown"},
        )
    start = start or clinic_today()
    end = end or start
    if end < start:
        raise Invalid("the range ends before it starts", fields={"end": "before start"})
    if (end - start).days > 3 * 366:
        raise Invalid("ask for at most three years at once", fields={"end": "too long"})
    low, high = _day_bounds(start, end)
    rows: list[LogRow] = []
    if kind != "inventory":
        query = (
            select(LedgerEntry, ControlledLot, ControlledProduct)
            .join(ControlledLot, ControlledLot.id == LedgerEntry.lot_id)
            .join(ControlledProduct, ControlledProduct.id == ControlledLot.product_id)
            .where(
                LedgerEntry.location_id == location.id, LedgerEntry.at >= low, LedgerEntry.at < high
            )
            .order_by(LedgerEntry.at, LedgerEntry.id)
        )
        if kind == "dispensing":
            # Each dose's record: drawn, given, and the rest wasted (with its witness).
            query = query.where(
                LedgerEntry.kind.in_(LOG_KINDS[kind])
                | ((LedgerEntry.kind == "waste") & LedgerEntry.session_id.is_not(None))
            )
        elif kind in LOG_KINDS:
            query = query.where(LedgerEntry.kind.in_(LOG_KINDS[kind]))
        found = list(db.execute(query))
        ids = {e.patient_id for e, _, _ in found if e.patient_id is not None}
        names = patients.display_names(db, ids) if ids else {}
        for pid in sorted(ids):
            audit.note_read(
                db,
                actor=actor,
                action="controlled.log.read",
                patient_id=pid,
                object_type="controlled_log",
                object_id=f"{location.code}:{kind}",
            )
        rows = [
            LogRow(e, lot, p, names.get(e.patient_id) if e.patient_id else None)
            for e, lot, p in found
        ]
    invs: list[Inventory] = []
    if kind in ("inventory", "all"):
        invs = list(
            db.scalars(
                select(Inventory)
                .where(
                    Inventory.location_id == location.id,
                    Inventory.taken_at >= low,
                    Inventory.taken_at < high,
                )
                .order_by(Inventory.taken_at)
            )
        )
    return Log(kind, location, start, end, rows, invs)


def log_csv(found: Log) -> str:
    zone = get_settings().zone
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Location", "DEA registration"] + LOG_HEADINGS)
    for row in found.rows:
        writer.writerow([found.location.code, found.location.dea_number] + row.cells(zone))
    for inv in found.inventories:
        writer.writerow(
            [
                found.location.code,
                found.location.dea_number,
                inv.taken_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                f"inventory {inv.id}",
                f"{inv.kind} inventory",
            ]
            + [""] * (len(LOG_HEADINGS) - 4)
            + [inv.text.replace("\n", " | ")]
        )
    return out.getvalue()


LOG_TITLES = {
    "dispensing": "Dispensing log",
    "receipt": "Receipt log",
    "waste": "Waste, destruction, return and transfer log",
    "corrections": "Corrections and reconciliations",
    "inventory": "Inventories",
    "all": "Controlled-substance ledger",
}


def log_pdf(found: Log, *, clinic: str) -> bytes:
    from ketaclinic.platform.pdf import ClinicDocument

    zone = get_settings().zone
    doc = ClinicDocument(
        title=LOG_TITLES[found.kind],
        clinic=clinic,
        subtitle=f"{found.location.name} ({found.location.code}) · {found.start} to {found.end}",
        letterhead_lines=[f"DEA registration {found.location.dea_number}", found.location.address],
        printed_at=utcnow().astimezone(zone),
        landscape=True,
    )
    doc.fields([("DEA registration", found.location.dea_number), ("Entries", str(len(found.rows)))])
    if found.kind != "inventory":
        # Time, entry, act, product, lot, change, mg, balance, patient, by, witnesses,
        # supplier, invoice, reason: the unit goes with the change ("-1 vial").
        picked = [0, 1, 2, 3, 4, 6, 8, 9, 10, 12, 13, 14, 15, 16]
        table = []
        for row in found.rows:
            cells = row.cells(zone)
            cells[6] = show(row.entry.units_milli, row.product.count_unit)
            table.append([cells[i] for i in picked])
        doc.table(
            [LOG_HEADINGS[i] for i in picked],
            table,
            widths=[20, 10, 22, 30, 18, 14, 10, 12, 24, 26, 26, 28, 20, 28],
            align_right=(1, 6, 7),
        )
    for inv in found.inventories:
        doc.heading(f"Inventory {inv.id}")
        doc.paragraph(inv.text)
    return doc.output()


def day_entries(db: Session, *, actor: Actor, day: date) -> list[LogRow]:
    """Every location's entries of one clinic day (the ledger home's "today")."""
    _require(actor, READERS, "see controlled stock")
    low, high = _day_bounds(day, day)
    found = list(
        db.execute(
            select(LedgerEntry, ControlledLot, ControlledProduct)
            .join(ControlledLot, ControlledLot.id == LedgerEntry.lot_id)
            .join(ControlledProduct, ControlledProduct.id == ControlledLot.product_id)
            .where(LedgerEntry.at >= low, LedgerEntry.at < high)
            .order_by(LedgerEntry.at.desc(), LedgerEntry.id.desc())
            .limit(500)
        )
    )
    ids = {e.patient_id for e, _, _ in found if e.patient_id is not None}
    names = patients.display_names(db, ids) if ids else {}
    for pid in sorted(ids):
        audit.note_read(
            db,
            actor=actor,
            action="controlled.ledger.read",
            patient_id=pid,
            object_type="controlled_log",
            object_id=day.isoformat(),
        )
    return [
        LogRow(e, lot, p, names.get(e.patient_id) if e.patient_id else None) for e, lot, p in found
    ]


def lot_stock(db: Session, lot_id: int) -> StockLine:
    lot = lot_by_id(db, lot_id)
    return StockLine(lot, _product(db, lot.product_id), _location(db, lot.location_id))


def loss_reports(db: Session, *, actor: Actor) -> list[LossReport]:
    _require(actor, SUPERVISORS, "read loss reports")
    return list(db.scalars(select(LossReport).order_by(LossReport.created_at.desc()).limit(50)))


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
