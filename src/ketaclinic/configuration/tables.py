"""Which clinical tables a clinic may override, and which fields of their rows."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ketaclinic.clinical import calendar, consent, controlled, disclosure, monitoring, records
from ketaclinic.clinical.codes import billing as billing_codes
from ketaclinic.clinical.codes import estimates as estimate_rules
from ketaclinic.clinical.codes import mdc
from ketaclinic.clinical.course import evaluation as course_evaluation
from ketaclinic.clinical.course import outcomes as course_outcomes
from ketaclinic.clinical.course import plan as course_plan
from ketaclinic.clinical.dosing import table as dosing_table
from ketaclinic.clinical.screening import table as screening_table

# Fields that describe a row rather than set a number a clinic may want to change.
NOT_OVERRIDABLE = frozenset({"id", "source", "evidence", "infusion"})


@dataclass(frozen=True)
class Table:
    key: str  # "<clinical module>.<table>", the name areas ask overrides for
    title: str
    rows: Callable[[], Mapping[str, Any]]


def _by_id(rows: tuple[Any, ...]) -> dict[str, Any]:
    return {row.id: row for row in rows}


TABLES: dict[str, Table] = {
    t.key: t
    for t in (
        Table("screening.rules", "Candidacy rules", lambda: _by_id(screening_table.RULES)),
        Table("dosing.protocols", "Treatment protocols", lambda: _by_id(dosing_table.PROTOCOLS)),
        Table(
            "dosing.input_limits",
            "Dose plan input checks",
            lambda: _by_id(dosing_table.INPUT_LIMITS),
        ),
        Table(
            "dosing.order_ranges",
            "Order field plausible ranges",
            lambda: _by_id(dosing_table.ORDER_RANGES),
        ),
        Table("monitoring.limits", "Vital-sign alarm limits", lambda: monitoring.LIMITS),
        Table(
            "monitoring.symptoms",
            "Symptoms that escalate at once",
            lambda: monitoring.SYMPTOM_TRIGGERS,
        ),
        Table(
            "monitoring.sedation",
            "Sedation (MOAA/S) triggers",
            lambda: monitoring.SEDATION_TRIGGERS,
        ),
        Table(
            "monitoring.acknowledgement",
            "What an alarm's acknowledgement needs",
            lambda: monitoring.ACKNOWLEDGEMENT,
        ),
        Table(
            "monitoring.prescriber_calls",
            "Alarms that call the prescriber, and when they escalate",
            lambda: monitoring.PRESCRIBER_CALLS,
        ),
        Table("monitoring.discharge", "Discharge criteria", lambda: monitoring.DISCHARGE_CRITERIA),
        Table("monitoring.schedules", "Vital-sign reading schedules", lambda: monitoring.SCHEDULES),
        Table(
            "course.rules", "Response, remission and relapse rules", lambda: course_outcomes.RULES
        ),
        Table(
            "course.instruments",
            "Outcome cut-offs per instrument",
            lambda: course_outcomes.INSTRUMENTS,
        ),
        Table("course.series", "Treatment series plans", lambda: course_evaluation.SERIES),
        Table("controlled.rules", "Controlled-substance ledger rules", lambda: controlled.RULES),
        Table(
            "course.maintenance",
            "Maintenance booster schedules",
            lambda: course_plan.MAINTENANCE,
        ),
        Table(
            "course.relapse", "Relapse rules that propose a booster", lambda: course_plan.RELAPSE
        ),
        Table(
            "course.escalation",
            "When an unanswered booster proposal or course decision goes to every prescriber",
            lambda: course_plan.ESCALATION,
        ),
        Table(
            "course.therapy_phases",
            "Psychotherapy phases and booked lengths",
            lambda: course_plan.THERAPY_PHASES,
        ),
        Table(
            "course.planning_limits",
            "The most sessions one course decision plans at once",
            lambda: course_plan.PLANNING_LIMITS,
        ),
        Table(
            "course.preparation",
            "Preparation therapy notes required before a course's first dose",
            lambda: course_plan.PREPARATION,
        ),
        Table("codes.mdc", "Bedside monitor codes (IEEE 11073 MDC)", lambda: mdc.MDC),
        Table(
            "codes.mdc_units",
            "Bedside monitor units converted (IEEE 11073 MDC)",
            lambda: mdc.CONVERTED_UNITS,
        ),
        Table("billing.codes", "Billing codes (CPT, HCPCS), dated", lambda: billing_codes.CODES),
        Table(
            "billing.diagnoses",
            "Diagnosis codes (ICD-10-CM) for the indications",
            lambda: billing_codes.DIAGNOSES,
        ),
        Table(
            "billing.estimate_timelines",
            "Good-faith estimate deadlines (No Surprises Act)",
            lambda: estimate_rules.TIMELINES,
        ),
        Table(
            "billing.dispute",
            "When a bill over its estimate may be disputed",
            lambda: estimate_rules.DISPUTE,
        ),
        Table(
            "calendar.holidays",
            "Holidays that are not business days (US federal, observed)",
            lambda: calendar.HOLIDAYS,
        ),
        Table(
            "consent.requirements",
            "Signed consents each protocol requires",
            lambda: consent.REQUIREMENTS,
        ),
        Table(
            "records.bulk_export",
            "FHIR bulk export: how long its files are kept, how often it is tried",
            lambda: records.BULK_EXPORT,
        ),
        Table(
            "consent.readiness",
            "Day-before readiness windows (food, liquids, nasal sprays)",
            lambda: consent.WINDOWS,
        ),
        Table(
            "disclosure.suppression",
            "Small cells suppressed in research tables",
            lambda: disclosure.SUPPRESSION,
        ),
    )
}


def _scalar_kind(hint: Any) -> type | None:
    """int, float or bool when the field holds one of them (optionally None), else None."""
    union = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
    kinds = [a for a in (typing.get_args(hint) if union else (hint,)) if a is not type(None)]
    if len(kinds) == 1 and kinds[0] in (int, float, bool):
        return typing.cast(type, kinds[0])
    return None


def editable_fields(row: Any) -> dict[str, type]:
    """Numeric and yes/no fields of a row, with the type a new value must have."""
    try:
        hints = typing.get_type_hints(type(row))
    except (NameError, TypeError):  # an annotation that cannot be resolved: use the value
        hints = {}
    fields: dict[str, type] = {}
    for field in dataclasses.fields(row):
        if field.name in NOT_OVERRIDABLE:
            continue
        value = getattr(row, field.name)
        if field.name in hints:
            kind = _scalar_kind(hints[field.name])
        else:
            kind = type(value) if type(value) in (int, float, bool) else None
        if kind is not None:
            fields[field.name] = kind
    return fields


def coerce(kind: type, text: str) -> int | float | bool | None:
    """Turn what a person typed into the field's type, or raise ValueError saying why."""
    value = text.strip()
    if value.lower() in ("", "none", "blank"):
        return None
    if kind is bool:
        if value.lower() in ("yes", "true", "1"):
            return True
        if value.lower() in ("no", "false", "0"):
            return False
        raise ValueError("answer yes or no")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None
    if kind is int:
        if number != int(number):
            raise ValueError("a whole number is needed")
        return int(number)
    return number
