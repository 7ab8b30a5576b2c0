"""A ledger set up as an administrator would: one location with its DEA number, a
racemic ketamine vial product and an esketamine device product, and lots received."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from ketaclinic.controlled import service
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from tests.conftest import committed, make_user

# A well-formed DEA number: (1 + 3 + 5) + 2 x (2 + 4 + 6) = 33, check digit 3.
DEA = "AB1234563"
# The supplier's: (7 + 5 + 3) + 2 x (6 + 4 + 2) = 39, check digit 9.
SUPPLIER_DEA = "PM7654329"
EXPIRES = date(2028, 6, 30)


@dataclass
class Ledger:
    admin: Actor
    nurse: Actor
    nurse2: Actor
    prescriber: Actor
    location: service.ControlledLocation
    vials: service.ControlledProduct
    devices: service.ControlledProduct


def actor(db: Session, role: str, username: str) -> Actor:
    return accounts.actor_for(make_user(db, role, username=username))


@committed
def ledger(db: Session, *, nurse: Actor | None = None, prescriber: Actor | None = None) -> Ledger:
    admin = actor(db, "admin", "ledger-admin")
    location = service.add_location(
        db, actor=admin, code="MAIN", name="Main clinic", dea_number=DEA, address="1 Harbor St"
    )
    # Ketalar-style 10 mg/mL, 5 mL vials (50 mg each), counted as vials.
    vials = service.add_product(
        db,
        actor=admin,
        code="KET-10-5",
        name="Ketamine HCl 10 mg/mL, 5 mL vial",
        substance="ketamine",
        count_unit="vial",
        strength_mg_per_ml=10,
        volume_ml=5,
    )
    devices = service.add_product(
        db,
        actor=admin,
        code="SPRAVATO-28",
        name="Esketamine 28 mg nasal device",
        substance="esketamine",
        count_unit="device",
        mg_per_device=28,
    )
    return Ledger(
        admin,
        nurse or actor(db, "nurse", "ledger-nurse"),
        actor(db, "nurse", "witness-nurse"),
        prescriber or actor(db, "prescriber", "ledger-prescriber"),
        location,
        vials,
        devices,
    )


@committed
def received(
    db: Session,
    setup: Ledger,
    *,
    lot_number: str = "K2401",
    quantity: float = 10,
    product: service.ControlledProduct | None = None,
) -> service.LedgerEntry:
    return service.receive(
        db,
        actor=setup.nurse,
        location_id=setup.location.id,
        product_id=(product or setup.vials).id,
        lot_number=lot_number,
        expires_on=EXPIRES,
        quantity=quantity,
        supplier="Henry Schein",
        supplier_dea_number=SUPPLIER_DEA,
        reference="INV-88121",
    )
