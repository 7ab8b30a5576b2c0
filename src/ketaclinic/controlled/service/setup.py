"""Setting up the ledger: the clinic's registered locations and the controlled
products it stocks."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.clinical import controlled as rules_table
from ketaclinic.controlled.models import ControlledLocation, ControlledProduct
from ketaclinic.controlled.service.common import SETUP, _audit, _require, _text
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.errors import Conflict, Invalid

COUNT_UNITS = ("vial", "mL", "device")
SUBSTANCES = ("ketamine", "esketamine")


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
