"""Response and remission: the definitions table and ``classify``.

Scores are plain numbers with an instrument id (``phq9``, ``gad7``, ``pcl5``,
``qids_sr16``, ``madrs``); scoring the questionnaire itself belongs to
``ketaclinic.clinical.instruments``. Lower is better on every instrument here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ketaclinic.clinical.instruments.definitions.madrs import MADRS
from ketaclinic.clinical.overrides import Override, apply

Evidence = Literal["confirmed", "secondary", "convention"]
Category = Literal["remission", "response", "partial_response", "non_response"]


@dataclass(frozen=True)
class Rule:
    """One course-wide definition: a number with its meaning and source."""

    id: str
    value: float
    description: str
    source: str
    evidence: Evidence


assert MADRS.remission is not None
_MADRS_REMISSION = MADRS.remission

_TRIALS = (
    "Convention widely used in trials (clinical-reference section 5), e.g. Williams NR et "
    "al., Am J Psychiatry 2018 (HAM-D) and Andrashko V et al., Front Psychiatry 2020 "
    "(MADRS)"
)

RULES: dict[str, Rule] = {
    "response_reduction_pct": Rule(
        "response_reduction_pct",
        50,
        "Response: score reduced by at least this percentage of baseline",
        _TRIALS,
        "convention",
    ),
    "partial_response_reduction_pct": Rule(
        "partial_response_reduction_pct",
        25,
        "Partial response: reduced by at least this percentage, short of response",
        "Common convention (25-49% reduction); no single source",
        "convention",
    ),
    "rapid_response_day": Rule(
        "rapid_response_day",
        1,
        "Rapid response is judged this many days (24 h) after the first session",
        "Convention widely used in trials (clinical-reference section 5)",
        "convention",
    ),
    "rapid_response_window_day": Rule(
        "rapid_response_window_day",
        0.5,
        "A score counts for the rapid-response judgement within this many days of it",
        "ketaclinic's matching window; no source",
        "convention",
    ),
    "relapse_consecutive_measures": Rule(
        "relapse_consecutive_measures",
        2,
        "Relapse signal: after a response, this many consecutive scores back above the "
        "response line (or risen by the instrument's relapse_rise_points)",
        "Clinic convention; no single source: set per clinic",
        "convention",
    ),
}


@dataclass(frozen=True)
class OutcomeInstrument:
    """How an instrument's total is read for response and remission.

    ``remission_max`` is the highest total that counts as remission (``None``: no
    accepted remission cut-off). ``meaningful_change`` is a change in points taken as
    clinically meaningful, where one is published. ``relapse_rise_points`` (``None``:
    off) adds a relapse signal on a rise of that many points above the best score.
    """

    id: str
    label: str
    max_score: float
    range_source: str
    remission_max: float | None
    remission_source: str
    remission_evidence: Evidence
    meaningful_change: float | None = None
    meaningful_change_source: str = ""
    meaningful_change_evidence: Evidence = "convention"
    relapse_rise_points: float | None = None


INSTRUMENTS: dict[str, OutcomeInstrument] = {
    "madrs": OutcomeInstrument(
        id="madrs",
        label="MADRS",
        max_score=60,
        range_source="Montgomery & Asberg, Br J Psychiatry 1979;134:382-389",
        # One home: the MADRS definition in clinical.instruments carries the cut-off.
        remission_max=_MADRS_REMISSION.at_most,
        remission_source=_MADRS_REMISSION.source.citation + "; a clinic setting",
        remission_evidence=_MADRS_REMISSION.source.evidence,
    ),
    "qids_sr16": OutcomeInstrument(
        id="qids_sr16",
        label="QIDS-SR16",
        max_score=27,
        range_source="Rush AJ et al., Biol Psychiatry 2003;54:573-583",
        remission_max=5,
        remission_source=(
            "Remission at 5 or less as in STAR*D (Trivedi MH et al., Am J Psychiatry 2006); "
            "0-5 is the 'none' band of the ids-qids.org interpretation"
        ),
        remission_evidence="secondary",
    ),
    "phq9": OutcomeInstrument(
        id="phq9",
        label="PHQ-9",
        max_score=27,
        range_source="Kroenke K, Spitzer RL, Williams JBW, J Gen Intern Med 2001;16:606-613",
        remission_max=4,
        remission_source=(
            "Below 5, the minimal band 0-4 (Kroenke, Spitzer, Williams, J Gen Intern Med "
            "2001;16:606-613; Kroenke & Spitzer, Psychiatr Ann 2002;32(9):509-515); using "
            "the band as remission is a common convention"
        ),
        remission_evidence="secondary",
    ),
    "gad7": OutcomeInstrument(
        id="gad7",
        label="GAD-7",
        max_score=21,
        range_source="Spitzer RL et al., Arch Intern Med 2006;166:1092-1097",
        remission_max=4,
        remission_source=(
            "Below 5, the minimal band 0-4 (Spitzer et al., Arch Intern Med 2006); using "
            "the band as remission is clinic convention"
        ),
        remission_evidence="convention",
    ),
    "pcl5": OutcomeInstrument(
        id="pcl5",
        label="PCL-5",
        max_score=80,
        range_source="Weathers FW et al. 2013 (National Center for PTSD); Blevins 2015",
        remission_max=None,
        remission_source=(
            "No standard remission cut-off for the PCL-5; 31-33 marks probable PTSD, "
            "not remission (National Center for PTSD)"
        ),
        remission_evidence="secondary",
        meaningful_change=10,
        meaningful_change_source=(
            "A change of about 10 points as clinically meaningful: National Center for "
            "PTSD guidance; minimal important difference 9-12 points and changes of 5 or "
            "less likely unreliable (Blanchard BE et al., J Trauma Stress "
            "2023;36:1102-1114)"
        ),
        meaningful_change_evidence="secondary",
    ),
}


@dataclass(frozen=True)
class Classification:
    """Latest score against baseline on one instrument.

    ``percent_change`` is (current - baseline) / baseline x 100: negative is
    improvement; ``None`` when baseline is 0. ``remission`` is ``None`` where the
    instrument has no remission cut-off; ``meaningful_change`` is ``None`` where it has
    no published meaningful change. ``category`` gives remission first, then response,
    partial response, non-response.
    """

    instrument_id: str
    baseline: float
    current: float
    percent_change: float | None
    category: Category
    response: bool
    remission: bool | None
    meaningful_change: bool | None
    reason: str
    sources: tuple[str, ...]


def instrument(instrument_id: str, overrides: Iterable[Override] = ()) -> OutcomeInstrument:
    table = apply(INSTRUMENTS, overrides)
    if instrument_id not in table:
        raise ValueError(
            f"unknown instrument {instrument_id!r}; expected one of {', '.join(table)}"
        )
    return table[instrument_id]


def check_score(row: OutcomeInstrument, value: float, what: str = "score") -> None:
    if not math.isfinite(value) or not 0 <= value <= row.max_score:
        raise ValueError(f"{row.label} {what} must be 0 to {row.max_score:g}, got {value!r}")


def split_overrides(
    overrides: Iterable[Override],
) -> tuple[tuple[Override, ...], tuple[Override, ...], tuple[Override, ...]]:
    """Overrides of RULES, of INSTRUMENTS, and the rest (in that order)."""
    rules, instruments, rest = [], [], []
    for o in overrides:
        if o.target in RULES:
            rules.append(o)
        elif o.target in INSTRUMENTS:
            instruments.append(o)
        else:
            rest.append(o)
    return tuple(rules), tuple(instruments), tuple(rest)


def classify(
    instrument_id: str,
    baseline: float,
    current: float,
    *,
    overrides: Iterable[Override] = (),
) -> Classification:
    """Classify ``current`` against ``baseline`` on one instrument.

    ``overrides`` may name rows of ``RULES`` or ``INSTRUMENTS``.
    """
    rule_ovr, instr_ovr, rest = split_overrides(overrides)
    if rest:
        raise ValueError(f"override names unknown row {rest[0].target!r}")
    rules = apply(RULES, rule_ovr)
    row = instrument(instrument_id, instr_ovr)
    check_score(row, baseline, "baseline")
    check_score(row, current, "current score")
    response_pct = rules["response_reduction_pct"].value
    partial_pct = rules["partial_response_reduction_pct"].value

    percent = None if baseline == 0 else (current - baseline) / baseline * 100.0
    reduction = None if percent is None else -percent
    response = reduction is not None and reduction >= response_pct
    partial = reduction is not None and not response and reduction >= partial_pct
    remission = None if row.remission_max is None else current <= row.remission_max
    meaningful = (
        None if row.meaningful_change is None else baseline - current >= row.meaningful_change
    )

    category: Category
    if remission:
        category = "remission"
    elif response:
        category = "response"
    elif partial:
        category = "partial_response"
    else:
        category = "non_response"

    change = "no baseline to compare (0)" if percent is None else f"{percent:+.0f}%"
    parts = [f"{row.label} {baseline:g} -> {current:g} ({change})"]
    sources = []
    if response:
        parts.append(f"at least {response_pct:g}% reduction: response")
    elif partial:
        parts.append(f"{partial_pct:g}-{response_pct:g}% reduction: partial response")
    else:
        parts.append(f"less than {partial_pct:g}% reduction: no response")
    sources.append(rules["response_reduction_pct"].source)
    if remission is None:
        parts.append("no remission cut-off for this instrument")
    elif remission:
        parts.append(f"{current:g} is at or below {row.remission_max:g}: remission")
    else:
        parts.append(f"{current:g} is above the remission cut-off {row.remission_max:g}")
    sources.append(row.remission_source)
    if meaningful is not None:
        word = "a" if meaningful else "not a"
        parts.append(
            f"{baseline - current:g}-point fall is {word} clinically meaningful change "
            f"({row.meaningful_change:g} points)"
        )
        sources.append(row.meaningful_change_source)
    return Classification(
        instrument_id=row.id,
        baseline=baseline,
        current=current,
        percent_change=percent,
        category=category,
        response=response,
        remission=remission,
        meaningful_change=meaningful,
        reason="; ".join(parts),
        sources=tuple(sources),
    )
