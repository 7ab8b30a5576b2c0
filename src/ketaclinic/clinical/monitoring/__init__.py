"""Session monitoring: vital-sign limits and alarms, symptom and sedation triggers, reading
schedule, discharge readiness and the side-effect vocabulary.

Times are minutes from the start of dosing, passed in by the caller; nothing here reads
a clock. Every limit and criterion is a row of a declared table carrying its source and
evidence mark ("confirmed", "secondary" or "convention"); a clinic changes rows through
``overrides`` and every result names the overrides it used.
"""

from ketaclinic.clinical.monitoring.discharge import (
    ALDRETE_ITEMS,
    DISCHARGE_CRITERIA,
    DischargeCriterion,
    DischargeDecision,
    Reason,
    discharge_ready,
)
from ketaclinic.clinical.monitoring.escalation import (
    ACKNOWLEDGEMENT,
    PRESCRIBER_CALLS,
    AcknowledgementRule,
    PrescriberCallRule,
    acknowledgement_rule,
    prescriber_call_rules,
)
from ketaclinic.clinical.monitoring.limits import (
    LIMITS,
    Alarm,
    Limit,
    Reassessment,
    assess,
    assess_new,
    limits,
    lookback_min,
    only,
    prior_window,
    reassess,
    settle,
    settled,
    unsettled,
    uses_baseline,
)
from ketaclinic.clinical.monitoring.schedule import (
    SCHEDULES,
    ScheduledReading,
    ScheduleRule,
    pre_dose_window,
    reading_schedule,
    schedule_status,
)
from ketaclinic.clinical.monitoring.side_effects import SIDE_EFFECTS, SideEffect, side_effects
from ketaclinic.clinical.monitoring.triggers import (
    SEDATION_TRIGGERS,
    SYMPTOM_TRIGGERS,
    SedationTrigger,
    SymptomTrigger,
    assess_observations,
    sedation_triggers,
    symptom_triggers,
)
from ketaclinic.clinical.monitoring.vitals import (
    PLAUSIBLE_RANGES,
    Evidence,
    Level,
    Observation,
    Parameter,
    Phase,
    Route,
    VitalSigns,
)

__all__ = [
    "ALDRETE_ITEMS",
    "DISCHARGE_CRITERIA",
    "LIMITS",
    "PLAUSIBLE_RANGES",
    "SCHEDULES",
    "ACKNOWLEDGEMENT",
    "AcknowledgementRule",
    "acknowledgement_rule",
    "PRESCRIBER_CALLS",
    "PrescriberCallRule",
    "prescriber_call_rules",
    "SEDATION_TRIGGERS",
    "SIDE_EFFECTS",
    "SYMPTOM_TRIGGERS",
    "Alarm",
    "DischargeCriterion",
    "DischargeDecision",
    "Evidence",
    "Level",
    "Limit",
    "Observation",
    "Parameter",
    "Phase",
    "Reason",
    "Reassessment",
    "Route",
    "ScheduleRule",
    "ScheduledReading",
    "SedationTrigger",
    "SideEffect",
    "SymptomTrigger",
    "VitalSigns",
    "assess",
    "assess_new",
    "assess_observations",
    "discharge_ready",
    "limits",
    "lookback_min",
    "only",
    "pre_dose_window",
    "prior_window",
    "reading_schedule",
    "reassess",
    "schedule_status",
    "settle",
    "settled",
    "sedation_triggers",
    "side_effects",
    "symptom_triggers",
    "unsettled",
    "uses_baseline",
]
