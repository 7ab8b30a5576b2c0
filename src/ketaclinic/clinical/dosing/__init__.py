"""Dosing: protocols as declared rows, dose weight, dose, volumes and pump rates.

``protocols()`` returns the protocol table with a clinic's overrides applied; ``plan()``
computes one session's dose with every step of the arithmetic written out for a hand
check. The rounding rule (``dosing.arithmetic``) and the infusion volume rule (``dosing.plan``)
are stated in those modules and in the steps of every plan.
"""

from ketaclinic.clinical.dosing.arithmetic import ROUNDING_RULE
from ketaclinic.clinical.dosing.plan import (
    DosePlan,
    input_limits,
    plan,
    protocols,
)
from ketaclinic.clinical.dosing.table import (
    DEVINE,
    DEVINE_EVIDENCE,
    INPUT_LIMITS,
    PROTOCOLS,
    Citation,
    InputLimits,
    Protocol,
    SchedulePhase,
)
from ketaclinic.clinical.dosing.weight import choose_dose_weight, ideal_body_weight

__all__ = [
    "DEVINE",
    "DEVINE_EVIDENCE",
    "INPUT_LIMITS",
    "PROTOCOLS",
    "ROUNDING_RULE",
    "Citation",
    "DosePlan",
    "InputLimits",
    "Protocol",
    "SchedulePhase",
    "choose_dose_weight",
    "ideal_body_weight",
    "input_limits",
    "plan",
    "protocols",
]
