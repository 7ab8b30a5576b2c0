"""Clinic settings for outcomes, kept as versioned rows (who, when, why), and their
defaults declared as data with their basis."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.clinical import instruments
from ketaclinic.outcomes.models import OutcomeSetting
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.errors import Forbidden, Invalid
from ketaclinic.platform.roles import Role

Evidence = Literal["confirmed", "secondary", "convention"]
Timing = Literal[
    "baseline", "pre_session", "rapid_response", "weekly_induction", "monthly_maintenance"
]
TIMINGS: dict[str, str] = {
    "baseline": "at intake, before the first session",
    "pre_session": "before each session",
    "rapid_response": "24 hours after the first session (rapid response)",
    "weekly_induction": "weekly during the induction series",
    "monthly_maintenance": "monthly once the induction series is complete",
}
#: Contexts a response is recorded in: the schedule's timings plus ad-hoc entries.
CONTEXTS: dict[str, str] = {
    "baseline": "Baseline",
    "pre_session": "Before a session",
    "rapid_response": "24 hours after the first session",
    "weekly": "Weekly (induction)",
    "monthly": "Monthly (maintenance)",
    "visit": "Visit",
    "intake": "Intake",
}
TIMING_CONTEXT = {
    "baseline": "baseline",
    "pre_session": "pre_session",
    "rapid_response": "rapid_response",
    "weekly_induction": "weekly",
    "monthly_maintenance": "monthly",
}
INDICATIONS = (
    "treatment_resistant_depression",
    "ptsd",
    "suicidal_ideation",
    "substance_use_disorder",
)
ANY = "*"
_REF = "clinical-reference.md section 5"


@dataclass(frozen=True)
class ScheduleRule:
    """One instrument at one timing for one indication (``*``: every indication)."""

    instrument_id: str
    timing: Timing
    indication: str = ANY
    basis: str = "clinic convention"
    evidence: Evidence = "convention"

    @property
    def delivery(self) -> str:
        # Clinician-rated scales are entered by staff; the rest go to the patient.
        return (
            "staff" if instruments.get(self.instrument_id).completed_by == "clinician" else "link"
        )


_DEPRESSION = "PHQ-9 for depressive symptoms (Kroenke 2001); timing is clinic convention"
DEFAULT_SCHEDULE: tuple[ScheduleRule, ...] = (
    ScheduleRule("phq9", "baseline", ANY, _DEPRESSION),
    ScheduleRule("phq9", "pre_session", ANY, _DEPRESSION),
    ScheduleRule(
        "phq9",
        "rapid_response",
        ANY,
        f"Rapid response is usually judged 24 hours after the first infusion ({_REF}; "
        "course rule rapid_response_day)",
    ),
    ScheduleRule("phq9", "monthly_maintenance", ANY, _DEPRESSION),
    ScheduleRule("gad7", "baseline", ANY, "GAD-7 for anxiety (Spitzer 2006); timing convention"),
    ScheduleRule("gad7", "weekly_induction", ANY, "GAD-7 (Spitzer 2006); timing convention"),
    ScheduleRule("gad7", "monthly_maintenance", ANY, "GAD-7 (Spitzer 2006); timing convention"),
    ScheduleRule("pcl5", "baseline", "ptsd", "PCL-5 for PTSD (Weathers 2013); timing convention"),
    ScheduleRule("pcl5", "weekly_induction", "ptsd", "PCL-5 (Blevins 2015); timing convention"),
    ScheduleRule("pcl5", "monthly_maintenance", "ptsd", "PCL-5; timing convention"),
    ScheduleRule(
        "cssrs_screen",
        "pre_session",
        ANY,
        "C-SSRS screen before each session (Posner 2011); timing is clinic convention",
    ),
)


@dataclass(frozen=True)
class Default:
    value: Any
    basis: str
    evidence: Evidence


CRISIS_TEXT = (
    "If you are thinking about suicide or are in crisis, help is available now. "
    "In the United States: call or text 988 (988 Suicide & Crisis Lifeline, 24 hours a "
    "day). In an emergency, call 911. You can also call the clinic."
)
DEFAULTS: dict[str, Default] = {
    "escalate_after_minutes": Default(
        60,
        "Unacknowledged alerts escalate after this many minutes: clinic convention",
        "convention",
    ),
    "crisis_text": Default(
        CRISIS_TEXT,
        "US resources: 988 Suicide & Crisis Lifeline (call or text 988, since July 2022, "
        "988lifeline.org) and 911 for emergencies. Outside the US the clinic must replace it.",
        "secondary",
    ),
    "link_valid_hours": Default(
        72,
        "A questionnaire link stays usable this many hours at most: clinic convention",
        "convention",
    ),
    "tablet_link_minutes": Default(
        60, "A tablet hand-over link stays usable this long: clinic convention", "convention"
    ),
    # The address links start with is the clinic's public address, a setting of the
    # installation (KETACLINIC_PUBLIC_URL), not of this table.
    "reminder_count": Default(
        3,
        "Reminders of a questionnaire link or a visit confirmation not yet acted on: up to "
        "3, as clinics' reminder systems commonly send; clinic convention, not a sourced "
        "number",
        "convention",
    ),
    "reminder_interval_hours": Default(
        24,
        "Reminders go a day apart (after the last one was sent): clinic convention",
        "convention",
    ),
    "reminder_earliest_hour": Default(
        8,
        "Reminders wait for the clinic's morning: the US telephone-solicitation rule allows "
        "calls and texts from 8 a.m. local time (47 CFR 64.1200(c)(1)); reminders are not "
        "solicitations, so the rule is borrowed, not binding",
        "secondary",
    ),
    "reminder_latest_hour": Default(
        21,
        "... and none from 9 p.m. (47 CFR 64.1200(c)(1), borrowed as above)",
        "secondary",
    ),
    "schedule": Default(
        [asdict(r) for r in DEFAULT_SCHEDULE],
        "Default questionnaire schedule; each row names its basis",
        "convention",
    ),
}
#: Changing how alerts and the schedule work is the medical director's decision.
SETTING_ROLES = frozenset({Role.admin})


def _row(db: Session, key: str) -> OutcomeSetting | None:
    return db.scalar(
        select(OutcomeSetting)
        .where(OutcomeSetting.key == key)
        .order_by(OutcomeSetting.version.desc())
        .limit(1)
    )


def setting(db: Session, key: str) -> Any:
    row = _row(db, key)
    return row.value if row is not None else DEFAULTS[key].value


def describe(db: Session) -> list[dict[str, Any]]:
    """Every setting in force, with its default's basis and the last change."""
    found = []
    for key, default in DEFAULTS.items():
        row = _row(db, key)
        found.append(
            {
                "key": key,
                "value": row.value if row else default.value,
                "default": default,
                "changed_by": row.changed_by if row else None,
                "changed_at": row.changed_at if row else None,
                "reason": row.reason if row else None,
                "version": row.version if row else 0,
            }
        )
    return found


