"""Small-cell suppression of aggregate tables shown outside the care team (the
researcher's counts and rates): a count of people below the minimum cell size is shown
as suppressed, never as its number, so a rare group cannot be re-identified.

A declared table a clinic can review and override (``disclosure.suppression``), like
the clinical defaults.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ketaclinic.clinical.overrides import Override, apply

Evidence = Literal["confirmed", "secondary", "convention"]

_CMS_SOURCE = (
    "CMS cell size suppression policy (CMS Data Use Agreement; ResDAC, 'CMS Cell Size "
    "Suppression Policy'): no cell of 1 to 10 beneficiaries, nor a figure from which one "
    "can be derived, is displayed; cells of 11 or more may be shown"
)


@dataclass(frozen=True)
class Suppression:
    """Counts from 1 to ``min_cell - 1`` are suppressed; zero is shown when
    ``show_zero`` (zero people identifies nobody)."""

    id: str
    min_cell: int
    show_zero: bool
    source: str
    evidence: Evidence


SUPPRESSION: dict[str, Suppression] = {
    "research_tables": Suppression("research_tables", 11, True, _CMS_SOURCE, "secondary"),
}


def research_rule(overrides: Iterable[Override] = ()) -> Suppression:
    """The rule of the researcher's tables, with the clinic's overrides applied."""
    return apply(SUPPRESSION, overrides)["research_tables"]


def suppressed(count: int, rule: Suppression) -> bool:
    """Whether ``count`` people are too few to show under ``rule``."""
    if count < 0:
        raise ValueError("a count of people is never negative")
    if count == 0:
        return not rule.show_zero
    return count < rule.min_cell


def shown(count: int, rule: Suppression) -> str:
    """The count as a table shows it: the number, or ``<min_cell`` when suppressed."""
    return f"<{rule.min_cell}" if suppressed(count, rule) else str(count)
