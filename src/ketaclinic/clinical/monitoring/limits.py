"""Vital-sign limits and the alarms they raise.

The limits are a declared table (``LIMITS``), one frozen row per rule, each carrying
its source and how firm that source is. ``assess`` runs the rows of one phase over a
time-ordered series of readings and returns the alarms, each naming its rule, source
and the clinic overrides that changed the rule.

Levels: ``no_go`` (before dosing: do not start until the prescriber decides), ``warn``
(look again, tell the prescriber), ``pause`` (pause the infusion), ``stop`` (stop the
infusion; in recovery, where there is nothing to stop: escalate now, the prescriber must
assess the patient at once). The clinician decides; these are prompts.

Confirmation: a row with ``confirm_min`` 0 fires on a single reading. A row with
``confirm_min`` N fires when every charted reading of that parameter has crossed the
limit from a first crossing reading until a reading at least N minutes later: two
readings N minutes apart, or a value sustained for N minutes on a monitor feed. A
reading back within the limit ends the run. Readings that do not chart the parameter
neither confirm nor break a run. Rows are confirmed only where the source says so.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ketaclinic.clinical.monitoring.vitals import (
    LABELS,
    PARAMETERS,
    UNITS,
    Evidence,
    Level,
    Observation,
    Parameter,
    Phase,
    VitalSigns,
    check_phase,
)
from ketaclinic.clinical.overrides import Override, apply

Comparison = Literal[">", ">=", "<", "<="]
Measure = Literal["value", "abs_change_from_baseline"]

LEVEL_RANK: dict[Level, int] = {"warn": 1, "pause": 2, "stop": 3, "no_go": 3}

# Sources, written once so that every row cites them the same way.
_SPRAVATO_BP = (
    "SPRAVATO (esketamine) nasal spray US prescribing information, Dosage and "
    "Administration: assess BP before dosing; if above 140/90 weigh the short-term rise "
    "against the benefit (clinical-reference section 2). Used for IV ketamine by convention"
)
_CLINIC_BP = (
    "Commonly used clinic default for IV ketamine: act at about 180/110 on two readings "
    "5 minutes apart or 200/120 once (clinical-reference section 3); no primary source "
    "found; see Yip R et al., Front Psychiatry 2022;13:1017504 on aligning thresholds "
    "with hypertension guidelines"
)
_CLINIC_BP_NO_GO = (
    "Clinic convention: the during-infusion action level (about 180/110, "
    "clinical-reference section 3) applied before dosing; no primary source found"
)
_CLINIC_HR = (
    "Commonly used clinic default: heart rate above 120 sustained for 5 minutes "
    "(clinical-reference section 3); no primary source found"
)
_ALDRETE_SPO2 = (
    "Aldrete JA, J Clin Anesth 1995;7:89-91: SpO2 above 92% on room air scores 2, "
    "needing oxygen to stay above 90% scores 1, below 90% even with oxygen scores 0; its "
    "use as a session alarm is clinic convention"
)
_NEWS2 = (
    "Royal College of Physicians, National Early Warning Score 2 (2017): the band scoring "
    "3 (red) for this parameter; its use as a ketamine-session alarm is clinic convention"
)
_NEWS2_LOW = (
    "Royal College of Physicians, National Early Warning Score 2 (2017): the band scoring "
    "3 (red) for this parameter (systolic BP <= 90 mmHg, heart rate <= 40/min), the same "
    "band the infusion phase uses; its use as a ketamine-session alarm is clinic convention"
)
_RESP_DEPRESSION = (
    "; SPRAVATO (esketamine) US prescribing information, boxed warning: respiratory "
    "depression (monitor breathing and oxygen saturation after each dose)"
)
_SPRAVATO_CRISIS = (
    "SPRAVATO (esketamine) US prescribing information 5.6: BP peaks about 40 minutes after "
    "the dose and lasts about 4 hours; if BP remains high, promptly seek assistance from "
    "practitioners experienced in BP management; refer patients with symptoms of a "
    "hypertensive crisis or hypertensive encephalopathy immediately for emergency care "
    "(clinical-reference section 10) [confirmed]. The thresholds (about 180/110 on two "
    "readings 5 minutes apart, or 200/120 once) are the during-infusion action levels "
    "carried into recovery (clinical-reference section 3) [convention]"
)
_ALDRETE_CIRC = (
    "Aldrete JA, J Clin Anesth 1995;7:89-91: circulation scores 0 when BP is more than "
    "50 mmHg from the pre-anaesthetic level; its use as a recovery alarm is clinic "
    "convention"
)


@dataclass(frozen=True)
class Limit:
    """One alarm rule: ``parameter comparison threshold`` during ``phases``."""

    id: str
    parameter: Parameter
    phases: tuple[Phase, ...]
    comparison: Comparison
    threshold: float
    level: Level
    confirm_min: float
    action: str
    source: str
    evidence: Evidence
    measure: Measure = "value"

    def describe(self) -> str:
        what = LABELS[self.parameter]
        if self.measure == "abs_change_from_baseline":
            what += " change from baseline (either way)"
        text = f"{what} {self.comparison} {self.threshold:g} {UNITS[self.parameter]}"
        if self.confirm_min > 0:
            text += f" on every reading for at least {self.confirm_min:g} min"
        return text


def _row(
    id: str,
    parameter: Parameter,
    phases: tuple[Phase, ...],
    comparison: Comparison,
    threshold: float,
    level: Level,
    confirm_min: float,
    action: str,
    source: str,
    evidence: Evidence,
    measure: Measure = "value",
) -> tuple[str, Limit]:
    return id, Limit(
        id=id,
        parameter=parameter,
        phases=phases,
        comparison=comparison,
        threshold=threshold,
        level=level,
        confirm_min=confirm_min,
        action=action,
        source=source,
        evidence=evidence,
        measure=measure,
    )


_PRE: tuple[Phase, ...] = ("pre_infusion",)
_INF: tuple[Phase, ...] = ("infusion",)
_REC: tuple[Phase, ...] = ("recovery",)
_INF_REC: tuple[Phase, ...] = ("infusion", "recovery")

_RECHECK = "Recheck in 5 minutes; tell the prescriber if it stays at this level"
_PAUSE_BP = "Pause the infusion, recheck BP in 5 minutes, notify the prescriber"
_STOP_BP = (
    "Stop the infusion, notify the prescriber now, recheck BP every 5 minutes; "
    "antihypertensive only as the prescriber orders"
)
_HYPOXIA_WARN = (
    "Check the probe, prompt deep breaths, reposition the airway, give oxygen per protocol; recheck"
)
_HYPOXIA_STOP = (
    "Stop (or keep stopped) the infusion, support the airway, give oxygen, call the prescriber now"
)
_SLOW_BREATHING = (
    "Stop (or keep stopped) the infusion, stimulate the patient, support the airway, "
    "give oxygen, call the prescriber now"
)
_ESCALATE_BP = (
    "Escalate now: the prescriber must assess the patient at once and decide on treatment "
    "(antihypertensive only as the prescriber orders); recheck BP every 5 minutes; ask about "
    "chest pain, shortness of breath, sudden severe headache, visual disturbance, seizure, "
    "confusion or weakness. Label advice: if BP remains high, seek assistance from "
    "practitioners experienced in BP management; symptoms of a hypertensive crisis or "
    "hypertensive encephalopathy: emergency care at once"
)
_LOW_BP_NO_GO = "Do not start; lay the patient flat, recheck BP by hand, ask the prescriber"
_LOW_HR_NO_GO = "Do not start; check the pulse and rhythm by hand, ask the prescriber"
_LOW_BP_REC = (
    "Escalate now: lay the patient flat, recheck BP by hand, call the prescriber to assess"
)
_LOW_HR_REC = (
    "Escalate now: check the pulse and rhythm by hand and BP, call the prescriber to assess"
)

# fmt: off
LIMITS: dict[str, Limit] = dict(
    [
        # Before dosing: go / no-go.
        _row("pre_sbp_warn", "systolic_bp", _PRE, ">", 140, "warn", 0,
             "Recheck after 5 minutes' rest; the prescriber weighs the short-term BP rise "
             "against the benefit before dosing", _SPRAVATO_BP, "confirmed"),
        _row("pre_dbp_warn", "diastolic_bp", _PRE, ">", 90, "warn", 0,
             "Recheck after 5 minutes' rest; the prescriber weighs the short-term BP rise "
             "against the benefit before dosing", _SPRAVATO_BP, "confirmed"),
        _row("pre_sbp_no_go", "systolic_bp", _PRE, ">=", 180, "no_go", 0,
             "Do not start; recheck after rest and ask the prescriber", _CLINIC_BP_NO_GO,
             "convention"),
        _row("pre_dbp_no_go", "diastolic_bp", _PRE, ">=", 110, "no_go", 0,
             "Do not start; recheck after rest and ask the prescriber", _CLINIC_BP_NO_GO,
             "convention"),
        _row("pre_hr_warn", "heart_rate", _PRE, ">", 120, "warn", 0,
             "Recheck after rest; ask the prescriber before dosing", _CLINIC_HR,
             "convention"),
        _row("pre_hr_low_no_go", "heart_rate", _PRE, "<=", 40, "no_go", 0, _LOW_HR_NO_GO,
             _NEWS2_LOW, "convention"),
        _row("pre_sbp_low_no_go", "systolic_bp", _PRE, "<=", 90, "no_go", 0, _LOW_BP_NO_GO,
             _NEWS2_LOW, "convention"),
        _row("pre_spo2_no_go", "spo2", _PRE, "<", 92, "no_go", 0,
             "Do not start; check the probe and recheck; ask the prescriber",
             _ALDRETE_SPO2, "convention"),
        _row("pre_rr_low_no_go", "respiratory_rate", _PRE, "<=", 8, "no_go", 0,
             "Do not start; recount and ask the prescriber", _NEWS2, "convention"),
        _row("pre_rr_high_warn", "respiratory_rate", _PRE, ">=", 25, "warn", 0,
             "Recount after rest; ask the prescriber before dosing", _NEWS2, "convention"),
        # During the infusion.
        _row("inf_sbp_recheck", "systolic_bp", _INF, ">=", 180, "warn", 0, _RECHECK,
             _CLINIC_BP, "convention"),
        _row("inf_sbp_pause", "systolic_bp", _INF, ">=", 180, "pause", 5, _PAUSE_BP,
             _CLINIC_BP, "convention"),
        _row("inf_sbp_stop", "systolic_bp", _INF, ">=", 200, "stop", 0, _STOP_BP,
             _CLINIC_BP, "convention"),
        _row("inf_dbp_recheck", "diastolic_bp", _INF, ">=", 110, "warn", 0, _RECHECK,
             _CLINIC_BP, "convention"),
        _row("inf_dbp_pause", "diastolic_bp", _INF, ">=", 110, "pause", 5, _PAUSE_BP,
             _CLINIC_BP, "convention"),
        _row("inf_dbp_stop", "diastolic_bp", _INF, ">=", 120, "stop", 0, _STOP_BP,
             _CLINIC_BP, "convention"),
        _row("inf_hr_warn", "heart_rate", _INF, ">", 120, "warn", 0,
             "Recheck; look for pain, anxiety, a probe artefact", _CLINIC_HR, "convention"),
        _row("inf_hr_pause", "heart_rate", _INF, ">", 120, "pause", 5,
             "Pause the infusion, check rhythm and BP, notify the prescriber", _CLINIC_HR,
             "convention"),
        _row("inf_hr_low_pause", "heart_rate", _INF, "<=", 40, "pause", 0,
             "Pause the infusion, check pulse and rhythm by hand, notify the prescriber",
             _NEWS2_LOW, "convention"),
        _row("inf_sbp_low_pause", "systolic_bp", _INF, "<=", 90, "pause", 0,
             "Pause the infusion, lay the patient flat, recheck BP, notify the prescriber",
             _NEWS2_LOW, "convention"),
        _row("spo2_low_warn", "spo2", _INF_REC, "<", 92, "warn", 0, _HYPOXIA_WARN,
             _ALDRETE_SPO2, "convention"),
        _row("spo2_low_stop", "spo2", _INF_REC, "<", 90, "stop", 0, _HYPOXIA_STOP,
             _ALDRETE_SPO2 + _RESP_DEPRESSION, "convention"),
        _row("rr_low_stop", "respiratory_rate", _INF_REC, "<=", 8, "stop", 0,
             _SLOW_BREATHING, _NEWS2 + _RESP_DEPRESSION, "convention"),
        _row("rr_high_warn", "respiratory_rate", _INF_REC, ">=", 25, "warn", 0,
             "Recount; look for anxiety or distress; notify the prescriber if it persists",
             _NEWS2, "convention"),
        # Recovery (after the infusion or the last nasal device).
        _row("rec_sbp_warn", "systolic_bp", _REC, ">=", 180, "warn", 0,
             "Keep observing, recheck BP in 5 minutes, notify the prescriber", _CLINIC_BP,
             "convention"),
        _row("rec_dbp_warn", "diastolic_bp", _REC, ">=", 110, "warn", 0,
             "Keep observing, recheck BP in 5 minutes, notify the prescriber", _CLINIC_BP,
             "convention"),
        _row("rec_sbp_escalate", "systolic_bp", _REC, ">=", 180, "stop", 5, _ESCALATE_BP,
             _SPRAVATO_CRISIS, "convention"),
        _row("rec_sbp_severe_escalate", "systolic_bp", _REC, ">=", 200, "stop", 0,
             _ESCALATE_BP, _SPRAVATO_CRISIS, "convention"),
        _row("rec_dbp_escalate", "diastolic_bp", _REC, ">=", 110, "stop", 5, _ESCALATE_BP,
             _SPRAVATO_CRISIS, "convention"),
        _row("rec_dbp_severe_escalate", "diastolic_bp", _REC, ">=", 120, "stop", 0,
             _ESCALATE_BP, _SPRAVATO_CRISIS, "convention"),
        _row("rec_hr_low_escalate", "heart_rate", _REC, "<=", 40, "stop", 0, _LOW_HR_REC,
             _NEWS2_LOW, "convention"),
        _row("rec_sbp_low_escalate", "systolic_bp", _REC, "<=", 90, "stop", 0, _LOW_BP_REC,
             _NEWS2_LOW, "convention"),
        _row("rec_hr_warn", "heart_rate", _REC, ">", 120, "warn", 5,
             "Keep observing, check rhythm and BP, notify the prescriber", _CLINIC_HR,
             "convention"),
        _row("rec_sbp_from_baseline_warn", "systolic_bp", _REC, ">", 50, "warn", 0,
             "BP has not come back toward baseline: keep observing and recheck; notify the "
             "prescriber", _ALDRETE_CIRC, "convention", "abs_change_from_baseline"),
    ]
)
# fmt: on


@dataclass(frozen=True)
class Alarm:
    """A limit crossed (and confirmed where the rule asks for it)."""

    level: Level
    parameter: Parameter | Observation
    value: float
    limit: float
    comparison: Comparison
    at_min: float
    action: str
    rule_id: str
    source: str
    evidence: Evidence
    message: str
    confirmed_over_min: float
    overrides: tuple[Override, ...] = ()


def limits(overrides: Iterable[Override] = ()) -> list[Limit]:
    """The limit table with the clinic's overrides applied, in declaration order."""
    return list(apply(LIMITS, overrides).values())


