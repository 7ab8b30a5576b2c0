"""Reading sessions: one whole session, a patient's sessions with their key figures (also
for other areas), and the nurse's day.

``given_sessions`` is for another area's act that audits itself (outcomes' standing of a
course, and its scheduled work): it checks no role and notes no read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ketaclinic.configuration import service as configuration
from ketaclinic.orders import service as orders
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import NotFound
from ketaclinic.platform.settings import get_settings
from ketaclinic.scheduling import service as scheduling
from ketaclinic.sessions.models import InfusionSession, SessionEntry, SessionEvent, VitalSign
from ketaclinic.sessions.service import view
from ketaclinic.sessions.service.common import RUNNERS, load, require

COMPLETED = ("discharged", "signed", "cosigned")
# A longer list of patients is filtered after reading rather than bound into the query:
# SQLite limits the parameters of one statement, and a clinic-wide read is one scan.
WHERE_IN_AT_MOST = 500


@dataclass(frozen=True)
class SessionSummary:
    session_id: int
    number: int
    started_at: datetime | None
    ended_at: datetime | None
    protocol_id: str
    dose_mg: float
    peak_systolic: int | None
    peak_diastolic: int | None
    cadss_total: float | None
    side_effects: list[str]
    status: str
    route: str = "iv"
    # From the first dose to the end of dosing (an infusion's time, for its billing code).
    dosing_minutes: float | None = None


def get_session(
    db: Session, *, actor: Actor, session_id: int, now: datetime | None = None
) -> view.SessionView:
    """Everything about one session, derived from the stored record."""
    require(actor, RUNNERS, "reading sessions")
    row = load(db, session_id)
    # Noted first, so the one audit row of this read is named for the session.
    audit.note_read(
        db,
        actor=actor,
        action="session.view",
        patient_id=row.patient_id,
        object_type="session",
        object_id=row.id,
    )
    return view.build(db, actor=actor, row=row, now=now, reading=True)


def summarise(
    state: view.SessionView, *, peaks: tuple[int | None, int | None] | None = None
) -> SessionSummary:
    """``peaks``: the highest systolic and diastolic pressures when read apart (by
    aggregate SQL), else taken from the view's readings."""
    if peaks is None:
        systolic = [r.row.systolic_bp for r in state.readings if r.row.systolic_bp is not None]
        diastolic = [r.row.diastolic_bp for r in state.readings if r.row.diastolic_bp is not None]
        peaks = (max(systolic) if systolic else None, max(diastolic) if diastolic else None)
    cadss = [
        e.value
        for e in state.entries
        if e.kind == "score"
        and e.code in ("cadss", "cadss6")
        and e.entered_in_error_at is None
        and e.value is not None
    ]
    effects = []
    for e in state.valid_entries("side_effect"):
        label = f"{e.data.get('label', e.code)} ({e.data.get('severity')})"
        if label not in effects:
            effects.append(label)
    left = state.discharged
    return SessionSummary(
        session_id=state.session.id,
        number=state.session.number,
        started_at=state.dose_start,
        ended_at=left.at if left else state.dose_end,
        protocol_id=state.session.protocol_id,
        dose_mg=round(state.mg_given, 1),
        peak_systolic=peaks[0],
        peak_diastolic=peaks[1],
        cadss_total=max(cadss) if cadss else None,
        side_effects=effects,
        status=state.session.status,
        route=state.session.route,
        dosing_minutes=(
            round((state.dose_end - state.dose_start).total_seconds() / 60, 1)
            if state.dose_start is not None and state.dose_end is not None
            else None
        ),
    )


def sessions_of_patient(
    db: Session, *, actor: Actor, patient_id: int, only_completed: bool = False
) -> list[SessionSummary]:
    if actor.patient_only:
        # The portal: a patient account reads its own sessions and nobody else's.
        if actor.patient_id != patient_id:
            raise NotFound("no such patient")
    else:
        require(actor, RUNNERS, "reading sessions")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    out = _summaries(db, actor, patient_id, only_completed=only_completed)
    audit.note_read(
        db,
        actor=actor,
        action="session.list",
        patient_id=patient_id,
        object_type="session",
        detail=f"{len(out)} session(s)",
    )
    db.flush()
    return out


