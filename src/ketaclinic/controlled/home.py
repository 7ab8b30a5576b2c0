"""The controlled area's parts of the home page: the open discrepancies of the
controlled-substance ledger."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.controlled import service
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import HomeSection
from ketaclinic.platform.roles import Role


def _discrepancies(db: Session, actor: Actor) -> Any:
    return service.discrepancy_summary(db, actor=actor)


HOME_SECTIONS = [
    HomeSection(
        "discrepancies",
        frozenset({Role.admin}),
        _discrepancies,
        Role.admin,
        "controlled/_home_discrepancies.html",
    )
]