def _phase_rows(phase: Phase, overrides: Iterable[Override]) -> tuple[Limit, ...]:
    """The rows of ``phase`` with the overrides applied, in declaration order: the same
    few rows for every reading a monitor sends, so made once for each phase and set of
    overrides (``_cached_rows``) where the overrides can be a cache key."""
    overrides = tuple(overrides)
    try:
        return _cached_rows(phase, overrides)
    except TypeError:  # an override whose value cannot be hashed: made afresh
        return _cached_rows.__wrapped__(phase, overrides)


@functools.lru_cache(maxsize=256)
def _cached_rows(phase: Phase, overrides: tuple[Override, ...]) -> tuple[Limit, ...]:
    return tuple(row for row in apply(LIMITS, overrides).values() if phase in row.phases)


def _crosses(value: float, comparison: Comparison, threshold: float) -> bool:
    if comparison == ">":
        return value > threshold
    if comparison == ">=":
        return value >= threshold
    if comparison == "<":
        return value < threshold
    return value <= threshold


def _measured(row: Limit, reading: VitalSigns, baseline: VitalSigns | None) -> float | None:
    # ``getattr`` rather than ``VitalSigns.get``: this runs for every rule and reading a
    # monitor's messages are assessed with, and the call in between costs as much.
    value: float | None = getattr(reading, row.parameter)
    if value is None or row.measure == "value":
        return value
    reference = getattr(baseline, row.parameter) if baseline is not None else None
    if reference is None:
        return None
    return abs(value - reference)