def schedule(db: Session) -> list[ScheduleRule]:
    return [ScheduleRule(**r) for r in setting(db, "schedule")]


def _validate(key: str, value: Any) -> Any:
    if key not in DEFAULTS:
        raise Invalid(f"unknown setting {key!r}", fields={"key": "unknown"})
    if key in (
        "escalate_after_minutes",
        "link_valid_hours",
        "tablet_link_minutes",
        "reminder_count",
        "reminder_interval_hours",
        "reminder_earliest_hour",
        "reminder_latest_hour",
    ):
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise Invalid(f"{key} must be a whole number", fields={key: "not a number"}) from None
        low, high = {
            "reminder_count": (0, 10),
            "reminder_earliest_hour": (0, 23),
            "reminder_latest_hour": (1, 24),
        }.get(key, (1, 10_080))
        if not low <= number <= high:
            raise Invalid(f"{key} must be {low} to {high}", fields={key: "out of range"})
        return number
    if key == "crisis_text":
        text = str(value or "").strip()
        if not 5 <= len(text) <= 2000:
            raise Invalid(f"{key} must be 5 to 2000 characters", fields={key: "length"})
        return text
    rules = []
    for raw in value:
        try:
            rule = ScheduleRule(**raw)
            instruments.get(rule.instrument_id)
        except (TypeError, ValueError) as exc:
            raise Invalid(f"schedule row {raw!r}: {exc}", fields={"schedule": str(exc)}) from None
        if rule.timing not in TIMINGS:
            raise Invalid(f"unknown timing {rule.timing!r}", fields={"schedule": "timing"})
        if rule.indication != ANY and rule.indication not in INDICATIONS:
            raise Invalid(
                f"unknown indication {rule.indication!r}", fields={"schedule": "indication"}
            )
        rules.append(asdict(rule))
    return rules


def change_setting(
    db: Session, *, actor: Actor, key: str, value: Any, reason: str
) -> OutcomeSetting:
    if not actor.roles & SETTING_ROLES:
        raise Forbidden("only an administrator or medical director changes outcome settings")
    clean = _validate(key, value)
    if len(reason.strip()) < 3:
        raise Invalid("say why the setting changes", fields={"reason": "required"})
    current = (
        db.scalar(select(func.max(OutcomeSetting.version)).where(OutcomeSetting.key == key)) or 0
    )
    row = OutcomeSetting(
        key=key, version=current + 1, value=clean, changed_by=actor.username, reason=reason.strip()
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="outcomes.setting",
        object_type="outcome_setting",
        object_id=row.id,
        detail=f"{key} version {row.version}: {reason.strip()}",
    )
    db.flush()
    return row
