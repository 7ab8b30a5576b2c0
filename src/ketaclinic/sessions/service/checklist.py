"""The pre-infusion checklist: its rules as a declared table, each with its basis, and
answering it. The infusion (or the first nasal device) waits until every item is met or
a prescriber overrides with a written reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Literal

from sqlalchemy.orm import Session

from ketaclinic.clinical import monitoring
from ketaclinic.clinical.overrides import Override
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Invalid
from ketaclinic.sessions.models import ChecklistEntry, SessionEvent
from ketaclinic.sessions.service import calls
from ketaclinic.sessions.service.common import (
    PRESCRIBERS,
    RUNNERS,
    load_open,
    reason_text,
    record,
    require,
)

Evidence = Literal["confirmed", "secondary", "convention"]


@dataclass(frozen=True)
class ChecklistRule:
    """One item. ``answers`` are what the nurse may chart ("computed" items are read
    from the record); ``met_by`` the answers that satisfy it."""

    id: str
    label: str
    answers: tuple[str, ...]
    met_by: tuple[str, ...]
    routes: tuple[str, ...]
    basis: str
    evidence: Evidence


_BOTH = ("iv", "esketamine_nasal")
# Women of reproductive age: WHO's statistical definition is 15-49 years (WHO, "Women of
# reproductive age (15-49 years)", Global Health Observatory indicator definitions).
# Asking for a test in that band before each session is clinic convention.
CHILD_BEARING_AGES = (15, 49)

CHECKLIST: tuple[ChecklistRule, ...] = (
    ChecklistRule(
        "identity",
        "Identity confirmed with two identifiers (name and date of birth)",
        ("yes", "no"),
        ("yes",),
        _BOTH,
        "Two-identifier check: common patient-safety practice, no single source here",
        "convention",
    ),
    ChecklistRule(
        "consent",
        "Treatment consent on file and current",
        ("yes", "no"),
        ("yes",),
        _BOTH,
        "Consent before treatment: clinic practice (Sanacora 2017 consensus lists informed "
        "consent in the pre-treatment work-up)",
        "secondary",
    ),
    ChecklistRule(
        "fasting",
        "Fasting as instructed (esketamine: no food for 2 h, no liquids for "
        "30 min; no nasal decongestant or corticosteroid within 1 h)",
        ("yes", "no"),
        ("yes",),
        _BOTH,
        "Esketamine: SPRAVATO US prescribing information (food and liquids, confirmed; "
        "decongestant from practice policies, secondary). IV: clinic convention",
        "convention",
    ),
    ChecklistRule(
        "driver",
        "Ride home arranged (no driving until the next day)",
        ("yes", "no"),
        ("yes",),
        _BOTH,
        "SPRAVATO prescribing information: no driving until the next day after restful "
        "sleep [secondary for the wording]; IV: clinic convention",
        "convention",
    ),
    ChecklistRule(
        "pregnancy_test",
        "Pregnancy test negative today",
        ("negative", "positive", "not_done"),
        ("negative", "not_required"),
        _BOTH,
        f"Required for a female patient aged {CHILD_BEARING_AGES[0]}-{CHILD_BEARING_AGES[1]} "
        "(WHO statistical definition of reproductive age); pregnancy is on the clinic's "
        "contraindication list (clinical-reference section 1). Requiring the test is "
        "clinic convention",
        "convention",
    ),
    ChecklistRule(
        "vitals",
        "Vital signs inside the go limits (latest pre-dose reading)",
        (),
        (),
        _BOTH,
        "Pre-infusion rows of the clinical core's limit table (each row cites its source)",
        "convention",
    ),
    ChecklistRule(
        "spacing",
        "The protocol's minimum interval since the patient's last dose has passed",
        (),
        (),
        _BOTH,
        "The dosing protocol's min_spacing_hours (48 h by default; the protocol row cites "
        "its source, a clinic convention; the clinic may change it). Inside it, only a "
        "prescriber's override with a reason lets the dose start",
        "convention",
    ),
    ChecklistRule(
        "order_signed",
        "Order signed by a prescriber",
        (),
        (),
        _BOTH,
        "Only a signed order may be given (ketaclinic rule)",
        "convention",
    ),
    ChecklistRule(
        "rems_enrolled",
        "Patient enrolled in the esketamine REMS programme",
        (),
        (),
        ("esketamine_nasal",),
        "SPRAVATO REMS: each outpatient is enrolled before the first dose "
        "(clinical-reference section 2)",
        "confirmed",
    ),
    ChecklistRule(
        "controlled_ledger",
        "Controlled-substance ledger",
        (),
        (),
        _BOTH,
        "Every administration of a Schedule III substance is recorded from a lot (21 CFR "
        "1304.22(c)); a clinic without a ledger is told so and keeps its own record",
        "secondary",
    ),
)
RULES = {rule.id: rule for rule in CHECKLIST}
ANSWERABLE = {rule.id for rule in CHECKLIST if rule.answers}


@dataclass(frozen=True)
class ChecklistItem:
    rule: ChecklistRule
    met: bool
    answer: str | None
    text: str
    by: str | None = None
    at: datetime | None = None


def pregnancy_test_required(sex: str, date_of_birth: date, on: date) -> bool:
    age = (
        on.year
        - date_of_birth.year
        - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    )
    low, high = CHILD_BEARING_AGES
    return sex == "female" and low <= age <= high


def evaluate(
    *,
    route: str,
    entries: list[ChecklistEntry],
    sex: str,
    date_of_birth: date,
    on: date,
    order_signed: bool,
    pre_dose_vitals: monitoring.VitalSigns | None,
    enrolled: bool,
    limit_overrides: Sequence[Override] = (),
    pre_dose_age_min: float | None = None,
    pre_dose_window: monitoring.ScheduleRule | None = None,
    previous_dose_at: datetime | None = None,
    dose_at: datetime | None = None,
    min_spacing_hours: float | None = None,
    zone: tzinfo = UTC,
    ledger: tuple[bool, str] | None = None,
) -> list[ChecklistItem]:
    """``pre_dose_age_min``: how old the pre-dose reading is at the start of dosing (or
    now, before it); ``pre_dose_window``: the route's schedule row saying how old it may
    be."""
    latest: dict[str, ChecklistEntry] = {}
    for answered in entries:
        latest[answered.item] = answered
    items: list[ChecklistItem] = []
    for rule in CHECKLIST:
        if route not in rule.routes:
            continue
        entry = latest.get(rule.id)
        answer = entry.answer if entry else None
        who = (entry.recorded_by, entry.recorded_at) if entry else (None, None)
        if rule.id == "pregnancy_test" and not pregnancy_test_required(sex, date_of_birth, on):
            items.append(ChecklistItem(rule, True, "not_required", "Not required (rule above)"))
            continue
        if rule.id == "vitals":
            items.append(
                _vitals_item(
                    rule, pre_dose_vitals, limit_overrides, pre_dose_age_min, pre_dose_window
                )
            )
            continue
        if rule.id == "spacing":
            items.append(_spacing_item(rule, previous_dose_at, dose_at, min_spacing_hours, zone))
            continue
        if rule.id == "order_signed":
            text = "Signed" if order_signed else "The order is not signed"
            items.append(ChecklistItem(rule, order_signed, None, text))
            continue
        if rule.id == "controlled_ledger":
            met, text = ledger if ledger is not None else (True, "Not checked")
            items.append(ChecklistItem(rule, met, None, text))
            continue
        if rule.id == "rems_enrolled":
            text = "Enrolment on file" if enrolled else "No enrolment on file: record it first"
            items.append(ChecklistItem(rule, enrolled, None, text))
            continue
        met = answer in rule.met_by
        text = "Not answered yet" if answer is None else answer.replace("_", " ")
        if entry and entry.note:
            text += f" ({entry.note})"
        items.append(ChecklistItem(rule, met, answer, text, *who))
    return items


def _spacing_item(
    rule: ChecklistRule,
    previous: datetime | None,
    dose_at: datetime | None,
    min_hours: float | None,
    zone: tzinfo = UTC,
) -> ChecklistItem:
    if previous is None or dose_at is None:
        return ChecklistItem(rule, True, None, "No earlier dose on record")
    if min_hours is None:
        return ChecklistItem(rule, True, None, "The protocol sets no minimum interval")
    if previous.tzinfo is None:
        previous = previous.replace(tzinfo=UTC)
    if dose_at.tzinfo is None:
        dose_at = dose_at.replace(tzinfo=UTC)
    hours = (dose_at - previous).total_seconds() / 3600
    if hours >= min_hours:
        return ChecklistItem(rule, True, None, f"Last dose {hours:.0f} h ago")
    return ChecklistItem(
        rule,
        False,
        None,
        # The clinic's own clock, as on every other time the nurse reads.
        f"The last dose began {hours:.1f} h ago "
        f"({previous.astimezone(zone):%Y-%m-%d %H:%M %Z}): the "
        f"protocol asks for at least {min_hours:g} h between sessions; only a prescriber's "
        "override with a reason lets this dose start",
    )


def _vitals_item(
    rule: ChecklistRule,
    reading: monitoring.VitalSigns | None,
    limit_overrides: Sequence[Override] = (),
    age_min: float | None = None,
    window: monitoring.ScheduleRule | None = None,
) -> ChecklistItem:
    if reading is None or reading.systolic_bp is None:
        return ChecklistItem(rule, False, None, "Chart a pre-dose reading with blood pressure")
    within = window.before_dose_within_min if window else None
    if within is not None and age_min is not None and age_min > within:
        assert window is not None
        return ChecklistItem(
            rule,
            False,
            None,
            f"The latest pre-dose reading is {age_min:.0f} min old: chart a new one, "
            f"within {within:g} min before the start of dosing "
            f"({window.before_dose_window_source} [{window.before_dose_window_evidence}])",
        )
    alarms = monitoring.assess([reading], phase="pre_infusion", overrides=limit_overrides)
    if not alarms:
        return ChecklistItem(rule, True, None, "Latest pre-dose reading inside the go limits")
    words = "; ".join(f"{a.message}. {a.action}" for a in alarms)
    return ChecklistItem(rule, False, None, words)


def answer_checklist(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    answers: dict[str, str],
    notes: dict[str, str] | None = None,
    now: datetime | None = None,
) -> list[ChecklistEntry]:
    """Chart answers to checklist items (a changed answer is a new entry)."""
    require(actor, RUNNERS, "charting the checklist")
    row = load_open(db, session_id)
    if not answers:
        raise Invalid("answer at least one checklist item", fields={"answers": "empty"})
    written = []
    for item, answer in answers.items():
        rule = RULES.get(item)
        if rule is None or item not in ANSWERABLE:
            raise Invalid(
                f"{item!r} is not a checklist item you can answer", fields={item: "unknown"}
            )
        if row.route not in rule.routes:
            raise Invalid(f"{rule.label} does not apply to this route", fields={item: "not here"})
        if answer not in rule.answers:
            allowed = ", ".join(rule.answers)
            raise Invalid(f"{rule.label}: answer one of {allowed}", fields={item: "invalid"})
        note = ((notes or {}).get(item) or "").strip()[:500] or None
        entry = ChecklistEntry(
            session_id=row.id,
            item=item,
            answer=answer,
            note=note,
            recorded_by=actor.username,
            recorded_at=now or utcnow(),
        )
        db.add(entry)
        written.append(entry)
    db.flush()
    record(
        db, actor, "checklist.answer", row, detail=", ".join(f"{k}={v}" for k, v in answers.items())
    )
    db.flush()
    return written


def override_checklist(
    db: Session, *, actor: Actor, session_id: int, reason: str, now: datetime | None = None
) -> SessionEvent:
    """A prescriber lets dosing start with items unmet, saying why; the unmet items are
    recorded with the reason."""
    from ketaclinic.sessions.service import view

    require(actor, PRESCRIBERS, "overriding the checklist (prescribers only)")
    row = load_open(db, session_id)
    text = reason_text(reason, what="the reason for starting with the checklist incomplete")
    state = view.build(db, actor=actor, row=row, now=now)
    if state.dose_start is not None:
        raise Conflict("dosing has already started: there is nothing left to override")
    unmet = [item.rule.id for item in state.checklist if not item.met]
    if not unmet:
        raise Conflict("every checklist item is met: no override is needed")
    event = SessionEvent(
        session_id=row.id,
        kind="checklist_override",
        at=now or utcnow(),
        reason=text,
        detail={"unmet": unmet},
        recorded_by=actor.username,
    )
    db.add(event)
    db.flush()
    calls.answer_by_override(db, actor=actor, row=row, reason=text, now=event.at)
    record(
        db,
        actor,
        "checklist.override",
        row,
        object_type="session_event",
        object_id=event.id,
        detail=f"unmet: {', '.join(unmet)}; reason: {text}",
    )
    db.flush()
    return event