def check_time_order(readings: Sequence[VitalSigns]) -> None:
    for earlier, later in zip(readings, readings[1:], strict=False):
        if later.at_min < earlier.at_min:
            raise ValueError(
                f"readings must be in time order: {later.at_min:g} min comes after "
                f"{earlier.at_min:g} min"
            )


def assess(
    readings: Sequence[VitalSigns],
    *,
    phase: str,
    baseline: VitalSigns | None = None,
    overrides: Iterable[Override] = (),
) -> list[Alarm]:
    """Alarms raised by a time-ordered series of readings during one phase.

    ``baseline`` (the pre-dose reading) is used only by rows measured as a change from
    baseline; without it those rows cannot fire. Each rule raises at most one alarm per
    run of crossing readings, at the reading that met (or confirmed) it. Alarms come in
    time order, the most severe first at equal times.
    """
    return [alarm for _, alarm in _scan(readings, phase, baseline, overrides)]


def assess_new(
    new: Sequence[VitalSigns],
    *,
    prior: Sequence[VitalSigns],
    phase: str,
    baseline: VitalSigns | None = None,
    overrides: Iterable[Override] = (),
) -> list[tuple[int, Alarm]]:
    """The alarms that ``new`` readings raise, charted after ``prior`` in the same phase,
    each with the index in ``new`` of the reading that raised it.

    ``prior`` need not be every earlier reading of the phase: the window that
    ``prior_window`` keeps is enough, so a reading costs the same at the first minute
    and the sixth hour. The result equals the alarms of ``assess`` over all the
    readings that fall on the new ones. ``new`` must not start before the last of
    ``prior``.
    """
    prior, new = list(prior), list(new)
    if prior and new and new[0].at_min < prior[-1].at_min:
        raise ValueError("new readings must not start before the last prior reading")
    first_new = len(prior)
    return [
        (index - first_new, alarm)
        for index, alarm in _scan(prior + new, phase, baseline, overrides)
        if index >= first_new
    ]


