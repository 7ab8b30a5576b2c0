"""The orders area's parts of the home page: the orders a prescriber has to sign."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.orders import service
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import HomeSection
from ketaclinic.platform.roles import Role


def _to_sign(db: Session, actor: Actor) -> Any:
    return service.drafts_to_sign(db, actor=actor)


HOME_SECTIONS = [
    HomeSection(
        "orders_to_sign",
        frozenset({Role.prescriber}),
        _to_sign,
        Role.prescriber,
        "orders/_home_to_sign.html",
    )
]
