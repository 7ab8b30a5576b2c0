"""The demo clinic: staff of every role and patients with months of history.

``build`` creates the staff, then runs each area's ``demo.build(db, clinic)`` in the
order a patient meets the areas (see ``platform.areas``), so that a new user sees every
part of ketaclinic at work. ``clinic`` carries what earlier areas made.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import area_modules
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import Base, utcnow
from ketaclinic.platform.model_registry import load_all

PASSWORD = "demo-clinic-2026"  # noqa: S105 - the published demo password
DEMO = Actor(user_id=None, username="demo")
STAFF = [
    ("admin", "Alex Morgan", ["admin"]),
    ("dr.chen", "Dr. Lin Chen (medical director)", ["prescriber", "admin"]),
    ("dr.rivera", "Dr. Sofia Rivera", ["prescriber"]),
    ("nurse.okafor", "Ada Okafor, RN", ["nurse"]),
    ("nurse.lind", "Erik Lind, RN", ["nurse"]),
    ("desk.baker", "Jamie Baker", ["front_desk"]),
    ("therapist.nguyen", "Linh Nguyen, LMFT", ["therapist"]),
    ("research.patel", "Dev Patel", ["researcher"]),
]


@dataclass
class DemoClinic:
    today: date
    rng: random.Random
    staff: dict[str, Actor] = field(default_factory=dict)
    patients: list[Any] = field(default_factory=list)
    patient_logins: list[tuple[str, str]] = field(default_factory=list)
    # Anything an area wants to hand to later areas (orders, appointments...).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def logins(self) -> list[tuple[str, str]]:
        return [(u, "+".join(r)) for u, _, r in STAFF] + self.patient_logins


def _staff(db: Session, clinic: DemoClinic) -> None:
    for username, name, roles in STAFF:
        user = accounts.create_user(
            db,
            actor=DEMO,
            username=username,
            full_name=name,
            password=PASSWORD,
            roles=roles,
            email=f"{username}@clinic.example.org",  # alerts go to staff addresses
        )
        clinic.staff[username] = accounts.actor_for(user)


def build(db: Session, *, seed: int, today: date) -> DemoClinic:
    clinic = DemoClinic(today=today, rng=random.Random(seed))  # noqa: S311 - not security
    _staff(db, clinic)
    for module in area_modules("demo"):
        module.build(db, clinic)
    return clinic


def wipe(db: Session) -> None:
    """Drop every table (demo databases only), so that migrations rebuild them."""
    load_all()
    bind = db.get_bind()
    assert isinstance(bind, Engine)
    db.close()
    with bind.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP FUNCTION IF EXISTS audit_events_append_only() CASCADE"))
            from ketaclinic.platform import job_queue

            # The queue's own tables, functions and types (migration 0009), through the
            # driver: the SQL's format() placeholders are not parameters.
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute(job_queue.DROP_FILE.read_text())
    # The old clinic's checkpoint vouches for a trail that is gone: set it aside, so the
    # new clinic starts its own (it is kept, renamed, as evidence of the reset).
    checkpoint = audit.checkpoint_path()
    if checkpoint.exists():
        checkpoint.rename(
            checkpoint.with_name(f"{checkpoint.name}.before-reset-{utcnow():%Y%m%dT%H%M%S}")
        )
