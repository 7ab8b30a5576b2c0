"""The billing area's parts of the home page: the good-faith estimates due."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.billing import service
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import HomeSection
from ketaclinic.platform.roles import Role


def _estimates(db: Session, actor: Actor) -> Any:
    return service.estimates_due(db, actor=actor)


HOME_SECTIONS = [
    HomeSection(
        "estimates_due",
        frozenset({Role.front_desk}),
        _estimates,
        Role.front_desk,
        "billing/_home_estimates.html",
    )
]
