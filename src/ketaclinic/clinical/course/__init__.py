"""The course of treatment: response and remission, course evaluation, and medication
interactions.

Scores are plain numbers with an instrument id (questionnaire scoring belongs to
``ketaclinic.clinical.instruments``); days are passed in by the caller. Every
definition, series plan and interaction is a row of a declared table carrying its source
and evidence mark; a clinic changes rows through ``overrides``.
"""

from ketaclinic.clinical.course.evaluation import (
    PRIMARY_ORDER,
    SERIES,
    CourseStatus,
    Score,
    SeriesPlan,
    SessionRecord,
    evaluate,
)
from ketaclinic.clinical.course.medications import (
    INTERACTIONS,
    Finding,
    Interaction,
    MedicationReport,
    check_medications,
)
from ketaclinic.clinical.course.names import ALIASES, BRANDS, normalise
from ketaclinic.clinical.course.outcomes import (
    INSTRUMENTS,
    RULES,
    Classification,
    OutcomeInstrument,
    Rule,
    classify,
)

__all__ = [
    "ALIASES",
    "BRANDS",
    "INSTRUMENTS",
    "INTERACTIONS",
    "PRIMARY_ORDER",
    "RULES",
    "SERIES",
    "Classification",
    "CourseStatus",
    "Finding",
    "Interaction",
    "MedicationReport",
    "OutcomeInstrument",
    "Rule",
    "Score",
    "SeriesPlan",
    "SessionRecord",
    "check_medications",
    "classify",
    "evaluate",
    "normalise",
]
