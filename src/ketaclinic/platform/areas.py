"""The areas of the clinic's work, in the order a patient meets them.

Each area is a package with the same few optional modules; the platform finds them by
name, so a new area needs no edits elsewhere:

- ``models``: tables (imported for Alembic and the tests)
- ``api`` and ``pages``: each an ``APIRouter`` named ``router``
- ``pages.NAV``: ``(label, path, roles)`` entries for the main navigation
- ``pages.CHART_SECTIONS``: ``ChartSection`` regions of the patient chart
- ``demo``: ``build(db, clinic)`` adds the area's part of the demo clinic
"""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from types import ModuleType

AREAS = (
    "patients",
    "candidacy",
    "orders",
    "scheduling",
    "sessions",
    "outcomes",
    "public",
    "interop",
    "reports",
    "configuration",
)


def area_modules(name: str) -> list[ModuleType]:
    """The ``name`` module of every area that has one, in area order."""
    found = []
    for area in AREAS:
        qualified = f"ketaclinic.{area}.{name}"
        if find_spec(f"ketaclinic.{area}") is None or find_spec(qualified) is None:
            continue
        found.append(import_module(qualified))
    return found
