"""Session monitoring: vital-sign limits and alarms, reading schedule, discharge readiness
and the side-effect vocabulary.

Times are minutes from the start of dosing, passed in by the caller; nothing here reads
a clock. Every limit and criterion is a row of a declared table carrying its source and
evidence mark ("confirmed", "secondary" or "convention"); a clinic changes rows through
``overrides`` and every result names the overrides it used.
"""

from ketaclinic.clinical.monitoring.discharge import (
    DISCHARGE_CRITERIA,
    DischargeCriterion,
    DischargeDecision,
    Reason,
    discharge_ready,
)
from ketaclinic.clinical.monitoring.limits import LIMITS, Alarm, Limit, assess, limits
from ketaclinic.clinical.monitoring.schedule import (
    SCHEDULES,
    ScheduledReading,
    ScheduleRule,
    reading_schedule,
    schedule_status,
)
from ketaclinic.clinical.monitoring.side_effects import SIDE_EFFECTS, SideEffect, side_effects
from ketaclinic.clinical.monitoring.vitals import (
    PLAUSIBLE_RANGES,
    Evidence,
    Level,
    Parameter,
    Phase,
    Route,
    VitalSigns,
)

__all__ = [
    "DISCHARGE_CRITERIA",
    "LIMITS",
    "PLAUSIBLE_RANGES",
    "SCHEDULES",
    "SIDE_EFFECTS",
    "Alarm",
    "DischargeCriterion",
    "DischargeDecision",
    "Evidence",
    "Level",
    "Limit",
    "Parameter",
    "Phase",
    "Reason",
    "Route",
    "ScheduleRule",
    "ScheduledReading",
    "SideEffect",
    "VitalSigns",
    "assess",
    "discharge_ready",
    "limits",
    "reading_schedule",
    "schedule_status",
    "side_effects",
]
