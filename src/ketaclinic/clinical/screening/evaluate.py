"""Evaluate a patient's answers against the candidacy rules (semantics: see the package)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ketaclinic.clinical.overrides import Override, apply
from ketaclinic.clinical.screening.table import (
    ANSWER_TYPES,
    COMPARISONS,
    DEFAULT_ROUTE,
    EVIDENCE,
    KINDS,
    ROUTES,
    RULES,
    Rule,
)

VERDICTS = ("eligible", "eligible_with_precautions", "not_eligible", "needs_information")

NO_INDICATION_ID = "no_indication"
NO_INDICATION_SOURCE = (
    "ketaclinic evaluation rule: treatment is offered only for a listed indication"
)

Answer = bool | float | int | None


@dataclass(frozen=True)
class Reason:
    """One rule that bears on the verdict, with its source."""

    rule_id: str
    kind: str
    absolute: bool
    message: str
    source: str
    evidence: str


@dataclass(frozen=True)
class Evaluation:
    """The verdict and everything behind it."""

    verdict: str
    route: str
    reasons: tuple[Reason, ...]
    workup: tuple[str, ...]
    unknown: tuple[str, ...]
    overrides_applied: tuple[Override, ...]
    # Rules the caller said are checked elsewhere (left out of this evaluation).
    set_aside: tuple[str, ...] = ()


def _check_rule(rule: Rule) -> None:
    if rule.kind not in KINDS:
        raise ValueError(f"rule {rule.id!r}: kind {rule.kind!r} is not one of {KINDS}")
    if rule.answer_type not in ANSWER_TYPES:
        raise ValueError(
            f"rule {rule.id!r}: answer_type {rule.answer_type!r} is not one of {ANSWER_TYPES}"
        )
    if rule.evidence not in EVIDENCE:
        raise ValueError(f"rule {rule.id!r}: evidence {rule.evidence!r} is not one of {EVIDENCE}")
    if rule.answer_type == "number" and rule.threshold is None:
        raise ValueError(f"rule {rule.id!r}: a number rule needs a threshold")
    if rule.kind == "indication" and rule.absolute:
        raise ValueError(f"rule {rule.id!r}: an indication cannot be absolute")
    if rule.comparison not in COMPARISONS:
        raise ValueError(
            f"rule {rule.id!r}: comparison {rule.comparison!r} is not one of {COMPARISONS}"
        )
    if rule.answer_type != "number" and (
        rule.comparison != ">=" or rule.absolute_threshold is not None
    ):
        raise ValueError(f"rule {rule.id!r}: comparisons apply to number rules only")
    if rule.threshold_high is not None and rule.comparison != "outside":
        raise ValueError(f"rule {rule.id!r}: threshold_high needs the 'outside' comparison")
    if rule.part_of is not None and rule.kind != "indication":
        raise ValueError(f"rule {rule.id!r}: only an indication can be part of another")
    if rule.window is not None and (not math.isfinite(rule.window) or rule.window <= 0):
        raise ValueError(f"rule {rule.id!r}: a window must be a positive number")
    for route in rule.routes:
        if route not in ROUTES:
            raise ValueError(f"rule {rule.id!r}: unknown route {route!r}")
    for variant in rule.route_variants:
        if variant.route not in ROUTES:
            raise ValueError(f"rule {rule.id!r}: unknown route {variant.route!r} in a variant")
        if variant.evidence not in EVIDENCE:
            raise ValueError(f"rule {rule.id!r}: evidence {variant.evidence!r} in a variant")


def _worded(rule: Rule) -> Rule:
    """A windowed rule with its window written into its question and message."""
    if rule.window is None:
        return rule
    window = f"{rule.window:g} {rule.window_unit}".strip()
    return dataclasses.replace(
        rule,
        question=rule.question.replace("{window}", window),
        message=rule.message.replace("{window}", window),
    )


def rules(overrides: Iterable[Override] = ()) -> list[Rule]:
    """The candidacy rules in table order, with the clinic's overrides applied.

    A rule with a ``window`` comes back with the window written into its question and
    message (so an override of the window changes the words as well).
    """
    table = apply({rule.id: rule for rule in RULES}, overrides)
    result = list(table.values())
    for rule in result:
        _check_rule(rule)
    ids = {rule.id for rule in result}
    for rule in result:
        if rule.part_of is not None and rule.part_of not in ids:
            raise ValueError(f"rule {rule.id!r}: part_of names unknown rule {rule.part_of!r}")
    return [_worded(rule) for rule in result]


def _check_route(route: str) -> None:
    if route not in ROUTES:
        raise ValueError(f"unknown route {route!r}; known routes: {', '.join(ROUTES)}")


def _check_answer(rule: Rule, answer: Answer) -> None:
    if answer is None:
        return
    if rule.answer_type == "bool":
        if not isinstance(answer, bool):
            raise ValueError(
                f"finding {rule.id!r} expects yes/no (bool), got {type(answer).__name__} {answer!r}"
            )
        return
    if isinstance(answer, bool) or not isinstance(answer, int | float):
        raise ValueError(
            f"finding {rule.id!r} expects a number, got {type(answer).__name__} {answer!r}"
        )
    if not math.isfinite(answer) or answer < 0:
        raise ValueError(f"finding {rule.id!r} must be a finite number >= 0, got {answer!r}")


def _positive(rule: Rule, answer: bool | float | int) -> bool:
    if rule.answer_type == "bool":
        return bool(answer)
    assert rule.threshold is not None  # checked in _check_rule
    if rule.comparison == ">=":
        return answer >= rule.threshold
    if rule.comparison == ">":
        return answer > rule.threshold
    if rule.comparison == "<":
        return answer < rule.threshold
    if rule.comparison == "<=":
        return answer <= rule.threshold
    high = rule.threshold_high
    return answer < rule.threshold or (high is not None and answer > high)


def _as_answered(rule: Rule, answer: bool | float | int) -> Rule:
    """A positive number rule at or above its absolute threshold counts as absolute."""
    if (
        rule.answer_type == "number"
        and rule.absolute_threshold is not None
        and not rule.absolute
        and answer >= rule.absolute_threshold
    ):
        return dataclasses.replace(
            rule,
            absolute=True,
            message=f"{rule.message} Answered {answer:g} {rule.unit}: at or above "
            f"{rule.absolute_threshold:g}, absolute.",
        )
    return rule


def _reason(rule: Rule) -> Reason:
    return Reason(
        rule_id=rule.id,
        kind=rule.kind,
        absolute=rule.absolute,
        message=rule.message,
        source=rule.source,
        evidence=rule.evidence,
    )


def evaluate(
    findings: Mapping[str, Answer],
    *,
    route: str = DEFAULT_ROUTE,
    overrides: Iterable[Override] = (),
    set_aside: Iterable[str] = (),
) -> Evaluation:
    """Evaluate candidacy for ``route`` from answers keyed by rule id.

    ``set_aside`` names rules the caller does not decide here because they are checked
    elsewhere (for example a blood pressure measured at the clinic, not by a stranger
    filling in a self-screen). They are left out of this verdict, never answered, and the
    result lists them in ``set_aside`` so that the caller can say they remain to check.

    A missing key and ``None`` both mean "not known". A key naming no rule is a
    ``ValueError``, as is a number given to a yes/no rule or a yes/no given to a number
    rule. Findings for rules that do not apply to ``route`` are checked but not used.
    """
    _check_route(route)
    overrides = tuple(overrides)
    table = {rule.id: rule for rule in rules(overrides)}
    unknown_ids = [key for key in findings if key not in table]
    if unknown_ids:
        raise ValueError(f"findings name unknown rule(s): {', '.join(sorted(unknown_ids))}")
    for key, answer in findings.items():
        _check_answer(table[key], answer)

    aside = tuple(dict.fromkeys(set_aside))
    unknown_aside = [key for key in aside if key not in table]
    if unknown_aside:
        raise ValueError(f"set_aside names unknown rule(s): {', '.join(sorted(unknown_aside))}")
    applicable = [
        rule.for_route(route)
        for rule in table.values()
        if rule.applies_to(route) and rule.id not in aside
    ]
    positive: list[Rule] = []
    unknown: list[Rule] = []
    for rule in applicable:
        answer = findings.get(rule.id)
        if answer is None:
            unknown.append(rule)
        elif _positive(rule, answer):
            positive.append(_as_answered(rule, answer))

    # An indication counts only with every part of its definition; a part never counts
    # on its own. An indication answered yes whose part is unknown is not yet known.
    parts: dict[str, list[Rule]] = {}
    for rule in applicable:
        if rule.part_of is not None:
            parts.setdefault(rule.part_of, []).append(rule)
    unknown_now = {rule.id for rule in unknown}
    positive_ids = {rule.id for rule in positive}
    unmet_definitions: list[str] = []
    for rule in list(positive):
        if rule.kind != "indication" or rule.id not in parts:
            continue
        missing = [p for p in parts[rule.id] if p.id not in positive_ids]
        if not missing:
            continue
        positive.remove(rule)
        if any(p.id in unknown_now for p in missing):
            unknown.append(rule)
        else:
            for part in missing:
                needed = (
                    f"{part.comparison} {part.threshold:g} {part.unit}".strip()
                    if part.answer_type == "number" and part.threshold is not None
                    else "yes"
                )
                unmet_definitions.append(
                    f"{rule.id} was answered yes, but it also needs {part.id} {needed} "
                    f"(answered {findings.get(part.id)!r})"
                )

    # A part of a definition is a reason only alongside the indication it defines.
    counted = {rule.id for rule in positive}
    positive = [rule for rule in positive if rule.part_of is None or rule.part_of in counted]
    reasons = [_reason(rule) for rule in positive]
    workup: list[str] = []
    for rule in positive:
        for item in rule.workup:
            if item not in workup:
                workup.append(item)

    has_indication = any(rule.kind == "indication" and rule.part_of is None for rule in positive)
    if any(rule.kind != "indication" and rule.absolute for rule in positive):
        verdict = "not_eligible"
    elif any(rule.kind != "indication" for rule in unknown):
        verdict = "needs_information"
    elif not has_indication:
        if any(rule.kind == "indication" and rule.part_of is None for rule in unknown):
            verdict = "needs_information"
        else:
            verdict = "not_eligible"
            message = "No indication for ketamine treatment was found."
            if unmet_definitions:
                message += " " + "; ".join(unmet_definitions) + "."
            reasons.append(
                Reason(
                    rule_id=NO_INDICATION_ID,
                    kind="indication",
                    absolute=False,
                    message=message,
                    source=NO_INDICATION_SOURCE,
                    evidence="convention",
                )
            )
    elif any(rule.kind != "indication" for rule in positive):
        verdict = "eligible_with_precautions"
    else:
        verdict = "eligible"

    return Evaluation(
        verdict=verdict,
        route=route,
        reasons=tuple(reasons),
        workup=tuple(workup),
        unknown=tuple(rule.id for rule in unknown),
        overrides_applied=overrides,
        set_aside=tuple(key for key in aside if table[key].applies_to(route)),
    )
