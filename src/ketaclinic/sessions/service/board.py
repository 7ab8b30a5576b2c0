"""The clinic's chairs at a glance, read for every session at once: the nurse's day (each
chair's state, readings due, alarms open), the prescriber's notes to co-sign, and the
medical director's safety figures. Each reads its rows in a fixed number of queries,
however many sessions the clinic holds."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ketaclinic.configuration import service as configuration
from ketaclinic.orders import service as orders
from ketaclinic.patients import service as patients
from ketaclinic.platform import ports
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Invalid
from ketaclinic.platform.roles import Role
from ketaclinic.platform.settings import get_settings
from ketaclinic.scheduling import service as scheduling
from ketaclinic.sessions.models import (
    InfusionSession,
    SessionAlarm,
    SessionEntry,
    SessionEvent,
    SessionNote,
    VitalSign,
)
from ketaclinic.sessions.service import view
from ketaclinic.sessions.service.common import PRESCRIBERS, RUNNERS, require

# The states a chair's patient passes through, in order, as the nurse's home names them.
STATES = {
    "waiting": "Waiting",
    "checklist": "Checklist",
    "running": "Running",
    "recovery": "Recovery",
    "ready": "Ready for discharge",
    "note": "Note to sign",
    "done": "Done",
    "cancelled": "Cancelled",
}
ALARM_RANK = {"warn": 1, "pause": 2, "stop": 3, "no_go": 3}
# Kinds of appointment that take no chair's session (seen on other lists).
NOT_AT_A_CHAIR = ("consultation", "therapy")


@dataclass(frozen=True)
class ChairRow:
    patient_id: int
    patient_name: str
    starts_at: datetime
    state: str
    appointment_id: int | None = None
    appointment_status: str | None = None
    session_id: int | None = None
    chair: str | None = None
    nurse: str | None = None
    route: str | None = None
    pump_state: str | None = None
    next_reading_at: datetime | None = None
    readings_overdue: int = 0
    reading_due_now: bool = False
    open_alarms: int = 0
    worst_alarm: str | None = None

    @property
    def label(self) -> str:
        return STATES[self.state]

    @property
    def arrived(self) -> bool:
        return self.appointment_status == "checked_in" or self.session_id is not None


@dataclass(frozen=True)
class ChairBoard:
    day: date
    rows: list[ChairRow]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def alarms_open(self) -> int:
        return sum(r.open_alarms for r in self.rows)

    @property
    def readings_due(self) -> list[ChairRow]:
        """Chairs with a reading due now or overdue, the most overdue first."""
        found = [r for r in self.rows if r.readings_overdue or r.reading_due_now]
        return sorted(found, key=lambda r: (-r.readings_overdue, r.next_reading_at or r.starts_at))

    @property
    def readings_overdue(self) -> int:
        return sum(1 for r in self.rows if r.readings_overdue)


def _grouped(
    db: Session, model: Any, order: tuple[Any, ...], ids: list[int]
) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {i: [] for i in ids}
    if ids:
        query: Any = select(model).where(model.session_id.in_(ids))
        for row in db.scalars(query.order_by(model.session_id, *order)):
            out[row.session_id].append(row)
    return out


def views_of(
    db: Session, rows: list[InfusionSession], *, now: datetime
) -> dict[int, view.SessionView]:
    """``view.build`` for several sessions at once, without the checklist (its consent
    and ledger items are read per session): the dosing, the readings and their schedule,
    the alarms and the discharge criteria, in one query per kind of row."""
    if not rows:
        return {}
    ids = [r.id for r in rows]
    people = patients.patients_by_id(db, {r.patient_id for r in rows})
    signed = orders.orders_by_id(db, {r.order_id for r in rows})
    events = _grouped(db, SessionEvent, (SessionEvent.at, SessionEvent.id), ids)
    vitals = _grouped(db, VitalSign, (VitalSign.taken_at, VitalSign.id), ids)
    alarms = _grouped(db, SessionAlarm, (SessionAlarm.raised_at, SessionAlarm.id), ids)
    entries = _grouped(db, SessionEntry, (SessionEntry.at, SessionEntry.id), ids)
    limits = configuration.overrides_for(db, "monitoring.limits")
    discharge = configuration.clinic_overrides(db, "monitoring.discharge", "monitoring.limits")
    schedules = configuration.overrides_for(db, "monitoring.schedules")
    protocols = configuration.overrides_for(db, "dosing.protocols")
    alerted = ports.patients_with_open_alert(db, patient_ids=[r.patient_id for r in rows])
    found = {}
    for row in rows:
        state = view.SessionView(
            session=row,
            patient_record=people[row.patient_id],
            order=signed[row.order_id],
            appointment=None,
            now=now,
            events=events[row.id],
            vitals=vitals[row.id],
            alarms=alarms[row.id],
            entries=entries[row.id],
            notes=[],
            checklist_entries=[],
            enrolment=None,
            monitoring_record=None,
            limit_overrides=limits,
            discharge_overrides=discharge,
            schedule_overrides=schedules,
        )
        if state.esketamine:
            state.device_mg, state.device_interval_min = view.devices_of(
                db, state.order, protocol_overrides=protocols
            )
        view.derive_dosing(state)
        view._derive_readings(state)
        view._derive_schedule(state)
        state.open_suicidality_alert = row.patient_id in alerted
        state.discharge = view.discharge_view(state)
        found[row.id] = state
    return found


def _state(row: InfusionSession, state: view.SessionView) -> str:
    if row.status == "cancelled":
        return "cancelled"
    if row.status in ("signed", "cosigned"):
        return "done"
    if row.status == "discharged":
        return "note"
    if state.dose_start is None:
        return "checklist"
    if state.dose_end is None:
        return "running"
    return "ready" if state.discharge is not None and state.discharge.ready else "recovery"


def _readings(state: view.SessionView) -> tuple[datetime | None, int, bool]:
    """The next reading's time (the earliest not yet charted), how many are overdue and
    whether one is due now."""
    start = state.dose_start
    open_ = [s for s in state.schedule if s.status != "done"]
    if start is None or not open_:
        return None, 0, False
    overdue = sum(1 for s in open_ if s.status == "overdue")
    due = any(s.status == "due" for s in open_)
    return start + timedelta(minutes=open_[0].due_at_min), overdue, due


def chair_board(
    db: Session, *, actor: Actor, day: date | None = None, now: datetime | None = None
) -> ChairBoard:
    """The day's chairs: every infusion or esketamine visit of ``day`` (and the day's
    walk-in sessions) in its state (waiting, checklist, running, recovery, ready for
    discharge, note to sign, done), with the readings due from the monitoring schedule
    and the alarms nobody has acknowledged."""
    require(actor, RUNNERS, "reading the chairs of the day")
    now = now or utcnow()
    zone = get_settings().zone
    day = day or now.astimezone(zone).date()
    starts, ends = scheduling.day_bounds(day, zone)
    visits = [
        a
        for a in scheduling.appointments_for_day(db, actor=actor, day=day, zone=zone)
        if a.kind not in NOT_AT_A_CHAIR
    ]
    walk_in = and_(
        InfusionSession.appointment_id.is_(None),
        InfusionSession.created_at >= starts,
        InfusionSession.created_at < ends,
    )
    ids = [a.id for a in visits]
    where = or_(InfusionSession.appointment_id.in_(ids), walk_in) if ids else walk_in
    sessions = list(db.scalars(select(InfusionSession).where(where).order_by(InfusionSession.id)))
    states = views_of(db, sessions, now=now)
    by_visit = {s.appointment_id: s for s in sessions if s.appointment_id is not None}
    names = patients.display_names(
        db, {a.patient_id for a in visits} | {s.patient_id for s in sessions}
    )
    chairs = {c.id: c.name for c in scheduling.list_chairs(db, actor=actor)}
    staff = scheduling.staff_names(db)
    out = []
    for a in visits:
        found = by_visit.get(a.id)
        if found is None:
            if a.status in ("cancelled", "no_show"):
                continue
            out.append(
                ChairRow(
                    a.patient_id,
                    names.get(a.patient_id, "?"),
                    a.starts_at,
                    "done" if a.status == "completed" else "waiting",
                    appointment_id=a.id,
                    appointment_status=a.status,
                    chair=chairs.get(a.chair_id) if a.chair_id else None,
                    nurse=staff.get(a.nurse_user_id) if a.nurse_user_id else None,
                )
            )
            continue
        out.append(_row(found, states[found.id], names, a, chairs, staff))
    for s in sessions:
        if s.appointment_id is None:
            out.append(_row(s, states[s.id], names, None, chairs, staff))
    out = [r for r in out if r.state != "cancelled"]
    out.sort(key=lambda r: (r.starts_at, r.patient_name))
    for r in out:
        audit.note_read(
            db,
            actor=actor,
            action="session.chairs_today",
            patient_id=r.patient_id,
            object_type="session" if r.session_id else "appointment",
            object_id=r.session_id or r.appointment_id,
        )
    return ChairBoard(day, out, dict(Counter(r.state for r in out)))


def _row(
    row: InfusionSession,
    state: view.SessionView,
    names: dict[int, str],
    visit: scheduling.Appointment | None,
    chairs: dict[int, str],
    staff: dict[int, str],
) -> ChairRow:
    kind = _state(row, state)
    at, overdue, due = (
        _readings(state) if kind in ("running", "recovery", "ready") else (None, 0, False)
    )
    levels = [a.level for a in state.unacknowledged]
    return ChairRow(
        row.patient_id,
        names.get(row.patient_id, "?"),
        visit.starts_at if visit else row.created_at,
        kind,
        appointment_id=visit.id if visit else None,
        appointment_status=visit.status if visit else None,
        session_id=row.id,
        chair=chairs.get(visit.chair_id) if visit and visit.chair_id else None,
        nurse=staff.get(visit.nurse_user_id) if visit and visit.nurse_user_id else None,
        route=row.route,
        pump_state=state.pump.state if state.pump and kind == "running" else None,
        next_reading_at=at,
        readings_overdue=overdue,
        reading_due_now=due,
        open_alarms=len(levels),
        worst_alarm=max(levels, key=lambda lvl: ALARM_RANK.get(lvl, 0), default=None),
    )


# ------------------------------------------------------------------ notes to co-sign


@dataclass(frozen=True)
class NoteToCosign:
    session_id: int
    patient_id: int
    patient_name: str
    signed_by_name: str
    signed_at: datetime


def notes_to_cosign(db: Session, *, actor: Actor, limit: int = 50) -> list[NoteToCosign]:
    """Session notes the nurse signed that wait for a prescriber's co-signature, oldest
    first (not the actor's own: a co-signature comes from someone else)."""
    require(actor, PRESCRIBERS, "co-signing session notes")
    rows = db.execute(
        select(InfusionSession.id, InfusionSession.patient_id, SessionNote)
        .join(SessionNote, SessionNote.session_id == InfusionSession.id)
        .where(
            InfusionSession.status == "signed",
            SessionNote.kind == "note",
            SessionNote.cosigned_at.is_(None),
            SessionNote.signed_by != actor.username,
        )
        .order_by(SessionNote.signed_at, SessionNote.id)
        .limit(limit)
    ).all()
    names = patients.display_names(db, {pid for _, pid, _ in rows})
    for sid, pid, _ in rows:
        audit.note_read(
            db,
            actor=actor,
            action="note.to_cosign",
            patient_id=pid,
            object_type="session",
            object_id=sid,
        )
    return [
        NoteToCosign(sid, pid, names.get(pid, "?"), note.signed_by_name, note.signed_at)
        for sid, pid, note in rows
    ]


# ------------------------------------------------------------------ safety figures


@dataclass(frozen=True)
class Safety:
    """Counts only (no patient is named): the sessions dosed in the period, their alarms
    and interventions, and the side effects charted (the adverse events of the chair)."""

    since: datetime
    until: datetime
    sessions: int
    alarms: int
    alarms_by_level: dict[str, int]
    interventions: int
    adverse_events: dict[str, int]

    @property
    def alarms_per_session(self) -> float | None:
        return self.alarms / self.sessions if self.sessions else None

    @property
    def interventions_per_session(self) -> float | None:
        return self.interventions / self.sessions if self.sessions else None

    @property
    def adverse_total(self) -> int:
        return sum(self.adverse_events.values())


SAFETY_READERS = frozenset({Role.admin, Role.prescriber})
# The safety dashboard's default window (ketaclinic's own reporting period, not a
# clinical number): the last 30 days.
SAFETY_DAYS = 30


def safety_summary(
    db: Session, *, actor: Actor, days: int = SAFETY_DAYS, now: datetime | None = None
) -> Safety:
    """Alarms and interventions per session and the adverse events charted, over the
    sessions whose dosing began in the last ``days`` days: four aggregate queries."""
    if not actor.roles & SAFETY_READERS:
        raise Invalid("the safety dashboard is for the medical director and prescribers")
    if not 1 <= days <= 3660:
        raise Invalid("the period is 1 to 3660 days", fields={"days": str(days)})
    until = now or utcnow()
    since = until - timedelta(days=days)
    dosed = (
        select(SessionEvent.session_id)
        .join(InfusionSession, InfusionSession.id == SessionEvent.session_id)
        .where(
            SessionEvent.kind.in_(("start", "device")),
            SessionEvent.entered_in_error_at.is_(None),
            SessionEvent.at >= since,
            SessionEvent.at < until,
            InfusionSession.status != "cancelled",
        )
        .distinct()
    )
    sessions = db.scalar(select(func.count()).select_from(dosed.subquery())) or 0
    by_level = dict(
        db.execute(
            select(SessionAlarm.level, func.count())
            .where(SessionAlarm.session_id.in_(dosed))
            .group_by(SessionAlarm.level)
        ).all()
    )
    kinds = dict(
        db.execute(
            select(SessionEntry.code, func.count())
            .where(
                SessionEntry.session_id.in_(dosed),
                SessionEntry.kind == "side_effect",
                SessionEntry.entered_in_error_at.is_(None),
            )
            .group_by(SessionEntry.code)
        ).all()
    )
    interventions = (
        db.scalar(
            select(func.count()).where(
                SessionEntry.session_id.in_(dosed),
                SessionEntry.kind == "intervention",
                SessionEntry.entered_in_error_at.is_(None),
            )
        )
        or 0
    )
    audit.note_read(
        db,
        actor=actor,
        action="session.safety_summary",
        object_type="session",
        detail=f"last {days} days: {sessions} sessions",
    )
    return Safety(
        since,
        until,
        sessions,
        sum(by_level.values()),
        by_level,
        interventions,
        dict(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


__all__ = [
    "STATES",
    "ChairBoard",
    "ChairRow",
    "NoteToCosign",
    "Safety",
    "chair_board",
    "notes_to_cosign",
    "safety_summary",
    "views_of",
]
