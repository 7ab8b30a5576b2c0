"""The care area's parts of the home page: the therapist's patients and sessions, the
prescriber's course decisions due and booster proposals to answer."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.care import service
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import HomeSection
from ketaclinic.platform.roles import Role


def _therapist(db: Session, actor: Actor) -> Any:
    return service.therapist_home(db, actor=actor)


def _decisions(db: Session, actor: Actor) -> Any:
    return service.decisions_due(db, actor=actor)


def _boosters(db: Session, actor: Actor) -> Any:
    return service.open_proposals(db, actor=actor)


PRESCRIBER = frozenset({Role.prescriber})

HOME_SECTIONS = [
    HomeSection(
        "care_decisions", PRESCRIBER, _decisions, Role.prescriber, "care/_home_decisions.html"
    ),
    HomeSection(
        "care_boosters", PRESCRIBER, _boosters, Role.prescriber, "care/_home_boosters.html"
    ),
    HomeSection(
        "care_therapist",
        frozenset({Role.therapist}),
        _therapist,
        Role.therapist,
        "care/_home_therapist.html",
    ),
]
