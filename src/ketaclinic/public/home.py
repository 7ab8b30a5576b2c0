"""The public area's parts of the home page: the self-screen leads nobody has contacted yet."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import HomeSection
from ketaclinic.platform.roles import Role
from ketaclinic.public import service


def _leads(db: Session, actor: Actor) -> Any:
    return service.list_leads(db, actor=actor, status="new", limit=100)


HOME_SECTIONS = [
    HomeSection(
        "new_leads",
        frozenset({Role.front_desk}),
        _leads,
        Role.front_desk,
        "public/_home_leads.html",
    )
]
