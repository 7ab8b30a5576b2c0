"""Witnessed waste of what a dose left or of spoiled stock, and the destruction of
stock (DEA Form 41): each witness authenticates at the screen."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ketaclinic.controlled.models import ControlledLot, ControlledProduct, LedgerEntry
from ketaclinic.controlled.service.common import (
    LICENSED,
    READERS,
    SUPERVISORS,
    _audit,
    _entry,
    _product,
    _require,
    _text,
    lot_by_id,
    rules,
    show,
    to_milli,
    units,
)
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.errors import Conflict, Invalid, NotFound
from ketaclinic.platform.settings import get_settings


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
