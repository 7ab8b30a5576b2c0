"""Vital-sign readings and the vocabulary shared by the monitoring modules.

Times are minutes from a reference the caller chooses (normally the start of the
session, that is the moment the infusion or the first nasal device starts): the core
never reads a clock. A reading whose numbers cannot be a real measurement is refused
with a ``ValueError`` naming the field, so that an artefact (a probe off the finger, a
cuff typed as 1200) never silently becomes, or hides, an alarm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Literal

Evidence = Literal["confirmed", "secondary", "convention"]
Phase = Literal["pre_infusion", "infusion", "recovery"]
Level = Literal["warn", "pause", "stop", "no_go"]
Parameter = Literal["heart_rate", "systolic_bp", "diastolic_bp", "spo2", "respiratory_rate"]
Route = Literal["iv", "esketamine_nasal"]
# What an alarm may be about besides a vital sign: a charted symptom or a MOAA/S rating.
Observation = Literal["symptom", "moaas"]

PHASES: tuple[Phase, ...] = ("pre_infusion", "infusion", "recovery")
PARAMETERS: tuple[Parameter, ...] = (
    "heart_rate",
    "systolic_bp",
    "diastolic_bp",
    "spo2",
    "respiratory_rate",
)
ROUTES: tuple[Route, ...] = ("iv", "esketamine_nasal")

UNITS: dict[Parameter, str] = {
    "heart_rate": "/min",
    "systolic_bp": "mmHg",
    "diastolic_bp": "mmHg",
    "spo2": "%",
    "respiratory_rate": "/min",
}

LABELS: dict[Parameter, str] = {
    "heart_rate": "Heart rate",
    "systolic_bp": "Systolic BP",
    "diastolic_bp": "Diastolic BP",
    "spo2": "SpO2",
    "respiratory_rate": "Respiratory rate",
}

# Input validation, not clinical limits: values outside these inclusive ranges are
# taken as charting or device errors and refused. They are deliberately wide (a real
# value outside them is not compatible with a patient sitting in an infusion chair).
PLAUSIBLE_RANGES: dict[Parameter, tuple[float, float]] = {
    "heart_rate": (20.0, 300.0),
    "systolic_bp": (40.0, 300.0),
    "diastolic_bp": (15.0, 200.0),
    "spo2": (50.0, 100.0),
    "respiratory_rate": (2.0, 80.0),
}


@dataclass(frozen=True)
class VitalSigns:
    """One set of vital signs charted at ``at_min`` minutes from the session reference.

    Every measurement is optional: a nurse may chart BP alone, a monitor may send SpO2
    alone. Construction refuses implausible values (``ValueError`` naming the field).
    """

    at_min: float
    heart_rate: float | None = None
    systolic_bp: float | None = None
    diastolic_bp: float | None = None
    spo2: float | None = None
    respiratory_rate: float | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.at_min):
            raise ValueError(f"at_min must be a finite number of minutes, got {self.at_min!r}")
        for name in PARAMETERS:
            value = getattr(self, name)
            if value is None:
                continue
            low, high = PLAUSIBLE_RANGES[name]
            if not math.isfinite(value) or not low <= value <= high:
                raise ValueError(
                    f"implausible {name}: {value!r} (accepted {low:g} to {high:g} "
                    f"{UNITS[name]}); check the device or the charting"
                )
        if (
            self.systolic_bp is not None
            and self.diastolic_bp is not None
            and self.systolic_bp <= self.diastolic_bp
        ):
            raise ValueError(
                f"implausible systolic_bp: {self.systolic_bp:g} is not above "
                f"diastolic_bp {self.diastolic_bp:g}"
            )

    @classmethod
    def charted(
        cls,
        at_min: float,
        heart_rate: float | None,
        systolic_bp: float | None,
        diastolic_bp: float | None,
        spo2: float | None,
        respiratory_rate: float | None,
    ) -> VitalSigns:
        """A reading that passed these same checks when it was charted (the chart holds
        only such readings: its charting refuses a value outside ``PLAUSIBLE_RANGES``
        and a systolic not above its diastolic), made without checking it again. The
        alarm rules see a monitor's readings again with every group that follows them,
        and the checks cost more than the rules. ``at_min``, the caller's difference of two
        charted times, is finite."""
        made = object.__new__(cls)
        # A frozen dataclass refuses attribute assignment; its fields live in the
        # instance dictionary, filled here as the generated ``__init__`` would.
        vars(made).update(
            at_min=at_min,
            heart_rate=heart_rate,
            systolic_bp=systolic_bp,
            diastolic_bp=diastolic_bp,
            spo2=spo2,
            respiratory_rate=respiratory_rate,
        )
        return made

    def get(self, parameter: Parameter) -> float | None:
        """The value of one parameter, or ``None`` where it was not charted."""
        value: float | None = getattr(self, parameter)
        return value

    def is_empty(self) -> bool:
        """True where no measurement at all was charted."""
        return all(getattr(self, f.name) is None for f in fields(self) if f.name != "at_min")


def check_phase(phase: str) -> Phase:
    for known in PHASES:
        if phase == known:
            return known
    raise ValueError(f"unknown phase {phase!r}; expected one of {', '.join(PHASES)}")


def check_route(route: str) -> Route:
    for known in ROUTES:
        if route == known:
            return known
    raise ValueError(f"unknown route {route!r}; expected one of {', '.join(ROUTES)}")
