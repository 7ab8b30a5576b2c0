"""Observations that are not vital signs and escalate on their own: symptoms staff record,
and the sedation rating (MOAA/S).

Two declared tables, each row carrying its source and evidence mark:

- ``SYMPTOM_TRIGGERS``: a symptom charted during dosing or recovery (chest pain, sudden
  severe headache, ...) escalates at once, whatever the blood pressure: the esketamine
  label sends a patient with symptoms of a hypertensive crisis or hypertensive
  encephalopathy to emergency care.
- ``SEDATION_TRIGGERS``: a MOAA/S rating at or below a threshold (deep sedation, loss of
  consciousness) escalates; a moderate level asks for closer watching.

``assess_observations`` returns the same ``Alarm`` shape as the vital-sign limits, with
``parameter`` ``"symptom"`` or ``"moaas"``, so an area stores and shows both the same way.
The clinician decides; these are prompts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from ketaclinic.clinical.monitoring.limits import LEVEL_RANK, Alarm, Comparison
from ketaclinic.clinical.monitoring.vitals import Evidence, Level, Phase, check_phase
from ketaclinic.clinical.overrides import Override, apply

_DOSING_AND_AFTER: tuple[Phase, ...] = ("infusion", "recovery")

_SPRAVATO_56_SYMPTOMS = (
    "SPRAVATO (esketamine) US prescribing information 5.6: patients with symptoms of a "
    "hypertensive crisis (e.g. chest pain, shortness of breath) or hypertensive "
    "encephalopathy (e.g. sudden severe headache, visual disturbances, seizures, diminished "
    "consciousness or focal neurological deficits) should be referred immediately for "
    "emergency care. Referral to emergency care is confirmed in clinical-reference section "
    "10; the list of example symptoms is the label's wording as recalled, not re-read here"
)
_RESP_BOXED = (
    "SPRAVATO (esketamine) US prescribing information, boxed warning: respiratory "
    "depression; the SPRAVATO REMS patient monitoring form records breathing observations"
)
_ASA_CONTINUUM = (
    "American Society of Anesthesiologists, Continuum of Depth of Sedation (deep sedation: "
    "purposeful response only after repeated or painful stimulation; general anaesthesia: "
    "not rousable even by painful stimulus), mapped onto MOAA/S (Chernik DA et al., J Clin "
    "Psychopharmacol 1990;10:244-251: 1 = responds only to trapezius squeeze, 0 = no "
    "response); MOAA/S 0 is the loss of consciousness counted in the esketamine trials "
    "(SPRAVATO prescribing information: 0.3-0.4% of patients). The mapping is clinic "
    "convention"
)
_ASA_MODERATE = (
    "American Society of Anesthesiologists, Continuum of Depth of Sedation (moderate "
    "sedation: purposeful response to verbal or tactile stimulation) mapped onto MOAA/S 3 "
    "(responds only to loud or repeated name) and 2 (only to mild prodding) (Chernik 1990); "
    "sedation on MOAA/S in 48-61% of esketamine patients (SPRAVATO prescribing "
    "information). The mapping and the warn level are clinic convention"
)

_EMERGENCY = (
    "Escalate now: stop (or keep stopped) dosing, check BP, SpO2 and pulse at once, call the "
    "prescriber to assess; arrange emergency care (label: refer immediately)"
)


@dataclass(frozen=True)
class SymptomTrigger:
    """A symptom that, once charted, escalates at ``level``."""

    id: str
    label: str
    phases: tuple[Phase, ...]
    level: Level
    action: str
    source: str
    evidence: Evidence


@dataclass(frozen=True)
class SedationTrigger:
    """A MOAA/S rating ``comparison threshold`` raises ``level``."""

    id: str
    phases: tuple[Phase, ...]
    comparison: Comparison
    threshold: float
    level: Level
    action: str
    source: str
    evidence: Evidence


def _symptom(id: str, label: str, action: str = _EMERGENCY) -> tuple[str, SymptomTrigger]:
    return id, SymptomTrigger(
        id=id,
        label=label,
        phases=_DOSING_AND_AFTER,
        level="stop",
        action=action,
        source=_SPRAVATO_56_SYMPTOMS,
        evidence="secondary",
    )


SYMPTOM_TRIGGERS: dict[str, SymptomTrigger] = dict(
    [
        _symptom("chest_pain", "Chest pain"),
        _symptom("shortness_of_breath", "Shortness of breath"),
        _symptom("severe_headache", "Sudden severe headache"),
        _symptom("visual_disturbance", "Visual disturbance"),
        _symptom("seizure", "Seizure"),
        _symptom(
            "focal_neurological_deficit",
            "Focal neurological deficit (weakness, numbness, speech or facial droop)",
        ),
        _symptom("diminished_consciousness", "Diminished consciousness or confusion"),
    ]
)

SEDATION_TRIGGERS: dict[str, SedationTrigger] = {
    "moaas_deep_sedation": SedationTrigger(
        id="moaas_deep_sedation",
        phases=_DOSING_AND_AFTER,
        comparison="<=",
        threshold=1,
        level="stop",
        action=(
            "Escalate now: stop (or keep stopped) dosing, support the airway, give oxygen, "
            "check SpO2 and respiratory rate continuously, call the prescriber at once"
        ),
        source=_ASA_CONTINUUM + "; " + _RESP_BOXED,
        evidence="convention",
    ),
    "moaas_moderate_sedation": SedationTrigger(
        id="moaas_moderate_sedation",
        phases=_DOSING_AND_AFTER,
        comparison="<=",
        threshold=3,
        level="warn",
        action=(
            "Watch closely: continuous SpO2, count breathing, rate MOAA/S again within "
            "5 minutes; tell the prescriber"
        ),
        source=_ASA_MODERATE,
        evidence="convention",
    ),
}


def symptom_triggers(overrides: Iterable[Override] = ()) -> list[SymptomTrigger]:
    """The symptom table with the clinic's overrides applied (the list staff pick from)."""
    return list(apply(SYMPTOM_TRIGGERS, overrides).values())


