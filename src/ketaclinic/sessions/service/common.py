"""What every session use case shares: who may act, loading, auditing, times."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.clinical import monitoring
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid, NotFound
from ketaclinic.platform.roles import Role
from ketaclinic.platform.settings import get_settings
from ketaclinic.sessions.models import InfusionSession, SessionAlarm

RUNNERS = frozenset({Role.nurse, Role.prescriber})
PRESCRIBERS = frozenset({Role.prescriber})
# A charted time may be a little ahead of the server clock (a wall clock, a monitor):
# two minutes is ketaclinic's tolerance, not a clinical number.
CLOCK_SKEW = timedelta(minutes=2)
# How far back a nurse may chart an act on an open session (late charting of a busy
# chair): 12 hours covers any session day; a convention, not a clinical number.
LATE_CHARTING = timedelta(hours=12)
CLOSED = frozenset({"signed", "cosigned", "cancelled"})


def require(actor: Actor, roles: frozenset[Role], what: str) -> None:
    """The second wall behind the routes: other areas call these functions too."""
    if not actor.roles & roles:
        raise Forbidden(f"your role does not permit {what}")


def load(db: Session, session_id: int) -> InfusionSession:
    row = db.get(InfusionSession, session_id)
    if row is None:
        raise NotFound(f"no session with id {session_id}")
    return row


def load_open(db: Session, session_id: int) -> InfusionSession:
    row = load(db, session_id)
    if row.status in CLOSED:
        raise Conflict(
            f"this session is {row.status}: nothing more can be charted on it"
            + ("; write an addendum to the note instead" if row.status != "cancelled" else "")
        )
    return row


def record(
    db: Session,
    actor: Actor,
    action: str,
    row: InfusionSession,
    *,
    object_type: str = "session",
    object_id: object | None = None,
    detail: str = "",
) -> None:
    audit.record(
        db,
        actor=actor,
        action=f"session.{action}",
        patient_id=row.patient_id,
        object_type=object_type,
        object_id=row.id if object_id is None else object_id,
        detail=detail,
    )


def charted_time(
    at: datetime | None, *, field: str = "at", now: datetime | None = None
) -> datetime:
    """The moment an act happened: now unless given; never in the future, never a day
    old, always with a zone."""
    now = now or utcnow()
    if at is None:
        return now
    if at.tzinfo is None:
        raise Invalid("a charted time must carry its time zone", fields={field: "no zone"})
    if at > now + CLOCK_SKEW:
        raise Invalid("a charted time cannot be in the future", fields={field: "in the future"})
    if at < now - LATE_CHARTING:
        raise Invalid(
            "a charted time more than 12 hours ago belongs to another day: add a note instead",
            fields={field: "too long ago"},
        )
    return at


def reason_text(reason: str | None, field: str = "reason", what: str = "a reason") -> str:
    text = (reason or "").strip()
    if len(text) < 3:
        raise Invalid(f"give {what} (at least 3 characters)", fields={field: "required"})
    if len(text) > 2000:
        raise Invalid("keep it under 2000 characters", fields={field: "too long"})
    return text


def minutes(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 60.0


def stored_alarm(
    alarm: monitoring.Alarm,
    *,
    session_id: int,
    phase: str,
    raised_at: datetime,
    vital_sign_id: int | None = None,
    entry_id: int | None = None,
    taken_at: datetime | None = None,
) -> SessionAlarm:
    """The row of an alarm the clinical core raised, from a reading (``vital_sign_id``)
    or a charted symptom or score (``entry_id``). ``taken_at``: when what raised it was
    taken, so its message says the clinic's clock time beside the minutes from the
    start of dosing ("at 10:35, 35 min into the infusion")."""
    return SessionAlarm(
        session_id=session_id,
        vital_sign_id=vital_sign_id,
        entry_id=entry_id,
        rule_id=alarm.rule_id,
        phase=phase,
        level=alarm.level,
        parameter=alarm.parameter,
        value=alarm.value,
        message=alarm_message(alarm, phase=phase, taken_at=taken_at),
        action=alarm.action,
        source=alarm.source,
        evidence=alarm.evidence,
        raised_at=raised_at,
    )


def alarm_message(alarm: monitoring.Alarm, *, phase: str, taken_at: datetime | None) -> str:
    """The clinical core's message ("... at 35 min: ...", minutes from the start of
    dosing, the core keeps no clock) with the clinic's clock time put beside them."""
    if taken_at is None:
        return alarm.message
    clock = taken_at.astimezone(get_settings().zone).strftime("%H:%M")
    whole = round(alarm.at_min)
    if phase == "pre_infusion" or whole < 0:
        when = f" at {clock}, before dosing"
    elif phase == "infusion":
        when = f" at {clock}, {whole} min into the infusion"
    else:
        when = f" at {clock}, {whole} min after dosing began"
    return alarm.message.replace(f" at {alarm.at_min:.0f} min", when, 1)


def close_alarms_of_entry_in_error(
    db: Session,
    actor: Actor,
    row: InfusionSession,
    *,
    entry_id: int,
    reason: str,
    at: datetime,
) -> list[SessionAlarm]:
    """An alarm raised by an entry that was entered in error (a symptom or a sedation
    score charted on the wrong chair) no longer stands: it is acknowledged by whoever
    marked the error, with their reason, so it neither holds discharge nor stays on the
    chair's screen. A prescriber call it opened stays for the prescriber to answer.

    Only entries: each raises its own alarm. A vital sign's alarm may stand for a run of
    readings (confirmed over minutes), so closing it with one artefact could silence a
    real breach: it is judged again without the artefact (``reassess.reassess_alarms``)
    and closed here the same way only if the rule no longer fires."""
    closed = list(
        db.scalars(
            select(SessionAlarm).where(
                SessionAlarm.session_id == row.id,
                SessionAlarm.entry_id == entry_id,
                SessionAlarm.acknowledged_at.is_(None),
            )
        )
    )
    for alarm in closed:
        acknowledge(db, actor, row, alarm, note=f"entered in error: {reason}", at=at)
    return closed


def acknowledge(
    db: Session,
    actor: Actor,
    row: InfusionSession,
    alarm: SessionAlarm,
    *,
    note: str,
    at: datetime,
) -> None:
    """Who saw the alarm, when, and what they did, with its audit row."""
    alarm.acknowledged_at = at
    alarm.acknowledged_by = actor.username
    alarm.acknowledgement_note = note or None
    record(
        db,
        actor,
        "alarm.acknowledge",
        row,
        object_type="session_alarm",
        object_id=alarm.id,
        detail=f"{alarm.rule_id}: {note}",
    )
