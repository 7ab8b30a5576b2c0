"""The initial and biennial inventories of a location (21 CFR 1304.11)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.clinical import controlled as rules_table
from ketaclinic.controlled.models import ControlledLocation, Inventory
from ketaclinic.controlled.service.common import (
    LICENSED,
    READERS,
    SUPERVISORS,
    StockLine,
    _audit,
    _count,
    _location,
    _require,
    rules,
    show,
    to_milli,
)
from ketaclinic.controlled.service.on_hand import stock
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Invalid
from ketaclinic.platform.settings import get_settings


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
