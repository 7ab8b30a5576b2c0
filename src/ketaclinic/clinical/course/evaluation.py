"""Where a course of treatment stands: ``evaluate`` over scores and sessions.

Days are counted on one axis chosen by the caller, normally days since the first
session (so baseline scores have negative days). A score is a baseline when it comes
before the first induction session; the latest score from the first session on is the
current one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ketaclinic.clinical.course.outcomes import (
    INSTRUMENTS,
    RULES,
    Classification,
    Evidence,
    OutcomeInstrument,
    Rule,
    check_score,
    classify,
    instrument,
)
from ketaclinic.clinical.overrides import Override, apply

SessionKind = Literal["induction", "booster"]
Stage = Literal[
    "pre_treatment",
    "induction",
    "interim_evaluation_due",
    "outcome_unknown",
    "non_response",
    "continuation",
    "maintenance",
    "booster_suggested",
]

# Which instrument leads the course decision when the caller names none: clinician
# depression ratings first, then self-reports, then PTSD and anxiety.
PRIMARY_ORDER: tuple[str, ...] = ("madrs", "qids_sr16", "phq9", "pcl5", "gad7")


@dataclass(frozen=True)
class Score:
    """A questionnaire total, ``at_day`` days on the course axis (negative: baseline)."""

    instrument_id: str
    value: float
    at_day: float


@dataclass(frozen=True)
class SessionRecord:
    """A session given: its number in the course, its day, induction or booster."""

    number: int
    at_day: float
    kind: SessionKind = "induction"


@dataclass(frozen=True)
class SeriesPlan:
    """A planned induction series and when to evaluate it."""

    id: str
    sessions: int
    span_days: tuple[float, float]
    interim_after: int | None
    description: str
    source: str
    evidence: Evidence


SERIES: dict[str, SeriesPlan] = {
    "iv_6": SeriesPlan(
        id="iv_6",
        sessions=6,
        span_days=(14, 21),
        interim_after=4,
        description="6 IV infusions, two or three a week over 2 to 3 weeks",
        source=(
            "Typical induction series: 4 to 6 infusions over 2 to 3 weeks, commonly 6 "
            "(clinical-reference section 1); an interim evaluation after 4 sessions "
            "without response is clinic convention"
        ),
        evidence="convention",
    ),
    "esketamine_trd_induction": SeriesPlan(
        id="esketamine_trd_induction",
        sessions=8,
        span_days=(28, 28),
        interim_after=None,
        description="Esketamine nasal spray twice weekly, weeks 1 to 4",
        source=(
            "SPRAVATO US prescribing information: induction weeks 1-4 twice weekly; at "
            "the end of induction evaluate therapeutic benefit to decide on continued "
            "treatment"
        ),
        evidence="confirmed",
    ),
}


@dataclass(frozen=True)
class CourseStatus:
    """The course at a glance, every judgement explained in ``reasons``."""

    stage: Stage
    sessions_done: int
    boosters_done: int
    series_planned: int
    primary_instrument: str | None
    classifications: Mapping[str, Classification]
    rapid_response: bool | None
    interim_evaluation_due: bool
    booster_suggested: bool
    booster_reason: str | None
    reasons: tuple[str, ...]
    overrides_applied: tuple[Override, ...]


def _cite(text: str, source: str, evidence: Evidence) -> str:
    return f"{text} [{evidence}: {source}]"


def evaluate(
    scores: Sequence[Score],
    sessions: Sequence[SessionRecord],
    *,
    protocol_series: str = "iv_6",
    primary_instrument: str | None = None,
    overrides: Iterable[Override] = (),
) -> CourseStatus:
    """Evaluate a course from its scores and sessions.

    ``protocol_series`` names a row of ``SERIES``. ``primary_instrument`` leads the
    stage decision (default: the first of ``PRIMARY_ORDER`` with a baseline).
    ``overrides`` may name rows of ``RULES``, ``INSTRUMENTS`` or ``SERIES``.
    """
    overrides = tuple(overrides)
    by_table: dict[str, list[Override]] = {"rules": [], "instruments": [], "series": []}
    for o in overrides:
        if o.target in RULES:
            by_table["rules"].append(o)
        elif o.target in INSTRUMENTS:
            by_table["instruments"].append(o)
        elif o.target in SERIES:
            by_table["series"].append(o)
        else:
            raise ValueError(f"override names unknown row {o.target!r}")
    rules = apply(RULES, by_table["rules"])
    series_table = apply(SERIES, by_table["series"])
    if protocol_series not in series_table:
        raise ValueError(
            f"unknown protocol_series {protocol_series!r}; expected one of "
            f"{', '.join(series_table)}"
        )
    plan = series_table[protocol_series]
    instr_ovr = tuple(by_table["instruments"])
    rule_ovr = tuple(by_table["rules"])

    for s in scores:
        check_score(instrument(s.instrument_id, instr_ovr), s.value)
    ordered = sorted(scores, key=lambda s: s.at_day)
    ordered_sessions = sorted(sessions, key=lambda s: s.at_day)
    induction = [s for s in ordered_sessions if s.kind == "induction"]
    boosters = [s for s in ordered_sessions if s.kind == "booster"]
    start = (induction or ordered_sessions)[0].at_day if ordered_sessions else 0.0

    reasons: list[str] = []
    classifications: dict[str, Classification] = {}
    baselines: dict[str, float] = {}
    for iid in dict.fromkeys(s.instrument_id for s in ordered):
        before = [s for s in ordered if s.instrument_id == iid and s.at_day < start]
        after = [s for s in ordered if s.instrument_id == iid and s.at_day >= start]
        if before:
            baselines[iid] = before[-1].value
        if before and after:
            c = classify(iid, before[-1].value, after[-1].value, overrides=rule_ovr + instr_ovr)
            classifications[iid] = c
            reasons.append(_cite(c.reason, "; ".join(c.sources), "convention"))

    primary = _primary(primary_instrument, baselines, instr_ovr)
    current = classifications.get(primary) if primary else None
    # Responded: any score since the first session at response or remission level. A
    # responder whose scores slip is judged by the relapse signal, not as a non-responder.
    responding = primary in baselines and any(
        _responds(classify(primary, baselines[primary], s.value, overrides=rule_ovr + instr_ovr))
        for s in ordered
        if s.instrument_id == primary and s.at_day >= start
    )
    if primary is None:
        reasons.append("No baseline score on any instrument: response cannot be judged")
    elif current is None:
        reasons.append(f"No {primary} score since the first session: response not yet judged")

    rapid_response = None
    if primary is not None and primary in baselines:
        rapid_response = _rapid_response(
            primary, baselines[primary], ordered, induction, rules, rule_ovr + instr_ovr, reasons
        )

    relapse = None
    if primary is not None and primary in baselines:
        row = instrument(primary, instr_ovr)
        post = [s for s in ordered if s.instrument_id == primary and s.at_day >= start]
        relapse = _relapse_signal(row, baselines[primary], post, rules)

    done, booster_count = len(induction), len(boosters)
    stage: Stage
    if not ordered_sessions:
        stage = "pre_treatment"
        reasons.append("No session given yet")
    elif done < plan.sessions:
        if plan.interim_after is not None and done >= plan.interim_after and not responding:
            stage = "interim_evaluation_due"
            reasons.append(
                _cite(
                    f"{done} of {plan.sessions} sessions given without response: interim "
                    "evaluation due",
                    plan.source,
                    plan.evidence,
                )
            )
        else:
            stage = "induction"
            reasons.append(f"Induction: {done} of {plan.sessions} sessions given")
    else:
        reasons.append(
            _cite(
                f"Induction complete ({done} of {plan.sessions} sessions): evaluate the "
                "benefit to decide on continued treatment",
                plan.source,
                plan.evidence,
            )
        )
        if current is None:
            stage = "outcome_unknown"
        elif relapse is not None:
            stage = "booster_suggested"
        elif responding:
            stage = "maintenance" if booster_count else "continuation"
        else:
            stage = "non_response"
    if relapse is not None:
        reasons.append(relapse)
    if booster_count:
        reasons.append(f"{booster_count} booster session(s) given")

    return CourseStatus(
        stage=stage,
        sessions_done=done,
        boosters_done=booster_count,
        series_planned=plan.sessions,
        primary_instrument=primary,
        classifications=classifications,
        rapid_response=rapid_response,
        interim_evaluation_due=stage
        in ("interim_evaluation_due", "non_response", "outcome_unknown"),
        booster_suggested=stage == "booster_suggested",
        booster_reason=relapse if stage == "booster_suggested" else None,
        reasons=tuple(reasons),
        overrides_applied=overrides,
    )


def _responds(c: Classification) -> bool:
    return c.response or bool(c.remission)


def _primary(
    named: str | None, baselines: Mapping[str, float], instr_ovr: tuple[Override, ...]
) -> str | None:
    if named is not None:
        return instrument(named, instr_ovr).id
    for iid in PRIMARY_ORDER:
        if iid in baselines:
            return iid
    return None


def _rapid_response(
    primary: str,
    baseline: float,
    ordered: Sequence[Score],
    induction: Sequence[SessionRecord],
    rules: Mapping[str, Rule],
    ovr: tuple[Override, ...],
    reasons: list[str],
) -> bool | None:
    if not induction:
        return None
    first = induction[0].at_day
    second = induction[1].at_day if len(induction) > 1 else None
    target = first + rules["rapid_response_day"].value
    window = rules["rapid_response_window_day"].value
    for s in ordered:
        if s.instrument_id != primary or s.at_day <= first:
            continue
        if second is not None and s.at_day >= second:
            break
        if abs(s.at_day - target) <= window:
            c = classify(primary, baseline, s.value, overrides=ovr)
            rule = rules["rapid_response_day"]
            word = "rapid response" if c.response else "no rapid response"
            pct = "" if c.percent_change is None else f" ({c.percent_change:+.0f}%)"
            reasons.append(
                _cite(
                    f"{word}: {primary} {s.value:g} on day {s.at_day:g}{pct}",
                    rule.source,
                    rule.evidence,
                )
            )
            return c.response
    return None


def _relapse_signal(
    row: OutcomeInstrument,
    baseline: float,
    post: Sequence[Score],
    rules: Mapping[str, Rule],
) -> str | None:
    """The relapse signal in words, or ``None``."""
    n = int(rules["relapse_consecutive_measures"].value)
    response_pct = rules["response_reduction_pct"].value
    if n < 1 or len(post) <= n or baseline == 0:
        return None
    line = baseline * (1 - response_pct / 100.0)
    earlier, last = post[:-n], post[-n:]
    if not any(s.value <= line for s in earlier):
        return None
    rule = rules["relapse_consecutive_measures"]
    values = ", ".join(f"{s.value:g}" for s in last)
    if all(s.value > line for s in last):
        return _cite(
            f"Relapse signal: after a response, the last {n} {row.label} scores ({values}) "
            f"are back above the response line {line:g}",
            rule.source,
            rule.evidence,
        )
    if row.relapse_rise_points is not None:
        best = min(s.value for s in earlier)
        if all(s.value >= best + row.relapse_rise_points for s in last):
            return _cite(
                f"Relapse signal: the last {n} {row.label} scores ({values}) are at least "
                f"{row.relapse_rise_points:g} points above the best score {best:g}",
                rule.source,
                rule.evidence,
            )
    return None