def uses_baseline(phase: str, overrides: Iterable[Override] = ()) -> bool:
    """Whether a rule of ``phase`` is measured from the pre-dose baseline (by default
    only recovery's): the others assess a reading without it."""
    return any(row.measure != "value" for row in _phase_rows(check_phase(phase), overrides))


def lookback_min(phase: str, overrides: Iterable[Override] = ()) -> dict[Parameter, float]:
    """Per parameter with a rule in ``phase``, the longest confirmation time of its rules:
    how far before its latest prior reading the history of that parameter matters."""
    out: dict[Parameter, float] = {}
    for row in _phase_rows(check_phase(phase), overrides):
        out[row.parameter] = max(out.get(row.parameter, 0.0), float(row.confirm_min))
    return out


def prior_window(
    prior: Sequence[VitalSigns],
    *,
    new: Sequence[VitalSigns],
    phase: str,
    baseline: VitalSigns | None = None,
    overrides: Iterable[Override] = (),
) -> list[VitalSigns]:
    """The part of ``prior`` (time-ordered, same phase) that ``assess_new`` needs.

    A rule fires at a new reading from the run of crossing readings it continues, and
    only the start of that run matters, and only while the run is younger than the
    rule's confirmation time at the latest prior reading ``p``: a run older than that
    has already fired. So for each parameter the new readings chart, the readings
    from ``p`` minus the longest confirmation time on, and the one reading of that
    parameter just before them (kept with that parameter alone, so that it says
    nothing about the others), are enough; and of those, only the ones from the last
    reading that crossed none of the parameter's rules (``settled``). ``sessions``
    reads the same window with indexed queries; this function is the definition it is
    tested against.
    """
    prior = list(prior)
    charted = {p for reading in new for p in _charted(reading)}
    needed = {p: n for p, n in lookback_min(phase, overrides).items() if p in charted}
    cuts: dict[Parameter, float] = {}
    for parameter, confirm in needed.items():
        latest = [r.at_min for r in prior if r.get(parameter) is not None]
        if latest:
            cuts[parameter] = latest[-1] - confirm
    if not cuts:
        return []
    cut = min(cuts.values())
    kept = [r for r in prior if r.at_min >= cut]
    start = len(prior) - len(kept)
    # The reading of each parameter just before the kept ones, with only the
    # parameters it stands for (one reading may stand for several).
    before: dict[int, list[Parameter]] = {}
    for parameter in cuts:
        earlier = [i for i in range(start) if prior[i].get(parameter) is not None]
        if earlier:
            before.setdefault(earlier[-1], []).append(parameter)
    window = [only(prior[i], *before[i]) for i in sorted(before)] + kept
    return settled(window, new=new, phase=phase, baseline=baseline, overrides=overrides)


