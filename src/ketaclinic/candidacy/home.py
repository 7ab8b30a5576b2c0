"""The candidacy area's parts of the home page: the candidacy decisions waiting for a prescriber."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.candidacy import service
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import HomeSection
from ketaclinic.platform.roles import Role


def _waiting(db: Session, actor: Actor) -> Any:
    return service.decisions_waiting(db, actor=actor)


HOME_SECTIONS = [
    HomeSection(
        "candidacy_waiting",
        frozenset({Role.prescriber}),
        _waiting,
        Role.prescriber,
        "candidacy/_home_waiting.html",
    )
]
