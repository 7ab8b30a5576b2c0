"""The areas of the clinic's work, in the order a patient meets them.

Each area is a package with the same few optional modules; the platform finds them by
name, so a new area needs no edits elsewhere:

- ``models``: tables (imported for Alembic and the tests)
- ``api`` and ``pages``: each an ``APIRouter`` named ``router``
- ``fhir``: an ``APIRouter`` named ``router`` for the FHIR R4 interface (interop's)
- ``pages.NAV``: ``(label, path, roles)`` entries for the main navigation
- ``pages.CHART_SECTIONS``: ``ChartSection`` regions of the patient chart
- ``pages.HOME_SECTIONS``: ``HomeSection`` parts of the role-fitted home page
- ``pages.PATIENT_HOME``: where a patient account lands instead of the staff home
- ``demo``: ``build(db, clinic)`` adds the area's part of the demo clinic

Every area listed here exists: a missing one is a bug and fails at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec
from types import ModuleType
from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.platform.actors import Actor
from ketaclinic.platform.roles import Role

AREAS = (
    "patients",
    "candidacy",
    "orders",
    "scheduling",
    "consent",
    "sessions",
    "controlled",
    "interop",
    "outcomes",
    "care",
    "public",
    "billing",
    "configuration",
    "reports",
)


def area_modules(name: str) -> list[ModuleType]:
    """The ``name`` module of every area that has one, in area order."""
    found = []
    for area in AREAS:
        package = import_module(f"ketaclinic.{area}")
        qualified = f"{package.__name__}.{name}"
        if find_spec(qualified) is None:
            continue
        found.append(import_module(qualified))
    return found


@dataclass(frozen=True)
class ChartSection:
    """A region of the patient chart that an area fills: its template gets ``data``,
    what ``load(db, actor, patient)`` returns for the patient the chart shows (the
    patients area's record)."""

    key: str
    title: str
    template: str
    load: Callable[[Session, Actor, Any], Any]


@dataclass(frozen=True)
class HomeSection:
    """A part of the home page: ``key`` is set in the page's context to what
    ``load(db, actor)`` returns, for an actor with one of ``roles``; a ``None`` leaves
    the part out. A part with a ``template`` belongs to the home of role ``home`` (the
    nurse's, the prescriber's ...): the page shows it under that role's heading, its
    template getting ``data``, and a person with several roles sees each role's parts."""

    key: str
    roles: frozenset[Role]
    load: Callable[[Session, Actor], Any]
    home: Role | None = None
    template: str | None = None


# The role homes in the order the page shows them to a person with several roles, with
# their headings.
ROLE_HOMES: tuple[tuple[Role, str], ...] = (
    (Role.nurse, "At the chairs today"),
    (Role.prescriber, "To sign and decide"),
    (Role.front_desk, "The front desk today"),
    (Role.admin, "Safety and outcomes"),
    (Role.therapist, "My therapy patients"),
)


def chart_sections() -> list[ChartSection]:
    """Every area's ``pages.CHART_SECTIONS``, in the order a patient meets the areas."""
    return [s for m in area_modules("pages") for s in getattr(m, "CHART_SECTIONS", [])]


def home_sections() -> list[HomeSection]:
    """Every area's ``pages.HOME_SECTIONS``, in area order."""
    return [s for m in area_modules("pages") for s in getattr(m, "HOME_SECTIONS", [])]


def patient_home() -> str | None:
    """The first area's ``pages.PATIENT_HOME``, if an area offers one."""
    for module in area_modules("pages"):
        path = getattr(module, "PATIENT_HOME", None)
        if path:
            return str(path)
    return None