def settled(
    window: Sequence[VitalSigns],
    *,
    new: Sequence[VitalSigns],
    phase: str,
    baseline: VitalSigns | None = None,
    overrides: Iterable[Override] = (),
) -> list[VitalSigns]:
    """``window`` from the latest reading after which every rule is back at rest.

    A reading that crosses none of its parameter's rules ends every run of that
    parameter: what came before it no longer matters to those rules. So for each
    parameter the new readings chart, the window may start at its last such reading;
    it starts at the earliest of those starts (a parameter still in a run keeps the
    whole window). With ordinary readings the window is the last reading or two.
    """
    return settle(window, new=new, phase=phase, baseline=baseline, overrides=overrides)[0]


def unsettled(
    window: Sequence[VitalSigns],
    *,
    new: Sequence[VitalSigns],
    phase: str,
    baseline: VitalSigns | None = None,
    overrides: Iterable[Override] = (),
) -> set[Parameter]:
    """The parameters the new readings chart whose rules may be in a run all through
    ``window`` (no reading of it crosses none of them): for those, what came before
    ``window`` may matter."""
    return settle(window, new=new, phase=phase, baseline=baseline, overrides=overrides)[1]


def settle(
    window: Sequence[VitalSigns],
    *,
    new: Sequence[VitalSigns],
    phase: str,
    baseline: VitalSigns | None = None,
    overrides: Iterable[Override] = (),
) -> tuple[list[VitalSigns], set[Parameter]]:
    """``settled`` and ``unsettled`` of one window, found with one pass over it."""
    window = list(window)
    starts = _settled_at(window, new=new, phase=phase, baseline=baseline, overrides=overrides)
    tail = window[min((at or 0 for at in starts.values()), default=len(window)) :]
    return tail, {p for p, at in starts.items() if at is None}


