"""When vital signs are due: the default reading schedule per route, and what is due now.

Times are minutes from the start of dosing (the infusion start, or the first nasal
device). ``infusion_min`` is how long dosing lasts (the infusion, or first to last
device); ``observation_min`` is the observation after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ketaclinic.clinical.monitoring.vitals import Evidence, check_route
from ketaclinic.clinical.overrides import Override, apply


@dataclass(frozen=True)
class ScheduleRule:
    """The default reading times of one route.

    ``during_every_min``: a reading every N minutes while dosing (and one at its end);
    ``after_every_min``: every N minutes after dosing ends; ``after_dose_min``: readings
    at fixed minutes after dosing ends; ``before_dose`` and ``before_discharge``: one
    reading each.
    """

    route: str
    before_dose: bool
    during_every_min: float | None
    after_every_min: float | None
    after_dose_min: tuple[float, ...]
    before_discharge: bool
    source: str
    evidence: Evidence
    # How old the pre-dose reading may be at the start of dosing and still count for
    # the go / no-go check (None: any age), with its own source and firmness.
    before_dose_within_min: float | None = None
    before_dose_window_source: str = ""
    before_dose_window_evidence: Evidence = "convention"


# The pre-dose reading counts for the go / no-go check only if taken within 15 minutes
# before the start of dosing. The SPRAVATO US prescribing information asks for BP
# "prior to dosing" and Riva-Posse 2018 takes a reading before the infusion, but neither
# sets a window: 15 minutes is ketaclinic's convention, a clinic sets its own.
_WINDOW_SOURCE = (
    "ketaclinic convention: a reading within 15 min before the start of dosing (SPRAVATO "
    "US prescribing information asks for BP before dosing without a window)"
)

SCHEDULES: dict[str, ScheduleRule] = {
    "iv": ScheduleRule(
        route="iv",
        before_dose=True,
        during_every_min=10.0,
        after_every_min=15.0,
        after_dose_min=(),
        before_discharge=True,
        source=(
            "Riva-Posse P et al., J Affect Disord 2018 (PMID 29525051): BP every 10 min "
            "during and every 15 min after 0.5 mg/kg over 40 min (66 patients, 684 "
            "infusions)"
        ),
        evidence="confirmed",
        before_dose_within_min=15.0,
        before_dose_window_source=_WINDOW_SOURCE,
        before_dose_window_evidence="convention",
    ),
    "esketamine_nasal": ScheduleRule(
        route="esketamine_nasal",
        before_dose=True,
        during_every_min=None,
        after_every_min=None,
        after_dose_min=(40.0,),
        before_discharge=True,
        source=(
            "SPRAVATO US prescribing information: assess BP before dosing, reassess about "
            "40 minutes after dosing and as clinically indicated; SPRAVATO REMS patient "
            "monitoring form asks for BP before leaving"
        ),
        evidence="confirmed",
        before_dose_within_min=15.0,
        before_dose_window_source=_WINDOW_SOURCE,
        before_dose_window_evidence="convention",
    ),
}


def pre_dose_window(route: str, overrides: Iterable[Override] = ()) -> ScheduleRule:
    """The route's schedule row, whose ``before_dose_within_min`` is how old a pre-dose
    reading may be at the start of dosing (None: any age)."""
    return apply(SCHEDULES, overrides)[check_route(route)]


def reading_schedule(
    route: str,
    *,
    infusion_min: float,
    observation_min: float,
    overrides: Iterable[Override] = (),
) -> list[float]:
    """Minutes (from the start of dosing) at which a reading is due, ascending."""
    rule = apply(SCHEDULES, overrides)[check_route(route)]
    if infusion_min < 0 or observation_min < 0:
        raise ValueError("infusion_min and observation_min must not be negative")
    end_of_dose = float(infusion_min)
    discharge = end_of_dose + float(observation_min)
    times: set[float] = set()
    if rule.before_dose:
        times.add(0.0)
    if rule.during_every_min is not None and end_of_dose > 0:
        times.update(_every(0.0, end_of_dose, rule.during_every_min))
        times.add(end_of_dose)
    if rule.after_every_min is not None:
        times.update(_every(end_of_dose, discharge, rule.after_every_min))
    times.update(end_of_dose + m for m in rule.after_dose_min if end_of_dose + m <= discharge)
    if rule.before_discharge:
        times.add(discharge)
    return sorted(round(t, 6) for t in times)


def _every(start: float, end: float, step: float) -> list[float]:
    if step <= 0:
        raise ValueError("a reading interval must be positive")
    out = []
    k = 1
    while start + k * step <= end + 1e-9:
        out.append(start + k * step)
        k += 1
    return out


Status = Literal["done", "due", "overdue", "upcoming"]

# How far from its due time a charted reading still counts for it: ketaclinic's
# convention (no source sets one), a clinic sets its own.
TOLERANCE_MIN = 5.0


@dataclass(frozen=True)
class ScheduledReading:
    """One due time and where it stands at ``now_min``."""

    due_at_min: float
    status: Status
    charted_at_min: float | None


def schedule_status(
    schedule: Sequence[float],
    charted_min: Iterable[float],
    now_min: float,
    *,
    tolerance_min: float = TOLERANCE_MIN,
) -> list[ScheduledReading]:
    """Which scheduled readings are done, due, overdue or still to come at ``now_min``.

    A due time counts as done when a charted reading lies within ``tolerance_min`` of it
    (each charted reading satisfies one due time, earliest first). A due time not done
    is ``upcoming`` before it, ``due`` from it until ``tolerance_min`` later, and
    ``overdue`` after that. The 5-minute default tolerance is ketaclinic's convention,
    not a sourced number: a clinic sets its own.
    """
    if tolerance_min < 0:
        raise ValueError("tolerance_min must not be negative")
    unused = sorted(charted_min)
    out: list[ScheduledReading] = []
    for due in sorted(schedule):
        match = next((t for t in unused if abs(t - due) <= tolerance_min), None)
        if match is not None:
            unused.remove(match)
            out.append(ScheduledReading(due, "done", match))
        elif now_min < due:
            out.append(ScheduledReading(due, "upcoming", None))
        elif now_min <= due + tolerance_min:
            out.append(ScheduledReading(due, "due", None))
        else:
            out.append(ScheduledReading(due, "overdue", None))
    return out
