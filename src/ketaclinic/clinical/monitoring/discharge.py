"""Discharge readiness after a session: each criterion met or not, in words, with source."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ketaclinic.clinical.monitoring.limits import Alarm, assess
from ketaclinic.clinical.monitoring.vitals import Evidence, Route, VitalSigns, check_route
from ketaclinic.clinical.overrides import Override, apply


@dataclass(frozen=True)
class DischargeCriterion:
    """One default discharge criterion: a minimum that must be reached."""

    id: str
    description: str
    minimum: float | None
    routes: tuple[Route, ...]
    source: str
    evidence: Evidence


_ALL: tuple[Route, ...] = ("iv", "esketamine_nasal")

DISCHARGE_CRITERIA: dict[str, DischargeCriterion] = {
    "aldrete_min": DischargeCriterion(
        id="aldrete_min",
        description="Modified Aldrete score",
        minimum=9,
        routes=_ALL,
        source="Aldrete JA, J Clin Anesth 1995;7:89-91: discharge at a score of 9 or more",
        evidence="confirmed",
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
        routes=("esketamine_nasal",),
        source=(
            "SPRAVATO US prescribing information (boxed warning): monitor for at least 2 "
            "hours at each treatment session, then assess clinical stability"
        ),
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
}


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


def discharge_ready(
    *,
    route: str,
    aldrete_total: int,
    minutes_since_dose_end: float,
    latest_vitals: VitalSigns,
    baseline: VitalSigns | None = None,
    moaas: int | None = None,
    overrides: Iterable[Override] = (),
) -> DischargeDecision:
    """Whether the patient meets the discharge criteria for ``route``.

    ``minutes_since_dose_end``: since the end of the infusion (IV) or the last nasal
    device (esketamine; counting from the last device is the stricter reading of the
    label). ``moaas`` is judged only when given. ``overrides`` may name rows of
    ``DISCHARGE_CRITERIA`` or of the limit table (for the vitals criterion).
    """
    known_route = check_route(route)
    if not 0 <= aldrete_total <= 10:
        raise ValueError(f"aldrete_total must be 0 to 10, got {aldrete_total!r}")
    if moaas is not None and not 0 <= moaas <= 5:
        raise ValueError(f"moaas must be 0 to 5, got {moaas!r}")
    if minutes_since_dose_end < 0:
        raise ValueError("minutes_since_dose_end must not be negative")
    overrides = tuple(overrides)
    criteria_ovr = tuple(o for o in overrides if o.target in DISCHARGE_CRITERIA)
    limit_ovr = tuple(o for o in overrides if o.target not in DISCHARGE_CRITERIA)
    criteria = apply(DISCHARGE_CRITERIA, criteria_ovr)

    reasons: list[Reason] = []

    def judge(cid: str, value: float, shown: str) -> None:
        row = criteria[cid]
        minimum = row.minimum if row.minimum is not None else 0.0
        met = value >= minimum
        verb = "meets" if met else "does not meet"
        text = f"{row.description} {shown} {verb} the minimum of {minimum:g}"
        reasons.append(Reason(cid, met, text, row.source, row.evidence))

    judge("aldrete_min", aldrete_total, f"{aldrete_total}")
    observation_id = "observation_iv_min" if known_route == "iv" else "observation_esketamine_min"
    judge(observation_id, minutes_since_dose_end, f"{minutes_since_dose_end:g}")
    if moaas is not None:
        judge("moaas_min", moaas, f"{moaas}")

    vitals_row = criteria["vitals_within_limits"]
    alarms = assess([latest_vitals], phase="recovery", baseline=baseline, overrides=limit_ovr)
    if latest_vitals.systolic_bp is None or latest_vitals.diastolic_bp is None:
        reasons.append(
            Reason(
                vitals_row.id,
                False,
                "No blood pressure in the latest vital signs: chart BP before discharge",
                vitals_row.source,
                vitals_row.evidence,
            )
        )
    elif alarms:
        listed = "; ".join(a.message for a in alarms)
        reasons.append(
            Reason(
                vitals_row.id,
                False,
                f"Latest vital signs raise recovery alarms: {listed}",
                vitals_row.source,
                vitals_row.evidence,
            )
        )
    else:
        reasons.append(
            Reason(
                vitals_row.id,
                True,
                f"Latest vital signs at {latest_vitals.at_min:g} min raise no recovery alarm",
                vitals_row.source,
                vitals_row.evidence,
            )
        )
    return DischargeDecision(
        ready=all(r.met for r in reasons),
        reasons=tuple(reasons),
        alarms=tuple(alarms),
        overrides_applied=overrides,
    )
