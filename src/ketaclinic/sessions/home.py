"""The sessions area's parts of the home page: the nurse's chairs of the day, the
prescriber's calls and notes to co-sign, the medical director's safety figures."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.clinical import monitoring
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import HomeSection
from ketaclinic.platform.roles import Role
from ketaclinic.sessions import service


def _chairs(db: Session, actor: Actor) -> Any:
    return service.chair_board(db, actor=actor)


def _calls(db: Session, actor: Actor) -> Any:
    calls = service.open_prescriber_calls(db, actor=actor, mine=True)
    if not calls:
        return None
    return {"calls": calls, "names": service.names_on_prescriber_calls(db, calls)}


def _to_cosign(db: Session, actor: Actor) -> Any:
    return service.notes_to_cosign(db, actor=actor)


def _safety(db: Session, actor: Actor) -> Any:
    found = service.safety_summary(db, actor=actor)
    names = {k: e.label for k, e in monitoring.SIDE_EFFECTS.items()}
    return {"figures": found, "effects": names}


NURSE = frozenset({Role.nurse})
PRESCRIBER = frozenset({Role.prescriber})
ADMIN = frozenset({Role.admin})

HOME_SECTIONS = [
    HomeSection("chairs", NURSE, _chairs, Role.nurse, "sessions/_home_chairs.html"),
    HomeSection(
        "prescriber_calls", PRESCRIBER, _calls, Role.prescriber, "sessions/_home_calls.html"
    ),
    HomeSection(
        "notes_to_cosign", PRESCRIBER, _to_cosign, Role.prescriber, "sessions/_home_cosign.html"
    ),
    HomeSection("safety", ADMIN, _safety, Role.admin, "sessions/_home_safety.html"),
]
