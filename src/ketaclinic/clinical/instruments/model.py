"""The shape of an instrument: questionnaire definitions as plain, frozen data.

Every clinical number in a definition (item count, answer range, band, cut-off, LOINC
code) travels with a ``Source``: a citation and an evidence mark, ``"confirmed"``
(read in the primary text or an authoritative reproduction), ``"secondary"`` (read only
in a review, summary or reputable secondary page) or ``"convention"`` (common practice
with no single authoritative source). Instruments are rows a clinic may override field
by field with ``ketaclinic.clinical.overrides``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Evidence = Literal["confirmed", "secondary", "convention"]
CompletedBy = Literal["patient", "clinician"]
Scoring = Literal["sum", "cssrs_screen"]
Risk = Literal["none", "low", "moderate", "high"]


@dataclass(frozen=True)
class Source:
    """Where a fact comes from, and how firm it is."""

    citation: str
    evidence: Evidence
    note: str = ""


@dataclass(frozen=True)
class AnswerOption:
    """One allowed answer. ``label`` is None where only the number may be stored."""

    value: int
    label: str | None = None


@dataclass(frozen=True)
class AskedIf:
    """An item is asked only when another item has a given answer (C-SSRS skip logic)."""

    item_id: str
    value: int


@dataclass(frozen=True)
class Item:
    """One question or rating.

    ``label`` is a short name that may always be shown; ``text`` is the full wording,
    stored only where the instrument's licence allows (otherwise None: a clinic loads the
    texts it is licensed for).
    """

    id: str
    label: str
    options: tuple[AnswerOption, ...]
    text: str | None = None
    loinc: str | None = None
    asked_if: AskedIf | None = None

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(option.value for option in self.options)

    @property
    def min_value(self) -> int:
        return min(self.values)

    @property
    def max_value(self) -> int:
        return max(self.values)


@dataclass(frozen=True)
class Band:
    """A severity band, inclusive at both ends."""

    lower: int
    upper: int
    label: str
    source: Source

    def contains(self, total: int) -> bool:
        return self.lower <= total <= self.upper


@dataclass(frozen=True)
class Subscale:
    """A named part score: the sum or the highest of some items."""

    name: str
    item_ids: tuple[str, ...]
    method: Literal["sum", "max"]
    source: Source


@dataclass(frozen=True)
class FlagRule:
    """Raise ``flag`` when the total (``on="total"``) or one item reaches a limit.

    ``at_least`` and ``at_most`` are inclusive; a rule sets one or both.
    """

    flag: str
    on: str
    description: str
    source: Source
    at_least: int | None = None
    at_most: int | None = None

    def met_by(self, value: int) -> bool:
        if self.at_least is not None and value < self.at_least:
            return False
        return not (self.at_most is not None and value > self.at_most)


@dataclass(frozen=True)
class DiagnosticRule:
    """A provisional-diagnosis rule: items rated ``item_at_least`` or more count as
    endorsed; each subscale in ``required`` needs at least that many endorsed items."""

    item_at_least: int
    required: tuple[tuple[str, int], ...]
    description: str
    source: Source


@dataclass(frozen=True)
class Cutoff:
    """A remission cut-off: a total of ``at_most`` or less (inclusive)."""

    at_most: int
    description: str
    source: Source

    def met_by(self, total: int) -> bool:
        return total <= self.at_most


@dataclass(frozen=True)
class ResponseRule:
    """Response: the total falls by at least ``min_reduction`` (a fraction) of baseline."""

    min_reduction: float
    description: str
    source: Source

    def met_by(self, baseline: int, current: int) -> bool:
        if baseline <= 0:
            return False
        return (baseline - current) >= self.min_reduction * baseline


@dataclass(frozen=True)
class Instrument:
    """A questionnaire or rating scale, as data."""

    id: str
    name: str
    completed_by: CompletedBy
    recall_period: str | None
    items: tuple[Item, ...]
    scoring: Scoring
    scoring_description: str
    source: Source
    text_source: Source
    licence: str
    bands: tuple[Band, ...] = ()
    subscales: tuple[Subscale, ...] = ()
    total_from_subscales: bool = False
    flag_rules: tuple[FlagRule, ...] = ()
    diagnostic_rule: DiagnosticRule | None = None
    remission: Cutoff | None = None
    response: ResponseRule | None = None
    loinc_panel: str | None = None
    loinc_total: str | None = None
    loinc_source: Source | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    def item(self, item_id: str) -> Item:
        for candidate in self.items:
            if candidate.id == item_id:
                return candidate
        raise ValueError(f"{self.id}: unknown item {item_id!r}")

    @property
    def min_total(self) -> int | None:
        """The lowest possible total, or None where the instrument has no sum."""
        if self.scoring != "sum":
            return None
        if self.total_from_subscales:
            return sum(self._subscale_bound(s, low=True) for s in self.subscales)
        return sum(item.min_value for item in self.items)

    @property
    def max_total(self) -> int | None:
        """The highest possible total, or None where the instrument has no sum."""
        if self.scoring != "sum":
            return None
        if self.total_from_subscales:
            return sum(self._subscale_bound(s, low=False) for s in self.subscales)
        return sum(item.max_value for item in self.items)

    def _subscale_bound(self, subscale: Subscale, *, low: bool) -> int:
        bounds = [
            self.item(i).min_value if low else self.item(i).max_value for i in subscale.item_ids
        ]
        return sum(bounds) if subscale.method == "sum" else max(bounds)

    def band_for(self, total: int) -> Band | None:
        for band in self.bands:
            if band.contains(total):
                return band
        return None