def _settled_at(
    window: Sequence[VitalSigns],
    *,
    new: Sequence[VitalSigns],
    phase: str,
    baseline: VitalSigns | None,
    overrides: Iterable[Override],
) -> dict[Parameter, int | None]:
    known_phase = check_phase(phase)
    rows = _phase_rows(known_phase, overrides)
    charted = {p for reading in new for p in _charted(reading)}
    found: dict[Parameter, int | None] = {}
    for parameter in charted:
        own = [row for row in rows if row.parameter == parameter]
        if not own:
            continue
        found[parameter] = None
        for index in range(len(window) - 1, -1, -1):
            reading = window[index]
            if getattr(reading, parameter) is None:
                continue
            values = [(row, _measured(row, reading, baseline)) for row in own]
            if all(
                v is None or not _crosses(v, row.comparison, row.threshold) for row, v in values
            ):
                found[parameter] = index
                break
    return found


def _charted(reading: VitalSigns) -> list[Parameter]:
    return [p for p in PARAMETERS if getattr(reading, p) is not None]


def only(reading: VitalSigns, *parameters: Parameter) -> VitalSigns:
    """The reading with some parameters kept: what those parameters' rules need of it."""
    return VitalSigns(at_min=reading.at_min, **{p: reading.get(p) for p in parameters})


def _scan(
    readings: Sequence[VitalSigns],
    phase: str,
    baseline: VitalSigns | None,
    overrides: Iterable[Override],
) -> list[tuple[int, Alarm]]:
    known_phase = check_phase(phase)
    readings = list(readings)
    check_time_order(readings)
    overrides = tuple(overrides)
    alarms: list[tuple[int, Alarm]] = []
    for row in _phase_rows(known_phase, overrides):
        used = tuple(o for o in overrides if o.target == row.id)
        run_start: float | None = None
        fired = False
        for index, reading in enumerate(readings):
            measured = _measured(row, reading, baseline)
            if measured is None:
                continue
            if not _crosses(measured, row.comparison, row.threshold):
                run_start, fired = None, False
                continue
            if run_start is None:
                run_start = reading.at_min
            duration = reading.at_min - run_start
            if fired or duration < row.confirm_min:
                continue
            fired = True
            alarms.append((index, _alarm(row, reading, measured, duration, used)))
    alarms.sort(key=lambda a: (a[1].at_min, -LEVEL_RANK[a[1].level], a[1].rule_id))
    return alarms