def _summaries(
    db: Session, actor: Actor, patient_id: int, *, only_completed: bool
) -> list[SessionSummary]:
    """The patient's sessions with their key figures in a fixed number of statements,
    however many sessions and readings there are: the events, the scores and side
    effects of every session at once, the peak pressures by aggregate SQL (the readings
    themselves are not loaded), then each summary derived as ``view.build`` would."""
    query = (
        select(InfusionSession)
        .where(InfusionSession.patient_id == patient_id)
        .order_by(InfusionSession.created_at.desc(), InfusionSession.id.desc())
    )
    if only_completed:
        query = query.where(InfusionSession.status.in_(COMPLETED))
    rows = list(db.scalars(query))
    if not rows:
        return []
    ids = [r.id for r in rows]
    events: dict[int, list[SessionEvent]] = defaultdict(list)
    for e in db.scalars(
        select(SessionEvent)
        .where(SessionEvent.session_id.in_(ids), SessionEvent.entered_in_error_at.is_(None))
        .order_by(SessionEvent.at, SessionEvent.id)
    ):
        events[e.session_id].append(e)
    entries: dict[int, list[SessionEntry]] = defaultdict(list)
    for n in db.scalars(
        select(SessionEntry)
        .where(
            SessionEntry.session_id.in_(ids),
            SessionEntry.entered_in_error_at.is_(None),
            SessionEntry.kind.in_(("score", "side_effect")),
        )
        .order_by(SessionEntry.at, SessionEntry.id)
    ):
        entries[n.session_id].append(n)
    peaks = {
        sid: (systolic, diastolic)
        for sid, systolic, diastolic in db.execute(
            select(
                VitalSign.session_id,
                func.max(VitalSign.systolic_bp),
                func.max(VitalSign.diastolic_bp),
            )
            .where(VitalSign.session_id.in_(ids), VitalSign.entered_in_error_at.is_(None))
            .group_by(VitalSign.session_id)
        )
    }
    patient = patients.patient_by_id(db, patient_id)
    found_orders = orders.orders_by_id(db, {r.order_id for r in rows})
    nasal = [r for r in rows if r.route == "esketamine_nasal"]
    protocol_overrides = configuration.overrides_for(db, "dosing.protocols") if nasal else []
    now = utcnow()
    out = []
    for row in rows:
        order = found_orders[row.order_id]
        state = view.SessionView(
            session=row,
            patient=patient,
            order=order,
            appointment=None,
            now=now,
            events=events[row.id],
            vitals=[],
            alarms=[],
            entries=entries[row.id],
            notes=[],
            checklist_entries=[],
            enrolment=None,
            monitoring_record=None,
        )
        if state.esketamine:
            state.device_mg, state.device_interval_min = view.devices_of(
                db, order, protocol_overrides=protocol_overrides
            )
        view.derive_dosing(state)
        out.append(summarise(state, peaks=peaks.get(row.id, (None, None))))
    return out


def completed_sessions(db: Session, *, actor: Actor, patient_id: int) -> list[SessionSummary]:
    """Sessions given and discharged (signed or not), newest first. A patient account
    reads its own (the portal lists them); never another patient's."""
    return sessions_of_patient(db, actor=actor, patient_id=patient_id, only_completed=True)


def given_sessions(db: Session, *, actor: Actor, patient_id: int) -> list[SessionSummary]:
    """The completed sessions of ``completed_sessions``, for an act of another area that
    checks its own reader and audits what it shows."""
    return _summaries(db, actor, patient_id, only_completed=True)


def dose_starts(
    db: Session, *, patient_ids: Collection[int] | None = None
) -> dict[int, list[tuple[int, datetime]]]:
    """Per patient, each completed session's number and when its dosing began (the
    ``started_at`` of ``given_sessions``: the first infusion start, or the first nasal
    device), oldest first: one aggregate query for the whole clinic, for another area's
    act that audits itself. ``None``: every patient."""
    first = case((InfusionSession.route == "esketamine_nasal", "device"), else_="start")
    query = (
        select(InfusionSession.patient_id, InfusionSession.number, func.min(SessionEvent.at))
        .join(SessionEvent, SessionEvent.session_id == InfusionSession.id)
        .where(
            InfusionSession.status.in_(COMPLETED),
            SessionEvent.entered_in_error_at.is_(None),
            SessionEvent.kind == first,
        )
        .group_by(
            InfusionSession.id,
            InfusionSession.patient_id,
            InfusionSession.number,
            InfusionSession.created_at,
        )
        .order_by(InfusionSession.created_at.desc(), InfusionSession.id.desc())
    )
    wanted = None if patient_ids is None else set(patient_ids)
    if wanted is not None and len(wanted) <= WHERE_IN_AT_MOST:
        query = query.where(InfusionSession.patient_id.in_(wanted))
    found: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    for patient_id, number, at in db.execute(query):
        if wanted is None or patient_id in wanted:
            found[patient_id].append((number, at))
    # A stable sort, as ``given_sessions`` read by their outcomes are sorted.
    return {pid: sorted(rows, key=lambda r: r[1]) for pid, rows in found.items()}


@dataclass(frozen=True)
class DayItem:
    appointment: scheduling.Appointment
    patient_name: str
    session_id: int | None
    session_status: str | None


def todays_list(
    db: Session, *, actor: Actor, day: date | None = None, nurse_user_id: int | None = None
) -> list[DayItem]:
    """The day's appointments with their session, if one is open."""
    require(actor, RUNNERS, "reading the day's sessions")
    zone = get_settings().zone
    day = day or datetime.now(zone).date()
    appointments = [
        a
        for a in scheduling.appointments_for_day(
            db, actor=actor, day=day, zone=zone, nurse_user_id=nurse_user_id
        )
        if a.kind != "consultation"
    ]
    ids = [a.id for a in appointments]
    sessions = (
        {
            s.appointment_id: s
            for s in db.scalars(
                select(InfusionSession).where(InfusionSession.appointment_id.in_(ids))
            )
        }
        if ids
        else {}
    )
    names = patients.display_names(db, {a.patient_id for a in appointments})
    out = []
    for a in appointments:
        s = sessions.get(a.id)
        out.append(
            DayItem(a, names.get(a.patient_id, "?"), s.id if s else None, s.status if s else None)
        )
        audit.note_read(
            db,
            actor=actor,
            action="session.day_list",
            patient_id=a.patient_id,
            object_type="appointment",
            object_id=a.id,
        )
    db.flush()
    return out
