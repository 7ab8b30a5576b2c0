"""Discharge readiness after a session: each criterion met or not, in words, with source.

``discharge_ready`` takes plain data an area already holds (the pre-dose baseline and
the latest vital signs, the scores charted, what was recorded about the escort and the
driving instruction, whether a suicidality alert is open) and returns one ``Reason`` per
criterion. ``ready`` is true only when every reason is met; a criterion whose data was
not given is unmet and says what to chart: nothing is assumed in the patient's favour.

Besides the absolute alarm limits, the latest vital signs are compared with the
patient's own pre-dose baseline (PADSS: within 20%), and the charted Aldrete score is
checked against the vital signs it claims (a circulation item of 2 needs a BP within
20 mmHg of the pre-dose level; an SpO2 item of 2 needs SpO2 above 92%).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ketaclinic.clinical.monitoring.limits import Alarm, assess
from ketaclinic.clinical.monitoring.vitals import (
    LABELS,
    UNITS,
    Evidence,
    Parameter,
    Route,
    VitalSigns,
    check_route,
)
from ketaclinic.clinical.overrides import Override, apply


@dataclass(frozen=True)
class DischargeCriterion:
    """One default discharge criterion.

    ``minimum``: a value that must be reached; ``maximum``: a value that must not be
    exceeded (for ``vitals_near_baseline`` a percentage either way); ``routes``: the
    routes on which the criterion is required.
    """

    id: str
    description: str
    minimum: float | None
    routes: tuple[Route, ...]
    source: str
    evidence: Evidence
    maximum: float | None = None


_ALL: tuple[Route, ...] = ("iv", "esketamine_nasal")
_NASAL: tuple[Route, ...] = ("esketamine_nasal",)

_ALDRETE = "Aldrete JA, J Clin Anesth 1995;7:89-91"
_PADSS = (
    "Chung F, Chan VWS, Ong D, A post-anesthetic discharge scoring system for home "
    "readiness after ambulatory surgery, J Clin Anesth 1995;7:500-506: vital signs (BP and "
    "pulse) within 20% of the pre-operative value score 2 (clinical-reference section 10)"
)
_REMS_FORM = (
    "SPRAVATO REMS patient monitoring form: sedation, dissociation and respiratory "
    "depression observations before the patient leaves (clinical-reference section 2)"
)

DISCHARGE_CRITERIA: dict[str, DischargeCriterion] = {
    "aldrete_min": DischargeCriterion(
        id="aldrete_min",
        description="Modified Aldrete score",
        minimum=9,
        routes=_ALL,
        source=_ALDRETE + ": discharge at a score of 9 or more",
        evidence="confirmed",
    ),
    "aldrete_consistent": DischargeCriterion(
        id="aldrete_consistent",
        description="Aldrete score agrees with the charted vital signs",
        minimum=None,
        routes=_ALL,
        source=(
            _ALDRETE + ": circulation scores 2 with BP within 20 mmHg of the "
            "pre-anaesthetic level, 1 within 20-50 mmHg, 0 beyond; oxygen saturation scores "
            "2 above 92% on room air, 1 when oxygen is needed to stay above 90%, 0 below "
            "90%. Systolic BP is the pressure compared (clinic convention)"
        ),
        evidence="confirmed",
        maximum=20,
    ),
    "observation_iv_min": DischargeCriterion(
        id="observation_iv_min",
        description="Minutes observed since the end of the infusion",
        minimum=30,
        routes=("iv",),
        source=(
            "Clinic convention, no primary source found. For context: BP and heart rate "
            "return to baseline within about 90 minutes of the start of a 40-minute "
            "infusion (Riva-Posse 2018; Szarmach 2020), information only"
        ),
        evidence="convention",
    ),
    "observation_esketamine_min": DischargeCriterion(
        id="observation_esketamine_min",
        description="Minutes observed since the last nasal device",
        minimum=120,
        routes=_NASAL,
        source=(
            "SPRAVATO US prescribing information (boxed warning): monitor for at least 2 "
            "hours at each treatment session, then assess clinical stability"
        ),
        evidence="confirmed",
    ),
    "sedation_recorded": DischargeCriterion(
        id="sedation_recorded",
        description="A sedation rating (MOAA/S) charted after dosing",
        minimum=None,
        routes=_NASAL,
        source=_REMS_FORM,
        evidence="confirmed",
    ),
    "moaas_min": DischargeCriterion(
        id="moaas_min",
        description="MOAA/S sedation rating",
        minimum=5,
        routes=_ALL,
        source=(
            "Chernik DA et al., J Clin Psychopharmacol 1990;10:244-251: 5 = responds "
            "readily to name spoken in normal tone; requiring 5 before discharge is clinic "
            "convention"
        ),
        evidence="convention",
    ),
    "dissociation_resolved": DischargeCriterion(
        id="dissociation_resolved",
        description="Dissociation resolved (latest CADSS back to the pre-dose total)",
        minimum=None,
        routes=_NASAL,
        source=(
            _REMS_FORM + "; CADSS has no cut-off (Bremner JD et al., J Trauma Stress "
            "1998;11:125-136), so 'resolved' is read as back to the pre-dose total, or 0 "
            "without one: clinic convention"
        ),
        evidence="convention",
    ),
    "vitals_within_limits": DischargeCriterion(
        id="vitals_within_limits",
        description="Latest vital signs (with BP) raise no recovery alarm",
        minimum=None,
        routes=_ALL,
        source=(
            "Recovery-phase rows of the limit table (each with its own source); SPRAVATO "
            "REMS patient monitoring form records BP before leaving"
        ),
        evidence="convention",
    ),
    "vitals_near_baseline": DischargeCriterion(
        id="vitals_near_baseline",
        description="Systolic BP, diastolic BP and heart rate within this percentage of "
        "the pre-dose baseline",
        minimum=None,
        routes=_ALL,
        source=_PADSS + "; applied to ketamine sessions by clinic convention",
        evidence="secondary",
        maximum=20,
    ),
    "spo2_min": DischargeCriterion(
        id="spo2_min",
        description="Latest SpO2 (%)",
        minimum=94,
        routes=_ALL,
        source=(
            "Royal College of Physicians, NEWS2 (2017), SpO2 scale 1: 94-95% scores 1, "
            "92-93% scores 2; requiring at most 1 point (94% or more) before discharge is "
            "clinic convention"
        ),
        evidence="convention",
    ),
    "escort_recorded": DischargeCriterion(
        id="escort_recorded",
        description="A responsible adult to take the patient home is recorded",
        minimum=None,
        routes=_ALL,
        source=(
            "Follows from the no-driving instruction (SPRAVATO US prescribing information "
            "and Medication Guide: no driving until the next day after a restful sleep; "
            "Ketalar label: no driving or hazardous activity for 24 hours); recording an "
            "escort is clinic convention"
        ),
        evidence="convention",
    ),
    "no_driving_instruction": DischargeCriterion(
        id="no_driving_instruction",
        description=(
            "Instruction given not to drive or operate machinery until the next day after a "
            "restful sleep (esketamine) or for 24 hours (IV ketamine)"
        ),
        minimum=None,
        routes=_ALL,
        source=(
            "SPRAVATO US prescribing information and Medication Guide (do not drive or "
            "operate machinery until the next day after a restful sleep); Ketalar (ketamine) "
            "US label, information for patients (no driving or hazardous activity within 24 "
            "hours) (clinical-reference section 2: driving wording secondary)"
        ),
        evidence="secondary",
    ),
    "no_open_suicidality_alert": DischargeCriterion(
        id="no_open_suicidality_alert",
        description="No open suicidality alert",
        minimum=None,
        routes=_ALL,
        source=(
            "Clinic convention: an open suicidality alert (for example PHQ-9 item 9 or a "
            "C-SSRS screen) is reviewed by a clinician before the patient leaves"
        ),
        evidence="convention",
    ),
}

ALDRETE_ITEMS = ("activity", "respiration", "circulation", "consciousness", "oxygen_saturation")
# Aldrete 1995 bands, in the units of the instrument definition (one home: the
# "aldrete_consistent" row's source): circulation by mmHg from the pre-dose level, oxygen
# saturation by SpO2.
_CIRCULATION_ONE_MAX_MMHG = 50.0
_SPO2_TWO_ABOVE = 92.0
_SPO2_ONE_FROM = 90.0
_BASELINE_PARAMETERS: tuple[Parameter, ...] = ("systolic_bp", "diastolic_bp", "heart_rate")


# The callback the helpers below record a reason with: criterion id, met, text.
_Add = Callable[[str, bool, str], None]


@dataclass(frozen=True)
class Reason:
    """One criterion, met or not, in words."""

    criterion_id: str
    met: bool
    text: str
    source: str
    evidence: Evidence


@dataclass(frozen=True)
class DischargeDecision:
    """``ready`` only when every reason is met. ``alarms`` are those of the latest vitals."""

    ready: bool
    reasons: tuple[Reason, ...]
    alarms: tuple[Alarm, ...]
    overrides_applied: tuple[Override, ...]


def _check_score(name: str, value: float | None, low: float, high: float) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name} must be {low:g} to {high:g}, got {value!r}")


def discharge_ready(
    *,
    route: str,
    aldrete_total: int,
    minutes_since_dose_end: float,
    latest_vitals: VitalSigns,
    baseline: VitalSigns | None = None,
    moaas: int | None = None,
    aldrete_items: Mapping[str, int] | None = None,
    cadss_pre_dose: float | None = None,
    cadss_latest: float | None = None,
    escort_recorded: bool | None = None,
    no_driving_instruction_given: bool | None = None,
    open_suicidality_alert: bool | None = None,
    overrides: Iterable[Override] = (),
) -> DischargeDecision:
    """Whether the patient meets the discharge criteria for ``route``.

    - ``minutes_since_dose_end``: since the end of the infusion (IV) or the last nasal
      device (esketamine; counting from the last device is the stricter reading of the
      label).
    - ``latest_vitals``: the last reading after dosing; ``baseline``: the pre-dose reading
      (needed for the comparison with baseline and the Aldrete circulation check).
    - ``aldrete_total`` and, where charted item by item, ``aldrete_items`` (keys
      ``ALDRETE_ITEMS``, values 0-2).
    - ``moaas``: the latest MOAA/S (required for esketamine, judged on IV when given).
    - ``cadss_pre_dose`` / ``cadss_latest``: CADSS (or CADSS-6) totals before and after
      dosing (required for esketamine, judged on IV when the latest is given).
    - ``escort_recorded``, ``no_driving_instruction_given``: what staff recorded;
      ``open_suicidality_alert``: whether the patient has an open suicidality alert.
      ``None`` (not recorded) leaves the criterion unmet.

    ``overrides`` may name rows of ``DISCHARGE_CRITERIA`` or of the limit table.
    """
    known_route = check_route(route)
    _check_score("aldrete_total", aldrete_total, 0, 10)
    _check_score("moaas", moaas, 0, 5)
    _check_score("cadss_pre_dose", cadss_pre_dose, 0, 92)
    _check_score("cadss_latest", cadss_latest, 0, 92)
    if minutes_since_dose_end < 0:
        raise ValueError("minutes_since_dose_end must not be negative")
    if aldrete_items is not None:
        unknown = sorted(set(aldrete_items) - set(ALDRETE_ITEMS))
        if unknown or set(aldrete_items) != set(ALDRETE_ITEMS):
            raise ValueError(
                f"aldrete_items must give exactly the items {', '.join(ALDRETE_ITEMS)}"
            )
        for item, value in aldrete_items.items():
            _check_score(f"aldrete item {item}", value, 0, 2)
    overrides = tuple(overrides)
    criteria_ovr = tuple(o for o in overrides if o.target in DISCHARGE_CRITERIA)
    limit_ovr = tuple(o for o in overrides if o.target not in DISCHARGE_CRITERIA)
    criteria = apply(DISCHARGE_CRITERIA, criteria_ovr)
    reasons: list[Reason] = []

    def add(cid: str, met: bool, text: str) -> None:
        row = criteria[cid]
        reasons.append(Reason(cid, met, text, row.source, row.evidence))

    def required(cid: str) -> bool:
        return known_route in criteria[cid].routes

    def judge(cid: str, value: float, shown: str) -> None:
        row = criteria[cid]
        minimum = row.minimum if row.minimum is not None else 0.0
        verb = "meets" if value >= minimum else "does not meet"
        add(cid, value >= minimum, f"{row.description} {shown} {verb} the minimum of {minimum:g}")

    judge("aldrete_min", aldrete_total, f"{aldrete_total}")
    _aldrete_consistency(add, criteria, aldrete_total, aldrete_items, latest_vitals, baseline)
    observation_id = "observation_iv_min" if known_route == "iv" else "observation_esketamine_min"
    judge(observation_id, minutes_since_dose_end, f"{minutes_since_dose_end:g}")
    if moaas is None:
        if required("sedation_recorded"):
            add("sedation_recorded", False, "No MOAA/S rating charted: rate sedation first")
    else:
        if required("sedation_recorded"):
            add("sedation_recorded", True, f"MOAA/S {moaas} charted")
        judge("moaas_min", moaas, f"{moaas}")
    _dissociation(add, required("dissociation_resolved"), cadss_pre_dose, cadss_latest)

    alarms = assess([latest_vitals], phase="recovery", baseline=baseline, overrides=limit_ovr)
    if latest_vitals.systolic_bp is None or latest_vitals.diastolic_bp is None:
        add(
            "vitals_within_limits",
            False,
            "No blood pressure in the latest vital signs: chart BP before discharge",
        )
    elif alarms:
        listed = "; ".join(a.message for a in alarms)
        add("vitals_within_limits", False, f"Latest vital signs raise recovery alarms: {listed}")
    else:
        add(
            "vitals_within_limits",
            True,
            f"Latest vital signs at {latest_vitals.at_min:.0f} min raise no recovery alarm",
        )
    _near_baseline(add, criteria["vitals_near_baseline"], latest_vitals, baseline)
    spo2_min = criteria["spo2_min"].minimum or 0.0
    if latest_vitals.spo2 is None:
        add("spo2_min", False, "No SpO2 in the latest vital signs: chart SpO2 before discharge")
    else:
        met = latest_vitals.spo2 >= spo2_min
        verb = "meets" if met else "is below"
        add("spo2_min", met, f"Latest SpO2 {latest_vitals.spo2:g}% {verb} {spo2_min:g}%")
    _recorded(add, "escort_recorded", escort_recorded, "An escort home", "is recorded")
    _recorded(
        add,
        "no_driving_instruction",
        no_driving_instruction_given,
        "The no-driving instruction",
        "was given",
    )
    if open_suicidality_alert is None:
        add(
            "no_open_suicidality_alert",
            False,
            "Whether a suicidality alert is open was not checked: check before discharge",
        )
    elif open_suicidality_alert:
        add(
            "no_open_suicidality_alert",
            False,
            "An open suicidality alert must be reviewed by a clinician before the patient leaves",
        )
    else:
        add("no_open_suicidality_alert", True, "No open suicidality alert")
    return DischargeDecision(
        ready=all(r.met for r in reasons),
        reasons=tuple(reasons),
        alarms=tuple(alarms),
        overrides_applied=overrides,
    )


def _recorded(add: _Add, cid: str, value: bool | None, what: str, done: str) -> None:
    if value is None:
        add(cid, False, f"{what}: not recorded; record it before discharge")
    elif value:
        add(cid, True, f"{what} {done}")
    else:
        add(cid, False, f"{what}: recorded as not done; discharge needs it")


def _aldrete_consistency(
    add: _Add,
    criteria: Mapping[str, DischargeCriterion],
    total: int,
    items: Mapping[str, int] | None,
    latest: VitalSigns,
    baseline: VitalSigns | None,
) -> None:
    """The highest circulation and SpO2 items the vitals allow, against what was charted."""
    row = criteria["aldrete_consistent"]
    two_within = row.maximum if row.maximum is not None else 20.0
    problems: list[str] = []
    checked: list[str] = []
    if items is not None and sum(items.values()) != total:
        problems.append(f"the items add up to {sum(items.values())}, not the total {total}")
    circulation_max: int | None = None
    if latest.systolic_bp is None or baseline is None or baseline.systolic_bp is None:
        problems.append(
            "the circulation item cannot be checked without a pre-dose and a latest systolic BP"
        )
    else:
        diff = abs(latest.systolic_bp - baseline.systolic_bp)
        circulation_max = 2 if diff <= two_within else 1 if diff <= _CIRCULATION_ONE_MAX_MMHG else 0
        checked.append(
            f"systolic BP {latest.systolic_bp:g} is {diff:g} mmHg from the pre-dose "
            f"{baseline.systolic_bp:g}: circulation at most {circulation_max}"
        )
    spo2_max: int | None = None
    if latest.spo2 is None:
        problems.append("the oxygen saturation item cannot be checked without an SpO2")
    else:
        spo2 = latest.spo2
        spo2_max = 2 if spo2 > _SPO2_TWO_ABOVE else 1 if spo2 >= _SPO2_ONE_FROM else 0
        checked.append(f"SpO2 {spo2:g}%: oxygen saturation at most {spo2_max}")
    if items is not None:
        if circulation_max is not None and items["circulation"] > circulation_max:
            problems.append(
                f"circulation is charted {items['circulation']} but the BP allows at most "
                f"{circulation_max}"
            )
        if spo2_max is not None and items["oxygen_saturation"] > spo2_max:
            problems.append(
                f"oxygen saturation is charted {items['oxygen_saturation']} but the SpO2 "
                f"allows at most {spo2_max}"
            )
    elif circulation_max is not None and spo2_max is not None:
        highest = 6 + circulation_max + spo2_max
        if total > highest:
            problems.append(f"the vital signs allow a total of at most {highest}, not {total}")
    shown = "; ".join(checked)
    if problems:
        text = "Aldrete score does not agree with the charted vital signs: " + "; ".join(problems)
        add(row.id, False, text + (f" ({shown})" if shown else ""))
    else:
        add(row.id, True, f"Aldrete score agrees with the charted vital signs ({shown})")


def _near_baseline(
    add: _Add, row: DischargeCriterion, latest: VitalSigns, baseline: VitalSigns | None
) -> None:
    limit = row.maximum if row.maximum is not None else 20.0
    if baseline is None:
        add(
            row.id,
            False,
            "No pre-dose baseline vital signs: the comparison with baseline is needed",
        )
        return
    problems: list[str] = []
    shown: list[str] = []
    for parameter in _BASELINE_PARAMETERS:
        now, before = latest.get(parameter), baseline.get(parameter)
        name = LABELS[parameter]
        if before is None:
            problems.append(f"no pre-dose {name.lower()}")
            continue
        if now is None:
            problems.append(f"{name.lower()} not in the latest vital signs")
            continue
        pct = (now - before) / before * 100.0
        words = f"{name} {now:g} {UNITS[parameter]} is {pct:+.1f}% from the pre-dose {before:g}"
        # Compared without dividing, so that a value exactly at the limit counts as within.
        outside = abs(now - before) * 100.0 > limit * before
        (problems if outside else shown).append(words)
    if problems:
        add(
            row.id,
            False,
            f"Not within {limit:g}% of the pre-dose baseline: " + "; ".join(problems),
        )
    else:
        add(row.id, True, f"Within {limit:g}% of the pre-dose baseline: " + "; ".join(shown))


def _dissociation(
    add: _Add, is_required: bool, pre_dose: float | None, latest: float | None
) -> None:
    if latest is None:
        if is_required:
            add(
                "dissociation_resolved",
                False,
                "No CADSS charted after dosing: chart one to show dissociation has resolved",
            )
        return
    reference = pre_dose if pre_dose is not None else 0.0
    met = latest <= reference
    verb = "is back to" if met else "is above"
    add("dissociation_resolved", met, f"Latest CADSS {latest:g} {verb} the pre-dose {reference:g}")