def _alarm(
    row: Limit,
    reading: VitalSigns,
    measured: float,
    duration: float,
    used: tuple[Override, ...],
) -> Alarm:
    value = reading.get(row.parameter)
    assert value is not None
    shown = f"{LABELS[row.parameter]} {value:g} {UNITS[row.parameter]}"
    if row.measure == "abs_change_from_baseline":
        shown += f" ({measured:g} from baseline)"
    message = f"{shown} at {reading.at_min:.0f} min: {row.describe()}"
    if row.confirm_min > 0:
        message += f" (confirmed over {duration:.0f} min)"
    return Alarm(
        level=row.level,
        parameter=row.parameter,
        value=value,
        limit=row.threshold,
        comparison=row.comparison,
        at_min=reading.at_min,
        action=row.action,
        rule_id=row.id,
        source=row.source,
        evidence=row.evidence,
        message=message,
        confirmed_over_min=duration,
        overrides=used,
    )


@dataclass(frozen=True)
class Reassessment:
    """An alarm judged again once some of its phase's readings are taken away.

    ``alarm`` is what the rule raises from the remaining readings in the same run of
    crossing readings, at the reading ``index`` (its place in the readings given to
    ``reassess``); both ``None`` when the rule no longer fires there."""

    rule_id: str
    alarm: Alarm | None
    index: int | None


def reassess(
    readings: Sequence[VitalSigns],
    *,
    raised: Sequence[tuple[int, str]],
    removed: Iterable[int],
    phase: str,
    baseline: VitalSigns | None = None,
    remaining_baseline: VitalSigns | None = None,
    overrides: Iterable[Override] = (),
) -> list[Reassessment | None]:
    """Alarms raised over ``readings`` (time-ordered, one phase), judged again without
    the readings at the indices ``removed`` (entered in error).

    ``raised``: each alarm as (index of the reading it was raised at, rule id).
    ``baseline`` is the pre-dose reading before the removal, ``remaining_baseline``
    after it (the same unless the removal took it away). For each alarm: ``None`` when
    the removal leaves it alone, that is when no removed reading raised it or belongs
    to the run of crossing readings that confirmed it (up to the reading it was raised
    at), and its baseline is unchanged; otherwise its ``Reassessment``: the alarm the
    same rule raises from the remaining readings of that run (its first reading to meet
    the rule, as ``assess`` raises it), or none. A rule the table no longer holds for
    this phase is left alone: nothing here can judge it.
    """
    readings = list(readings)
    gone = set(removed)
    overrides = tuple(overrides)
    table = apply(LIMITS, overrides)
    known_phase = check_phase(phase)
    kept = [i for i in range(len(readings)) if i not in gone]
    fired: dict[str, list[tuple[int, Alarm]]] = {}
    scanned = False
    out: list[Reassessment | None] = []
    for index, rule_id in raised:
        row = table.get(rule_id)
        if row is None or known_phase not in row.phases:
            out.append(None)
            continue
        run = _run_of(readings, index, row, baseline)
        moved = row.measure == "abs_change_from_baseline" and baseline != remaining_baseline
        if not moved and not any(i in gone for i in run if i <= index):
            out.append(None)
            continue
        if not scanned:
            # One scan of the remaining readings judges every alarm of the phase.
            for k, alarm in _scan(
                [readings[i] for i in kept], phase, remaining_baseline, overrides
            ):
                fired.setdefault(alarm.rule_id, []).append((kept[k], alarm))
            scanned = True
        members = set(run) - gone
        found = next(((i, a) for i, a in fired.get(rule_id, []) if i in members), None)
        out.append(
            Reassessment(rule_id, found[1], found[0])
            if found is not None
            else Reassessment(rule_id, None, None)
        )
    return out


def _run_of(
    readings: Sequence[VitalSigns], index: int, row: Limit, baseline: VitalSigns | None
) -> list[int]:
    """The indices of the run of readings crossing ``row`` that holds ``index`` (readings
    that do not chart the parameter neither belong to nor break it); just ``index`` if
    that reading does not cross."""

    def crossing(i: int) -> bool | None:
        measured = _measured(row, readings[i], baseline)
        return None if measured is None else _crosses(measured, row.comparison, row.threshold)

    if not crossing(index):
        return [index]
    run = [index]
    for step in (-1, 1):
        i = index + step
        while 0 <= i < len(readings):
            state = crossing(i)
            if state is False:
                break
            if state:
                run.append(i)
            i += step
    return sorted(run)
