"""The clinic's scheduling rules and how long an appointment holds a chair and a nurse.

Treatment time comes from the signed order (and the dosing protocol for esketamine);
recovery time is the minimum observation time of the clinical core's discharge table.
Nothing here retypes a clinical number. The two clinic settings below are conventions a
clinic sets through ``KETACLINIC_SCHEDULING_*`` environment variables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ketaclinic.clinical import dosing, monitoring
from ketaclinic.clinical.dosing import Protocol
from ketaclinic.clinical.overrides import Override, apply

Kind = Literal["infusion", "esketamine", "consultation"]
KINDS: tuple[Kind, ...] = ("infusion", "esketamine", "consultation")
TREATMENT_KINDS: frozenset[str] = frozenset({"infusion", "esketamine"})
KIND_LABELS = {
    "infusion": "IV infusion",
    "esketamine": "Esketamine",
    "consultation": "Consultation",
    "therapy": "Therapy session",
}
# Which row of monitoring.DISCHARGE_CRITERIA gives each kind's minimum observation time.
OBSERVATION_CRITERION = {
    "infusion": "observation_iv_min",
    "esketamine": "observation_esketamine_min",
}


@dataclass(frozen=True)
class Setting:
    """A clinic scheduling default with its source and evidence mark."""

    value: int
    source: str
    evidence: str


PATIENTS_PER_NURSE = Setting(
    1,
    "convention: one-to-one observation during dissociation (no primary source found)",
    "convention",
)
CONSULTATION_MIN = Setting(
    60,
    "convention: a first psychiatric evaluation commonly takes about an hour",
    "convention",
)


class _Env(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KETACLINIC_SCHEDULING_", extra="ignore")

    patients_per_nurse: int = Field(default=PATIENTS_PER_NURSE.value, ge=1, le=10)
    consultation_min: int = Field(default=CONSULTATION_MIN.value, ge=10, le=480)


@dataclass(frozen=True)
class SchedulingRules:
    """What booking checks against. ``clinical_overrides`` are the clinic's overrides of
    the dosing protocols and discharge criteria (for example a ``min_spacing_hours``)."""

    patients_per_nurse: int = PATIENTS_PER_NURSE.value
    consultation_min: int = CONSULTATION_MIN.value
    clinical_overrides: tuple[Override, ...] = field(default=())

    def protocol(self, protocol_id: str) -> Protocol | None:
        for row in dosing.protocols(self._for(p.id for p in dosing.PROTOCOLS)):
            if row.id == protocol_id:
                return row
        return None

    def observation_min(self, kind: str) -> int:
        criteria = apply(
            monitoring.DISCHARGE_CRITERIA, self._for(monitoring.DISCHARGE_CRITERIA.keys())
        )
        minimum = criteria[OBSERVATION_CRITERION[kind]].minimum
        if minimum is None:
            raise ValueError(f"discharge criterion for {kind} has no minimum")
        return round(minimum)

    def _for(self, targets: Iterable[str]) -> tuple[Override, ...]:
        wanted = set(targets)
        return tuple(o for o in self.clinical_overrides if o.target in wanted)


@lru_cache
def clinic_rules() -> SchedulingRules:
    env = _Env()
    return SchedulingRules(
        patients_per_nurse=env.patients_per_nurse, consultation_min=env.consultation_min
    )