def sedation_triggers(overrides: Iterable[Override] = ()) -> list[SedationTrigger]:
    """The sedation table with the clinic's overrides applied."""
    return list(apply(SEDATION_TRIGGERS, overrides).values())


def _crosses(value: float, comparison: Comparison, threshold: float) -> bool:
    return {
        ">": value > threshold,
        ">=": value >= threshold,
        "<": value < threshold,
        "<=": value <= threshold,
    }[comparison]


def assess_observations(
    *,
    phase: str,
    at_min: float,
    symptoms: Iterable[str] = (),
    moaas: int | None = None,
    overrides: Iterable[Override] = (),
) -> list[Alarm]:
    """Alarms raised by symptoms and a MOAA/S rating charted at ``at_min``.

    ``symptoms`` are ids of ``SYMPTOM_TRIGGERS``; an unknown id is a ``ValueError`` (a
    symptom must never be silently dropped). ``moaas`` is 0-5. Only the most severe
    sedation row that fires is returned (deep sedation supersedes moderate). ``overrides``
    may name rows of either table. Alarms come most severe first.
    """
    known_phase = check_phase(phase)
    if not math.isfinite(at_min):
        raise ValueError(f"at_min must be a finite number of minutes, got {at_min!r}")
    if moaas is not None and (isinstance(moaas, bool) or not 0 <= moaas <= 5):
        raise ValueError(f"moaas must be 0 to 5, got {moaas!r}")
    overrides = tuple(overrides)
    symptom_table = apply(SYMPTOM_TRIGGERS, [o for o in overrides if o.target in SYMPTOM_TRIGGERS])
    sedation_table = apply(
        SEDATION_TRIGGERS, [o for o in overrides if o.target in SEDATION_TRIGGERS]
    )
    stray = [o.target for o in overrides if o.target not in symptom_table | sedation_table]
    if stray:
        raise ValueError(f"override names unknown row {stray[0]!r}")
    alarms: list[Alarm] = []
    for symptom_id in dict.fromkeys(symptoms):
        if symptom_id not in symptom_table:
            raise ValueError(
                f"unknown symptom {symptom_id!r}; expected one of {', '.join(symptom_table)}"
            )
        symptom = symptom_table[symptom_id]
        if known_phase not in symptom.phases:
            continue
        alarms.append(
            Alarm(
                level=symptom.level,
                parameter="symptom",
                value=1.0,
                limit=1.0,
                comparison=">=",
                at_min=at_min,
                action=symptom.action,
                rule_id=symptom.id,
                source=symptom.source,
                evidence=symptom.evidence,
                message=f"{symptom.label} charted at {at_min:.0f} min: escalates at once",
                confirmed_over_min=0.0,
                overrides=tuple(o for o in overrides if o.target == symptom.id),
            )
        )
    if moaas is not None:
        fired = [
            row
            for row in sedation_table.values()
            if known_phase in row.phases and _crosses(moaas, row.comparison, row.threshold)
        ]
        if fired:
            row = max(fired, key=lambda r: LEVEL_RANK[r.level])
            alarms.append(
                Alarm(
                    level=row.level,
                    parameter="moaas",
                    value=float(moaas),
                    limit=row.threshold,
                    comparison=row.comparison,
                    at_min=at_min,
                    action=row.action,
                    rule_id=row.id,
                    source=row.source,
                    evidence=row.evidence,
                    message=(
                        f"MOAA/S {moaas} at {at_min:.0f} min: MOAA/S {row.comparison} "
                        f"{row.threshold:g}"
                    ),
                    confirmed_over_min=0.0,
                    overrides=tuple(o for o in overrides if o.target == row.id),
                )
            )
    alarms.sort(key=lambda a: (-LEVEL_RANK[a.level], a.rule_id))
    return alarms
