"""Dosing: protocols as declared rows, dose weight, dose, volumes and pump rates.

``protocols()`` returns the protocol table with a clinic's overrides applied; ``plan()``
computes one session's dose with every step of the arithmetic written out for a hand
check; ``check_order()`` refuses an order field outside its sourced plausible range
(``ORDER_RANGES``) with an ``OrderFieldError`` naming the field; ``device_mg()`` and
``device_interval_min()`` give the nasal device size and spacing from the protocol row.
The rounding rule (``dosing.arithmetic``) and the infusion volume rule (``dosing.plan``)
are stated in those modules and in the steps of every plan.
"""

from ketaclinic.clinical.dosing.arithmetic import ROUNDING_RULE
from ketaclinic.clinical.dosing.orders import ORDER_FIELDS, OrderFieldError, order_ranges
from ketaclinic.clinical.dosing.plan import (
    DosePlan,
    check_order,
    device_interval_min,
    device_mg,
    input_limits,
    plan,
    protocols,
)
from ketaclinic.clinical.dosing.table import (
    DEVINE,
    DEVINE_EVIDENCE,
    INPUT_LIMITS,
    ORDER_RANGES,
    PROTOCOLS,
    Citation,
    InputLimits,
    OrderRange,
    Protocol,
    SchedulePhase,
)
from ketaclinic.clinical.dosing.weight import choose_dose_weight, ideal_body_weight

__all__ = [
    "DEVINE",
    "DEVINE_EVIDENCE",
    "INPUT_LIMITS",
    "ORDER_FIELDS",
    "ORDER_RANGES",
    "PROTOCOLS",
    "ROUNDING_RULE",
    "Citation",
    "DosePlan",
    "InputLimits",
    "OrderFieldError",
    "OrderRange",
    "Protocol",
    "SchedulePhase",
    "check_order",
    "choose_dose_weight",
    "device_interval_min",
    "device_mg",
    "ideal_body_weight",
    "input_limits",
    "order_ranges",
    "plan",
    "protocols",
]
