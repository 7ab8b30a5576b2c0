"""The plan around a course: maintenance schedules, the relapse rule that proposes a
booster, and the phases of ketamine-assisted psychotherapy. Declared tables, each row
with its source and evidence mark; a clinic changes rows through ``overrides``.

Pure: dates and scores are passed in by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from ketaclinic.clinical.course.outcomes import Evidence
from ketaclinic.clinical.overrides import Override, apply


@dataclass(frozen=True)
class MaintenanceSchedule:
    """Boosters after the induction series, tapering: ``weekly`` boosters 7 days apart,
    then ``fortnightly`` 14 days apart, then ``monthly`` 28 days apart."""

    id: str
    label: str
    route: str  # the protocol route it fits: intravenous|intranasal
    weekly: int
    fortnightly: int
    monthly: int
    source: str
    evidence: Evidence

    @property
    def gaps_days(self) -> tuple[int, ...]:
        return (7,) * self.weekly + (14,) * self.fortnightly + (28,) * self.monthly


MAINTENANCE: dict[str, MaintenanceSchedule] = {
    "iv_taper": MaintenanceSchedule(
        id="iv_taper",
        label="IV boosters tapering weekly to monthly",
        route="intravenous",
        weekly=2,
        fortnightly=2,
        monthly=2,
        source=(
            "Clinic convention: no authoritative source sets a maintenance frequency for IV "
            "ketamine (clinical-reference section 1 lists none); the clinician tapers to "
            "the least frequent boosters that keep the response"
        ),
        evidence="convention",
    ),
    "esketamine_label": MaintenanceSchedule(
        id="esketamine_label",
        label="Esketamine weeks 5-8 weekly, then every 2 weeks",
        route="intranasal",
        weekly=4,
        fortnightly=4,
        monthly=0,
        source=(
            "SPRAVATO US prescribing information: weeks 5-8 weekly; from week 9 every 2 "
            "weeks or weekly, the least frequent dosing that keeps the response "
            "(clinical-reference section 2)"
        ),
        evidence="confirmed",
    ),
}


def maintenance(schedule_id: str, overrides: Iterable[Override] = ()) -> MaintenanceSchedule:
    table = apply(MAINTENANCE, tuple(overrides))
    if schedule_id not in table:
        raise ValueError(
            f"unknown maintenance schedule {schedule_id!r}; expected one of {', '.join(table)}"
        )
    return table[schedule_id]


@dataclass(frozen=True)
class PlanningLimit:
    """The most sessions of one kind a single course decision plans at once: more wait
    for the next evaluation of the course."""

    id: str
    label: str
    most: int
    source: str
    evidence: Evidence


PLANNING_LIMITS: dict[str, PlanningLimit] = {
    "induction_extension": PlanningLimit(
        id="induction_extension",
        label="Induction sessions one decision adds (extend, or titrate and extend)",
        most=12,
        source=(
            "Clinic convention: two induction series of the common 6 infusions "
            "(clinical-reference section 1: 4 to 6 infusions over 2 to 3 weeks, commonly "
            "6), so that the course is evaluated again before more are planned"
        ),
        evidence="convention",
    ),
    "boosters_per_spacing": PlanningLimit(
        id="boosters_per_spacing",
        label="Boosters of each spacing (weekly, every 2 weeks, monthly) one decision plans",
        most=12,
        source=(
            "Clinic convention: no source sets how many boosters to plan at once "
            "(clinical-reference section 1 lists no maintenance frequency for IV ketamine); "
            "at most a year of monthly boosters, the course evaluated again before more"
        ),
        evidence="convention",
    ),
}


def planning_limit(limit_id: str, overrides: Iterable[Override] = ()) -> PlanningLimit:
    table = apply(PLANNING_LIMITS, tuple(overrides))
    if limit_id not in table:
        raise ValueError(f"unknown planning limit {limit_id!r}; expected one of {', '.join(table)}")
    return table[limit_id]


def booster_dates(start: date, gaps_days: Sequence[int]) -> list[date]:
    """The earliest day of each booster: each gap after the one before, from ``start``
    (the day the decision is made, or the last session)."""
    days: list[date] = []
    moment = start
    for gap in gaps_days:
        moment = moment + timedelta(days=gap)
        days.append(moment)
    return days


@dataclass(frozen=True)
class RelapseRule:
    """During maintenance: the last ``consecutive`` scheduled scores on ``instrument_id``
    all at or above ``threshold`` propose a booster to the prescriber."""

    id: str
    instrument_id: str
    threshold: float
    consecutive: int
    description: str
    source: str
    evidence: Evidence


RELAPSE: dict[str, RelapseRule] = {
    "phq9_back_to_moderate": RelapseRule(
        id="phq9_back_to_moderate",
        instrument_id="phq9",
        threshold=10,
        consecutive=2,
        description="PHQ-9 back at 10 or more on two consecutive scheduled measurements",
        source=(
            "PHQ-9 10 or more: the cut-off for major depression (sensitivity 88%, "
            "specificity 88%) and the start of the moderate band, Kroenke K, Spitzer RL, "
            "Williams JBW, J Gen Intern Med 2001;16:606-613 [confirmed]; two consecutive "
            "measurements before proposing a booster is clinic convention"
        ),
        evidence="convention",
    ),
}


def relapse_rules(overrides: Iterable[Override] = ()) -> dict[str, RelapseRule]:
    return apply(RELAPSE, tuple(overrides))


@dataclass(frozen=True)
class RelapseSignal:
    rule: RelapseRule
    values: tuple[float, ...]
    reason: str


def relapse_signal(rule: RelapseRule, scores: Sequence[float]) -> RelapseSignal | None:
    """The signal when the last ``rule.consecutive`` of ``scores`` (oldest first, taken
    in maintenance) are all at or above the threshold; None otherwise."""
    n = int(rule.consecutive)
    if n < 1 or len(scores) < n:
        return None
    last = tuple(float(s) for s in scores[-n:])
    if not all(s >= rule.threshold for s in last):
        return None
    values = ", ".join(f"{s:g}" for s in last)
    return RelapseSignal(
        rule,
        last,
        f"{rule.description}: the last {n} scores are {values} (at or above "
        f"{rule.threshold:g}) [{rule.evidence}: {rule.source}]",
    )


@dataclass(frozen=True)
class TherapyPhase:
    """A phase of ketamine-assisted psychotherapy and its default booked length."""

    id: str
    label: str
    minutes: int
    purpose: str
    source: str
    evidence: Evidence


_KAP = (
    "Preparation before the first dose, support during dosing sessions and integration "
    "after them: the common structure of ketamine-assisted psychotherapy as described in "
    "ASKP3 Standards of Practice in the Therapeutic Use of Subanesthetic Ketamine (revised "
    "30 July 2020) and Dore J et al., J Psychoactive Drugs 2019;51(2):189-198"
)

THERAPY_PHASES: dict[str, TherapyPhase] = {
    "preparation": TherapyPhase(
        "preparation",
        "Preparation",
        60,
        "Before the first dose: goals, expectations, set and setting, safety plan",
        _KAP + " [secondary]; 60 minutes is clinic convention",
        "convention",
    ),
    "support": TherapyPhase(
        "support",
        "In-session support",
        60,
        "Beside the dosing session: support during the experience",
        _KAP + " [secondary]; the length follows the dosing session (clinic convention)",
        "convention",
    ),
    "integration": TherapyPhase(
        "integration",
        "Integration",
        60,
        "After dosing sessions: making sense of the experience, homework, next steps",
        _KAP + " [secondary]; 60 minutes is clinic convention",
        "convention",
    ),
}


def therapy_phases(overrides: Iterable[Override] = ()) -> dict[str, TherapyPhase]:
    return apply(THERAPY_PHASES, tuple(overrides))


@dataclass(frozen=True)
class Escalation:
    """How long a question to the primary clinician waits for an answer, in business
    days (``clinical.calendar``: Monday to Friday less the clinic's holidays), before it
    goes to every prescriber."""

    id: str
    business_days: int
    description: str
    source: str
    evidence: Evidence


ESCALATION: dict[str, Escalation] = {
    "booster_proposal": Escalation(
        id="booster_proposal",
        business_days=2,
        description="A booster proposal unanswered by the primary clinician",
        source=(
            "Clinic convention, no primary source found: a relapse signal in maintenance is "
            "not an emergency (suicidality alerts escalate on their own rule), but a "
            "booster should not wait past the next working days"
        ),
        evidence="convention",
    ),
    "course_decision": Escalation(
        id="course_decision",
        business_days=2,
        description="A course decision due, unanswered by the primary clinician",
        source=(
            "Clinic convention, no primary source found: the next session of a course "
            "waits on the decision, so it should not wait past the next working days"
        ),
        evidence="convention",
    ),
}


def escalation_rules(overrides: Iterable[Override] = ()) -> dict[str, Escalation]:
    return apply(ESCALATION, tuple(overrides))


@dataclass(frozen=True)
class PreparationRequirement:
    """Before the first dosing session of a course on protocol ``id``: when ``required``,
    at least ``notes`` signed preparation therapy notes (the patient's preparation
    sessions of this course, or of no course yet). Unmet, it is a checklist item that
    keeps dosing from starting until met or a prescriber overrides it with a reason."""

    id: str  # the dosing protocol
    required: bool
    notes: int
    source: str
    evidence: Evidence


_PREPARED_KAP = (
    _KAP + ": in ketamine-assisted psychotherapy the patient meets the therapist for "
    "preparation before the first dose [secondary]; one signed note is clinic convention"
)
_NO_THERAPY = (
    "Not required by default: given as a medicine without psychotherapy, this protocol's "
    "sources ask for no preparation session (clinical-reference sections 1 and 2) "
    "[convention]. A clinic that gives it as ketamine-assisted psychotherapy sets "
    "required. " + _PREPARED_KAP
)

PREPARATION: dict[str, PreparationRequirement] = {
    r.id: r
    for r in (
        PreparationRequirement("iv_ketamine", False, 1, _NO_THERAPY, "convention"),
        PreparationRequirement("im_ketamine", True, 1, _PREPARED_KAP, "secondary"),
        PreparationRequirement("sublingual_ketamine", True, 1, _PREPARED_KAP, "secondary"),
        PreparationRequirement("oral_ketamine", False, 1, _NO_THERAPY, "convention"),
        PreparationRequirement("in_esketamine", False, 1, _NO_THERAPY, "convention"),
        PreparationRequirement("in_esketamine_suicidal", False, 1, _NO_THERAPY, "convention"),
    )
}


def preparation_requirements(
    overrides: Iterable[Override] = (),
) -> dict[str, PreparationRequirement]:
    return apply(PREPARATION, tuple(overrides))


@dataclass(frozen=True)
class PreparationStatus:
    met: bool
    text: str


def preparation_status(rule: PreparationRequirement, signed_notes: int) -> PreparationStatus:
    """Whether ``signed_notes`` preparation notes meet ``rule`` (``rule.required``)."""
    needed = max(1, int(rule.notes))
    if signed_notes >= needed:
        return PreparationStatus(True, f"{signed_notes} signed preparation note(s) on file")
    return PreparationStatus(
        False,
        f"{signed_notes} of {needed} signed preparation note(s) before the first dose: the "
        "therapist signs the preparation note first, or a prescriber overrides with a reason",
    )
