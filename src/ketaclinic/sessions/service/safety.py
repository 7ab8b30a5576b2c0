"""The clinic's safety over a period, as counts: sessions given by protocol, the alarms
and interventions charted in them, and the side effects (adverse events) recorded.
Counts only, read by aggregate SQL: nothing that names a patient."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.errors import Forbidden, Invalid
from ketaclinic.platform.roles import Role
from ketaclinic.sessions.models import InfusionSession, SessionAlarm, SessionEntry

# The medical director reads the clinic's safety: prescribers and administrators.
READERS = frozenset({Role.prescriber, Role.admin})
GIVEN = ("discharged", "signed", "cosigned")


@dataclass(frozen=True)
class ProtocolSafety:
    protocol_id: str
    route: str
    sessions: int
    alarms: int
    alarms_by_level: dict[str, int]
    interventions: int
    sessions_with_alarm: int

    @property
    def alarms_per_session(self) -> float:
        return self.alarms / self.sessions if self.sessions else 0.0

    @property
    def interventions_per_session(self) -> float:
        return self.interventions / self.sessions if self.sessions else 0.0


@dataclass(frozen=True)
class AdverseEvent:
    label: str
    severity: str
    count: int


@dataclass
class PeriodSafety:
    start: datetime
    end: datetime
    protocols: list[ProtocolSafety] = field(default_factory=list)
    adverse_events: list[AdverseEvent] = field(default_factory=list)
    interventions_by_drug: dict[str, int] = field(default_factory=dict)

    @property
    def sessions(self) -> int:
        return sum(p.sessions for p in self.protocols)


def period_safety(db: Session, *, actor: Actor, start: datetime, end: datetime) -> PeriodSafety:
    """Sessions given (discharged) that began in [start, end), and what they charted;
    entries and alarms marked in error are left out."""
    if not actor.roles & READERS:
        raise Forbidden("the clinic's safety report is for prescribers and the medical director")
    if end <= start:
        raise Invalid("the period must end after it starts", fields={"end": "before start"})
    in_period = (
        InfusionSession.created_at >= start,
        InfusionSession.created_at < end,
        InfusionSession.status.in_(GIVEN),
    )
    sessions = {
        (protocol, route): count
        for protocol, route, count in db.execute(
            select(InfusionSession.protocol_id, InfusionSession.route, func.count())
            .where(*in_period)
            .group_by(InfusionSession.protocol_id, InfusionSession.route)
        )
    }
    alarms: dict[tuple[str, str], Counter[str]] = {}
    with_alarm: dict[tuple[str, str], int] = {}
    for protocol, route, level, count in db.execute(
        select(InfusionSession.protocol_id, InfusionSession.route, SessionAlarm.level, func.count())
        .join(InfusionSession, InfusionSession.id == SessionAlarm.session_id)
        .where(*in_period)
        .group_by(InfusionSession.protocol_id, InfusionSession.route, SessionAlarm.level)
    ):
        alarms.setdefault((protocol, route), Counter())[level] += count
    # A session with alarms of two levels counts once: read the distinct sessions apart.
    for protocol, route, distinct in db.execute(
        select(
            InfusionSession.protocol_id,
            InfusionSession.route,
            func.count(func.distinct(SessionAlarm.session_id)),
        )
        .join(InfusionSession, InfusionSession.id == SessionAlarm.session_id)
        .where(*in_period)
        .group_by(InfusionSession.protocol_id, InfusionSession.route)
    ):
        with_alarm[(protocol, route)] = distinct
    entries = db.execute(
        select(
            InfusionSession.protocol_id, InfusionSession.route, SessionEntry.kind, SessionEntry.data
        )
        .join(InfusionSession, InfusionSession.id == SessionEntry.session_id)
        .where(
            *in_period,
            SessionEntry.kind.in_(("intervention", "side_effect")),
            SessionEntry.entered_in_error_at.is_(None),
        )
    ).all()
    interventions: Counter[tuple[str, str]] = Counter()
    drugs: Counter[str] = Counter()
    effects: Counter[tuple[str, str]] = Counter()
    for protocol, route, kind, data in entries:
        data = data or {}
        if kind == "intervention":
            interventions[(protocol, route)] += 1
            drugs[str(data.get("drug") or "other")] += 1
        else:
            effects[(str(data.get("label") or "unnamed"), str(data.get("severity") or "-"))] += 1
    result = PeriodSafety(start, end)
    for key in sorted(sessions):
        levels = alarms.get(key, Counter())
        result.protocols.append(
            ProtocolSafety(
                protocol_id=key[0],
                route=key[1],
                sessions=sessions[key],
                alarms=sum(levels.values()),
                alarms_by_level=dict(sorted(levels.items())),
                interventions=interventions[key],
                sessions_with_alarm=with_alarm.get(key, 0),
            )
        )
    result.adverse_events = [
        AdverseEvent(label, severity, count)
        for (label, severity), count in sorted(effects.items(), key=lambda i: (-i[1], i[0]))
    ]
    result.interventions_by_drug = dict(sorted(drugs.items(), key=lambda i: (-i[1], i[0])))
    audit.note_read(
        db,
        actor=actor,
        action="report.safety",
        object_type="session",
        detail=f"{start:%Y-%m-%d} to {end:%Y-%m-%d}: {result.sessions} sessions",
    )
    db.flush()
    return result
