"""Reading sessions: one whole session, a patient's sessions with their key figures (also
for other areas), and the nurse's day.

``given_sessions`` is for another area's act that audits itself (outcomes' standing of a
course, and its scheduled work): it checks no role and notes no read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.errors import NotFound
from ketaclinic.platform.settings import get_settings
from ketaclinic.scheduling import service as scheduling
from ketaclinic.sessions.models import InfusionSession, SessionSummaryRow
from ketaclinic.sessions.service import summaries, view
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
    lowest_spo2: int | None = None
    max_heart_rate: int | None = None
    moaas_lowest: float | None = None
    alarms: int = 0
    interventions: int = 0


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
    """The patient's sessions with their key figures, each session read once with its
    kept summary (two statements however many sessions and readings there are); a
    session still dosing, or one without a kept row, is derived from its facts (a fixed
    number of statements more)."""
    query = (
        select(InfusionSession, SessionSummaryRow)
        .outerjoin(SessionSummaryRow, SessionSummaryRow.session_id == InfusionSession.id)
        .where(InfusionSession.patient_id == patient_id)
        .order_by(InfusionSession.created_at.desc(), InfusionSession.id.desc())
    )
    if only_completed:
        query = query.where(InfusionSession.status.in_(COMPLETED))
    found = [(row, kept) for row, kept in db.execute(query)]
    if not found:
        return []
    live = [
        row
        for row, kept in found
        if kept is None or (kept.dose_mg is None and kept.started_at is not None)
    ]
    derived = summaries.derive(db, live)
    out = []
    for row, kept in found:
        values = derived.get(row.id) or summaries.values_of(kept)
        get = values.get
        start, end = get("started_at"), get("ended_at")
        out.append(
            SessionSummary(
                session_id=row.id,
                number=row.number,
                started_at=start,
                ended_at=end,
                protocol_id=row.protocol_id,
                dose_mg=get("dose_mg") or 0.0,
                peak_systolic=get("peak_systolic"),
                peak_diastolic=get("peak_diastolic"),
                cadss_total=get("cadss_max"),
                side_effects=list(get("side_effects") or []),
                status=row.status,
                route=row.route,
                dosing_minutes=get("dosing_minutes"),
                lowest_spo2=get("lowest_spo2"),
                max_heart_rate=get("max_heart_rate"),
                moaas_lowest=get("moaas_lowest"),
                alarms=get("alarms") or 0,
                interventions=get("interventions") or 0,
            )
        )
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
    device), oldest first: one statement over the kept summaries for the whole clinic,
    for another area's act that audits itself. ``None``: every patient."""
    query = (
        select(InfusionSession.patient_id, InfusionSession.number, SessionSummaryRow.started_at)
        .join(SessionSummaryRow, SessionSummaryRow.session_id == InfusionSession.id)
        .where(InfusionSession.status.in_(COMPLETED), SessionSummaryRow.started_at.is_not(None))
        .order_by(InfusionSession.created_at.desc(), InfusionSession.id.desc())
    )
    wanted = None if patient_ids is None else set(patient_ids)
    if wanted is not None and len(wanted) <= WHERE_IN_AT_MOST:
        query = query.where(InfusionSession.patient_id.in_(wanted))
    found: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    for patient_id, number, at in db.execute(query):
        if at is not None and (wanted is None or patient_id in wanted):
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
