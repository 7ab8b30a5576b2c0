"""Scoring answers to an instrument: validation, total, band, flags, subscales, risk.

Answers are a mapping from item id to an integer value, or a sequence of values in item
order. Every answer is checked against the item's options; a missing, unknown or
out-of-range answer is a ``ValueError`` naming the item. Nothing is prorated: no
instrument here has a confirmed prorating rule in its own manual, so every asked item
must be answered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..overrides import Override
from .catalogue import get
from .model import Instrument, Risk, Subscale

Answers = Mapping[str, int | None] | Sequence[int | None]


@dataclass(frozen=True)
class ScoreResult:
    """The scored answers of one administration of one instrument."""

    instrument_id: str
    total: int | None
    severity: str | None
    flags: frozenset[str]
    item_values: dict[str, int]
    subscales: dict[str, int] = field(default_factory=dict)
    risk: Risk | None = None
    provisional_diagnosis: bool | None = None
    prorated: bool = False
    notes: tuple[str, ...] = ()
    overrides: tuple[Override, ...] = ()


def score(
    instrument_id: str, answers: Answers, *, overrides: Iterable[Override] = ()
) -> ScoreResult:
    """Score ``answers`` to the instrument ``instrument_id``.

    ``overrides`` are clinic changes to instrument fields (bands, remission cut-off...);
    those for this instrument are recorded on the result.
    """
    overrides = tuple(overrides)
    instrument = get(instrument_id, overrides)
    used = tuple(o for o in overrides if o.target == instrument.id)
    values = validate(instrument, answers)
    if instrument.scoring == "cssrs_screen":
        return _score_cssrs(instrument, values, used)
    return _score_sum(instrument, values, used)


def validate(instrument: Instrument, answers: Answers) -> dict[str, int]:
    """Check ``answers`` and return the values of the items that were asked, by item id.

    Items whose ``asked_if`` condition is not met must be absent, None or 0, and are left
    out of the result.
    """
    raw = _as_mapping(instrument, answers)
    for item_id, value in raw.items():
        if value is None:
            continue
        item = instrument.item(item_id)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{instrument.id} {item_id}: value {value!r} is not a whole number")
        if value not in item.values:
            raise ValueError(
                f"{instrument.id} {item_id}: value {value} is outside "
                f"{item.min_value}-{item.max_value}"
            )
    answered: dict[str, int] = {k: v for k, v in raw.items() if v is not None}

    missing = [i.id for i in instrument.items if i.asked_if is None and i.id not in answered]
    if missing:
        raise ValueError(f"{instrument.id}: missing answer for {', '.join(missing)}")

    values: dict[str, int] = {}
    for item in instrument.items:
        condition = item.asked_if
        if condition is None:
            values[item.id] = answered[item.id]
            continue
        parent = values.get(condition.item_id)
        if parent == condition.value:
            if item.id not in answered:
                raise ValueError(
                    f"{instrument.id}: missing answer for {item.id} "
                    f"(asked because {condition.item_id} is {condition.value})"
                )
            values[item.id] = answered[item.id]
        elif answered.get(item.id, 0) != 0:
            shown = "not asked" if parent is None else str(parent)
            raise ValueError(
                f"{instrument.id} {item.id}: asked only when {condition.item_id} is "
                f"{condition.value}, but {condition.item_id} is {shown}; leave it out or "
                f"answer 0"
            )
    return values


def _as_mapping(instrument: Instrument, answers: Answers) -> dict[str, int | None]:
    if isinstance(answers, Mapping):
        raw = dict(answers)
        unknown = [key for key in raw if key not in instrument.item_ids]
        if unknown:
            names = ", ".join(repr(key) for key in unknown)
            raise ValueError(
                f"{instrument.id}: unknown item {names}; expected item ids "
                f"{', '.join(instrument.item_ids)}"
            )
        return raw
    if isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
        raise ValueError(
            f"{instrument.id}: answers must be a mapping of item id to value or a sequence "
            f"of values in item order"
        )
    if len(answers) != len(instrument.items):
        raise ValueError(
            f"{instrument.id}: expected {len(instrument.items)} answers in item order "
            f"({', '.join(instrument.item_ids)}), got {len(answers)}"
        )
    return dict(zip(instrument.item_ids, answers, strict=True))


def _subscale_value(subscale: Subscale, values: Mapping[str, int]) -> int:
    parts = [values[item_id] for item_id in subscale.item_ids]
    return sum(parts) if subscale.method == "sum" else max(parts)


def _score_sum(
    instrument: Instrument, values: dict[str, int], used: tuple[Override, ...]
) -> ScoreResult:
    subscales = {s.name: _subscale_value(s, values) for s in instrument.subscales}
    parts = subscales.values() if instrument.total_from_subscales else values.values()
    total = sum(parts)

    severity: str | None = None
    if instrument.bands:
        band = instrument.band_for(total)
        if band is None:
            raise ValueError(f"{instrument.id}: no severity band covers total {total}")
        severity = band.label

    flags = {
        rule.flag
        for rule in instrument.flag_rules
        if rule.met_by(total if rule.on == "total" else values[rule.on])
    }

    diagnosis: bool | None = None
    notes: list[str] = []
    rule = instrument.diagnostic_rule
    if rule is not None:
        by_name = {s.name: s for s in instrument.subscales}
        endorsed = {
            name: sum(values[i] >= rule.item_at_least for i in by_name[name].item_ids)
            for name, _ in rule.required
        }
        diagnosis = all(endorsed[name] >= need for name, need in rule.required)
        counts = ", ".join(f"{name} {endorsed[name]}/{need}" for name, need in rule.required)
        notes.append(f"Endorsed items (rated {rule.item_at_least}+) per cluster: {counts}.")

    return ScoreResult(
        instrument_id=instrument.id,
        total=total,
        severity=severity,
        flags=frozenset(flags),
        item_values=values,
        subscales=subscales,
        provisional_diagnosis=diagnosis,
        notes=tuple(notes),
        overrides=used,
    )


def cssrs_risk(values: Mapping[str, int]) -> Risk:
    """Risk tier from C-SSRS screener answers (see ``definitions.cssrs.RISK_SOURCE``).

    high: yes to item 4 or 5, or suicidal behaviour in the past 3 months;
    moderate: yes to item 3, or behaviour longer ago; low: highest yes is item 1 or 2;
    none: every answer no.
    """

    def yes(item_id: str) -> bool:
        return values.get(item_id, 0) == 1

    if yes("item4") or yes("item5") or yes("item6_recent"):
        return "high"
    if yes("item3") or yes("item6"):
        return "moderate"
    if yes("item1") or yes("item2"):
        return "low"
    return "none"


def _score_cssrs(
    instrument: Instrument, values: dict[str, int], used: tuple[Override, ...]
) -> ScoreResult:
    risk = cssrs_risk(values)
    flags: set[str] = set()
    if risk != "none":
        flags.add("suicidality")
    if risk == "high":
        flags.add("suicide_risk_high")
    not_asked = [item.id for item in instrument.items if item.id not in values]
    notes = (f"Not asked (skip logic): {', '.join(not_asked)}.",) if not_asked else ()
    return ScoreResult(
        instrument_id=instrument.id,
        total=None,
        severity=None,
        flags=frozenset(flags),
        item_values=values,
        risk=risk,
        notes=notes,
        overrides=used,
    )
