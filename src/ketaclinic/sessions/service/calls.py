"""Alarms that call for the prescriber reach the prescriber.

A ``pause`` or ``stop`` alarm, or a pre-dose blood pressure that blocks the start
(``monitoring.prescriber_calls``), opens a "prescriber needed" item addressed to the
session's prescriber (the order's signer), sends them a message through the outbox, and
keeps the session "waiting for prescriber" until a prescriber answers with a decision and
a note. Nobody answering in the clinic's time escalates it to every prescriber and
medical director, as an unacknowledged suicidality alert is.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ketaclinic.clinical import monitoring
from ketaclinic.configuration import service as configuration
from ketaclinic.platform import jobs, ports
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Invalid
from ketaclinic.platform.messaging import clinic_time
from ketaclinic.sessions.models import InfusionSession, PrescriberCall, SessionAlarm, VitalSign
from ketaclinic.sessions.service.common import PRESCRIBERS, RUNNERS, load, record, require

DECISIONS: dict[str, str] = {
    "continue": "Continue (as charted, with the note's instructions)",
    "stop": "Stop the session",
    "other": "Other (see note)",
}
JOB_ACTOR = Actor(user_id=None, username="job:escalate", full_name="Scheduled escalation")
NOTE_MIN_CHARS = 3


def _rules(db: Session) -> dict[str, monitoring.PrescriberCallRule]:
    return monitoring.prescriber_call_rules(
        configuration.overrides_for(db, "monitoring.prescriber_calls")
    )


def _addressed_to(db: Session, prescriber: str | None) -> list[str]:
    """The session's prescriber, or every prescriber when the order names none we can
    reach (a signer who has left)."""
    team = ports.prescribers(db)
    if prescriber and prescriber in team:
        return [prescriber]
    return team


def _open(
    db: Session,
    *,
    actor: Actor,
    row: InfusionSession,
    prescriber: str | None,
    kind: str,
    rule: monitoring.PrescriberCallRule,
    rule_id: str,
    level: str,
    summary: str,
    alarm_id: int | None,
    vital_sign_id: int | None,
    now: datetime,
) -> PrescriberCall:
    team = _addressed_to(db, prescriber)
    call = PrescriberCall(
        session_id=row.id,
        patient_id=row.patient_id,
        kind=kind,
        alarm_id=alarm_id,
        vital_sign_id=vital_sign_id,
        rule_id=rule_id,
        level=level,
        summary=summary[:2000],
        prescriber=prescriber,
        notified=team,
        raised_at=now,
        raised_by=actor.username,
        respond_within_min=int(rule.respond_within_min),
        status="open",
        escalated_to=[],
    )
    db.add(call)
    db.flush()
    ports.message_staff(
        db,
        usernames=team,
        kind="prescriber_call",
        subject=f"Prescriber needed at the chair: {level} alarm",
        body=f"Prescriber needed: a {level} alarm in session {row.id} at "
        f"{clinic_time(now)} waits for your decision. Answer it on the session page:",
        patient_id=row.patient_id,
        path=f"/sessions/{row.id}#prescriber-calls",
    )
    jobs.enqueue(db, "sessions.escalate_prescriber_call", at=due_at(call), call_id=call.id)
    record(
        db,
        actor,
        "prescriber_call.raise",
        row,
        object_type="prescriber_call",
        object_id=call.id,
        detail=f"{rule_id} ({level}) to {', '.join(team) or 'nobody'}",
    )
    return call


def call_for_alarms(
    db: Session,
    *,
    actor: Actor,
    row: InfusionSession,
    prescriber: str | None,
    alarms: list[SessionAlarm],
    now: datetime,
) -> list[PrescriberCall]:
    """A call for each new alarm whose level calls for the prescriber."""
    if not alarms:
        return []
    rules = _rules(db)
    made = []
    for alarm in alarms:
        rule = rules["session_alarm"]
        if not rule.calls(level=alarm.level, parameter=alarm.parameter):
            continue
        made.append(
            _open(
                db,
                actor=actor,
                row=row,
                prescriber=prescriber,
                kind="session_alarm",
                rule=rule,
                rule_id=alarm.rule_id,
                level=alarm.level,
                summary=f"{alarm.message}. {alarm.action}",
                alarm_id=alarm.id,
                vital_sign_id=alarm.vital_sign_id,
                now=now,
            )
        )
    return made


def call_for_pre_dose_block(
    db: Session,
    *,
    actor: Actor,
    row: InfusionSession,
    prescriber: str | None,
    reading: VitalSign | Any,  # a stored row, or a device reading of a group
    alarms: list[monitoring.Alarm],
    now: datetime,
) -> PrescriberCall | None:
    """One call when a pre-dose reading's blood pressure blocks the go/no-go check (the
    reading's most severe blocking alarm names it). A reading that crosses no go limit
    reads nothing (a monitor bound before the dose sends one every few seconds)."""
    if not alarms:
        return None
    rule = _rules(db)["pre_dose_block"]
    blocking = [a for a in alarms if rule.calls(level=a.level, parameter=a.parameter)]
    if not blocking:
        return None
    already = db.scalar(
        select(PrescriberCall.id).where(
            PrescriberCall.session_id == row.id,
            PrescriberCall.kind == "pre_dose_block",
            PrescriberCall.status == "open",
        )
    )
    if already is not None:
        return None  # the prescriber is already called for this start
    first = blocking[0]
    words = "; ".join(f"{a.message}. {a.action}" for a in blocking)
    return _open(
        db,
        actor=actor,
        row=row,
        prescriber=prescriber,
        kind="pre_dose_block",
        rule=rule,
        rule_id=first.rule_id,
        level=first.level,
        summary=f"Pre-dose reading blocks the start: {words}",
        alarm_id=None,
        vital_sign_id=reading.id,
        now=now,
    )


def answer_call(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    call_id: int,
    decision: str,
    note: str,
    now: datetime | None = None,
) -> PrescriberCall:
    """The prescriber's decision and note, which close the call (any prescriber may
    answer: the one called may be away)."""
    require(actor, PRESCRIBERS, "answering a call for the prescriber (prescribers only)")
    row = load(db, session_id)
    call = db.get(PrescriberCall, call_id)
    if call is None or call.session_id != row.id:
        raise Invalid(f"no call {call_id} in this session", fields={"call_id": "unknown"})
    if decision not in DECISIONS:
        raise Invalid(
            f"choose a decision: {', '.join(DECISIONS.values())}", fields={"decision": "required"}
        )
    text = (note or "").strip()
    if len(text) < NOTE_MIN_CHARS:
        raise Invalid(
            f"write what you decided and why (at least {NOTE_MIN_CHARS} characters)",
            fields={"note": "required"},
        )
    if len(text) > 2000:
        raise Invalid("keep the note under 2000 characters", fields={"note": "too long"})
    moment = now or utcnow()
    # One conditional UPDATE decides, so two prescribers answering at once get one answer
    # and one refusal, not two.
    result = db.execute(
        update(PrescriberCall)
        .where(PrescriberCall.id == call.id, PrescriberCall.status == "open")
        .values(
            status="answered",
            answered_at=moment,
            answered_by=actor.username,
            decision=decision,
            response_note=text,
        )
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        db.refresh(call)
        raise Conflict(f"this call was already answered by {call.answered_by}")
    db.refresh(call)
    record(
        db,
        actor,
        "prescriber_call.answer",
        row,
        object_type="prescriber_call",
        object_id=call.id,
        detail=f"{decision}: {text}"[:300],
    )
    db.flush()
    return call


def answer_by_override(
    db: Session, *, actor: Actor, row: InfusionSession, reason: str, now: datetime
) -> list[PrescriberCall]:
    """A prescriber who overrides the checklist has decided on the blocked start: the
    open pre-dose calls of the session are answered "continue" with the override's
    reason, in the same act."""
    found = list(
        db.scalars(
            select(PrescriberCall).where(
                PrescriberCall.session_id == row.id,
                PrescriberCall.kind == "pre_dose_block",
                PrescriberCall.status == "open",
            )
        )
    )
    for call in found:
        call.status = "answered"
        call.answered_at = now
        call.answered_by = actor.username
        call.decision = "continue"
        call.response_note = f"Checklist override: {reason}"[:2000]
        record(
            db,
            actor,
            "prescriber_call.answer",
            row,
            object_type="prescriber_call",
            object_id=call.id,
            detail=f"continue (checklist override): {reason}"[:300],
        )
    db.flush()
    return found


def due_at(call: PrescriberCall) -> datetime:
    return call.raised_at + timedelta(minutes=call.respond_within_min)


def _escalate(db: Session, call: PrescriberCall, team: list[str], *, now: datetime) -> bool:
    result = db.execute(
        update(PrescriberCall)
        .where(
            PrescriberCall.id == call.id,
            PrescriberCall.status == "open",
            PrescriberCall.escalated_at.is_(None),
        )
        .values(escalated_at=now, escalated_to=team)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        return False
    db.refresh(call)
    ports.message_staff(
        db,
        usernames=team,
        kind="prescriber_call_escalation",
        subject="ESCALATED: prescriber needed at the chair, no answer in time",
        body=f"Escalated: a {call.level} alarm in session {call.session_id}, raised "
        f"{clinic_time(call.raised_at)}, has had no prescriber's answer in "
        f"{call.respond_within_min} min. Answer it on the session page:",
        patient_id=call.patient_id,
        path=f"/sessions/{call.session_id}#prescriber-calls",
    )
    audit.record(
        db,
        actor=JOB_ACTOR,
        action="session.prescriber_call.escalate",
        patient_id=call.patient_id,
        object_type="prescriber_call",
        object_id=call.id,
        detail=f"after {call.respond_within_min} min to {', '.join(team)}",
    )
    return True


def escalate_due(db: Session, *, now: datetime) -> list[PrescriberCall]:
    """Escalate every open call past its time."""
    due = [
        c
        for c in db.scalars(
            select(PrescriberCall).where(
                PrescriberCall.status == "open", PrescriberCall.escalated_at.is_(None)
            )
        )
        if due_at(c) <= now
    ]
    if not due:
        return []
    team = ports.escalation_team(db)
    done = [c for c in due if _escalate(db, c, team, now=now)]
    db.flush()
    return done


def escalate_call(db: Session, *, call_id: int, now: datetime) -> bool:
    """The escalation check of one call at its time; true if it escalated now."""
    call = db.get(PrescriberCall, call_id)
    if call is None or call.status != "open" or call.escalated_at is not None:
        return False
    if due_at(call) > now:
        jobs.enqueue(db, "sessions.escalate_prescriber_call", at=due_at(call), call_id=call.id)
        return False
    done = _escalate(db, call, ports.escalation_team(db), now=now)
    db.flush()
    return done


def calls_of_session(db: Session, session_id: int) -> list[PrescriberCall]:
    """Inside a caller that audits the read (the session page)."""
    return list(
        db.scalars(
            select(PrescriberCall)
            .where(PrescriberCall.session_id == session_id)
            .order_by(PrescriberCall.raised_at, PrescriberCall.id)
        )
    )


def open_calls(
    db: Session, *, actor: Actor, patient_id: int | None = None, mine: bool = False
) -> list[PrescriberCall]:
    """Open calls, oldest first: a patient's (the chart), those addressed to the actor
    (``mine``: their home page), or all (today's sessions)."""
    require(actor, RUNNERS, "reading calls for the prescriber")
    query = select(PrescriberCall).where(PrescriberCall.status == "open")
    if patient_id is not None:
        query = query.where(PrescriberCall.patient_id == patient_id)
    found = list(db.scalars(query.order_by(PrescriberCall.raised_at, PrescriberCall.id)))
    if mine:
        found = [
            c for c in found if actor.username in c.notified or actor.username in c.escalated_to
        ]
    for patient in sorted({c.patient_id for c in found}):
        audit.note_read(
            db,
            actor=actor,
            action="session.prescriber_call.list",
            patient_id=patient,
            object_type="prescriber_call",
            detail=f"{sum(c.patient_id == patient for c in found)} open",
        )
    return found


def names_on_calls(db: Session, calls: Iterable[PrescriberCall]) -> dict[str, str]:
    """The full names of everyone the calls name (addressee, messaged, escalated to, the
    nurse who raised, the prescriber who answered), read in one statement for the whole
    page; a page shows the username where no name is on record."""
    people: set[str | None] = set()
    for call in calls:
        people.update((call.prescriber, call.raised_by, call.answered_by))
        people.update(call.notified or ())
        people.update(call.escalated_to or ())
    return accounts.full_names(db, people)


def open_count_for(db: Session, *, username: str) -> int:
    """How many open calls are addressed to ``username``: no patient data, so no audit
    (the banner on every page)."""
    rows = db.scalars(select(PrescriberCall).where(PrescriberCall.status == "open")).all()
    return sum(1 for c in rows if username in c.notified or username in c.escalated_to)
