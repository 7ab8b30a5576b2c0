"""Reading the calendar. Every read that shows appointments is audited per patient."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.orders import service as orders
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import NotFound
from ketaclinic.platform.roles import Role
from ketaclinic.scheduling.models import Appointment
from ketaclinic.scheduling.service.common import (
    READERS,
    audit_reads,
    load,
    overlaps,
    require,
    zone_or_default,
)

# A longer list of patients is filtered after reading rather than bound into the query:
# SQLite limits the parameters of one statement, and a clinic-wide read is one scan.
WHERE_IN_AT_MOST = 500


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants at which a local day starts and ends (23 or 25 hours on the
    days the clocks change)."""
    starts = datetime.combine(day, time.min, tzinfo=zone)
    ends = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return starts, ends


def get_appointment(db: Session, *, actor: Actor, appointment_id: int) -> Appointment:
    row = load(db, appointment_id)
    if actor.patient_only:
        if actor.patient_id != row.patient_id:
            raise NotFound(f"no appointment with id {appointment_id}")
    else:
        require(actor, READERS, "see appointments")
    audit.note_read(
        db,
        actor=actor,
        action="appointment.view",
        patient_id=row.patient_id,
        object_type="appointment",
        object_id=row.id,
    )
    db.flush()
    return row


def appointments_between(
    db: Session,
    *,
    actor: Actor,
    starts: datetime,
    ends: datetime,
    nurse_user_id: int | None = None,
    include_cancelled: bool = True,
    what: str = "calendar",
) -> list[Appointment]:
    require(actor, READERS, "see the calendar")
    query = select(Appointment).where(overlaps(starts, ends))
    if nurse_user_id is not None:
        query = query.where(Appointment.nurse_user_id == nurse_user_id)
    if not include_cancelled:
        query = query.where(Appointment.status != "cancelled")
    rows = list(db.scalars(query.order_by(Appointment.starts_at, Appointment.id)))
    audit_reads(db, actor, rows, what)
    db.flush()
    return rows


def appointments_for_day(
    db: Session,
    *,
    actor: Actor,
    day: date,
    nurse_user_id: int | None = None,
    zone: ZoneInfo | None = None,
) -> list[Appointment]:
    """Appointments of one local day (cancelled ones included, to show them struck)."""
    starts, ends = day_bounds(day, zone_or_default(zone))
    return appointments_between(
        db,
        actor=actor,
        starts=starts,
        ends=ends,
        nurse_user_id=nurse_user_id,
        what=f"day {day.isoformat()}",
    )


def appointments_for_week(
    db: Session, *, actor: Actor, start: date, zone: ZoneInfo | None = None
) -> dict[date, list[Appointment]]:
    tz = zone_or_default(zone)
    starts, _ = day_bounds(start, tz)
    _, ends = day_bounds(start + timedelta(days=6), tz)
    rows = appointments_between(
        db, actor=actor, starts=starts, ends=ends, what=f"week from {start.isoformat()}"
    )
    days: dict[date, list[Appointment]] = {start + timedelta(days=i): [] for i in range(7)}
    for row in rows:
        local = row.starts_at.astimezone(tz).date()
        if local in days:
            days[local].append(row)
    return days


def upcoming_for_patient(
    db: Session, *, actor: Actor, patient_id: int, now: datetime | None = None
) -> list[Appointment]:
    """The patient's appointments not yet over and not cancelled. A patient account sees
    only its own."""
    if actor.patient_only:
        if actor.patient_id != patient_id:
            raise NotFound("no such patient")
    else:
        require(actor, READERS, "see appointments")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    moment = now or utcnow()
    rows = list(
        db.scalars(
            select(Appointment)
            .where(
                Appointment.patient_id == patient_id,
                Appointment.ends_at > moment,
                Appointment.status.in_(("booked", "checked_in")),
            )
            .order_by(Appointment.starts_at)
        )
    )
    audit_reads(db, actor, rows, "upcoming")
    db.flush()
    return rows


def to_confirm(
    db: Session, *, actor: Actor, day: date, zone: ZoneInfo | None = None
) -> list[Appointment]:
    """Booked appointments of ``day`` (usually tomorrow) with no confirmation yet."""
    require(actor, frozenset({Role.front_desk, Role.prescriber, Role.nurse}), "confirm visits")
    starts, ends = day_bounds(day, zone_or_default(zone))
    rows = list(
        db.scalars(
            select(Appointment)
            .where(
                Appointment.starts_at >= starts,
                Appointment.starts_at < ends,
                Appointment.status == "booked",
                Appointment.confirmed_at.is_(None),
            )
            .order_by(Appointment.starts_at)
        )
    )
    audit_reads(db, actor, rows, f"to confirm on {day.isoformat()}")
    db.flush()
    return rows


def patient_names(db: Session, *, actor: Actor, patient_ids: set[int]) -> dict[int, str]:
    """Names to show beside appointments, read through the patients area (audited)."""
    return {
        pid: patients.get_patient(db, actor=actor, patient_id=pid, purpose="schedule").display_name
        for pid in sorted(patient_ids)
    }


# ------------------------------------------------------------------ for other areas' acts
# Lookups for an act of another area that audits itself: they note no read.


def appointment_by_id(db: Session, appointment_id: int) -> Appointment:
    """The appointment a session belongs to, for an act that audits itself."""
    return load(db, appointment_id)


@dataclass(frozen=True)
class PlannedVisit:
    """An appointment that holds a planned session of a course, with that session's
    number and kind."""

    appointment_id: int
    planned_session_id: int
    number: int
    kind: str
    starts_at: datetime
    status: str


def planned_visits(
    db: Session, *, patient_id: int, statuses: tuple[str, ...], after: datetime | None = None
) -> list[PlannedVisit]:
    """The patient's appointments of planned sessions in ``statuses`` (starting after
    ``after``), in time order (outcomes: sessions given and to come)."""
    query = select(Appointment).where(
        Appointment.patient_id == patient_id,
        Appointment.planned_session_id.is_not(None),
        Appointment.status.in_(statuses),
    )
    if after is not None:
        query = query.where(Appointment.starts_at > after)
    rows = list(db.scalars(query.order_by(Appointment.starts_at)))
    planned = orders.planned_sessions_by_id(
        db, {r.planned_session_id for r in rows if r.planned_session_id is not None}
    )
    return [
        PlannedVisit(r.id, p.id, p.number, p.kind, r.starts_at, r.status)
        for r in rows
        if r.planned_session_id is not None and (p := planned.get(r.planned_session_id))
    ]


def planned_visits_of(
    db: Session, *, patient_ids: Collection[int] | None, statuses: tuple[str, ...]
) -> dict[int, list[PlannedVisit]]:
    """``planned_visits`` of many patients at once (``None``: every patient), in a fixed
    number of statements (outcomes: a clinic's sessions given)."""
    query = select(Appointment).where(
        Appointment.planned_session_id.is_not(None), Appointment.status.in_(statuses)
    )
    if patient_ids is None:
        rows = list(db.scalars(query.order_by(Appointment.starts_at)))
    else:
        # The patients a few hundred at a time: many patients are still a part of the
        # clinic, and reading every visit to keep theirs read the whole clinic's.
        wanted = sorted(set(patient_ids))
        rows = [
            r
            for i in range(0, len(wanted), WHERE_IN_AT_MOST)
            for r in db.scalars(
                query.where(Appointment.patient_id.in_(wanted[i : i + WHERE_IN_AT_MOST]))
            )
        ]
        rows.sort(key=lambda r: r.starts_at)
    planned = orders.planned_sessions_by_id(
        db, {r.planned_session_id for r in rows if r.planned_session_id is not None}
    )
    found: dict[int, list[PlannedVisit]] = {}
    for r in rows:
        if r.planned_session_id is not None and (p := planned.get(r.planned_session_id)):
            found.setdefault(r.patient_id, []).append(
                PlannedVisit(r.id, p.id, p.number, p.kind, r.starts_at, r.status)
            )
    return found


@dataclass(frozen=True)
class DeskDay:
    """The front desk's day: today's arrivals with their check-in state, and how many of
    the next clinic day's visits are not confirmed yet."""

    day: date
    arrivals: list[Appointment]
    names: dict[int, str]
    next_day: date
    unconfirmed: int

    @property
    def checked_in(self) -> int:
        return sum(1 for a in self.arrivals if a.status in ("checked_in", "completed"))

    @property
    def expected(self) -> int:
        return sum(1 for a in self.arrivals if a.status == "booked")


def desk_day(db: Session, *, actor: Actor, day: date, zone: ZoneInfo | None = None) -> DeskDay:
    """Today's arrivals (cancelled visits left out) and the count of tomorrow's booked
    visits with no day-before confirmation: two queries and one for the names."""
    require(actor, READERS, "see the day's arrivals")
    tz = zone_or_default(zone)
    starts, ends = day_bounds(day, tz)
    arrivals = appointments_between(
        db,
        actor=actor,
        starts=starts,
        ends=ends,
        include_cancelled=False,
        what=f"arrivals {day.isoformat()}",
    )
    tomorrow = day + timedelta(days=1)
    after_starts, after_ends = day_bounds(tomorrow, tz)
    unconfirmed = db.scalar(
        select(func.count()).where(
            Appointment.starts_at >= after_starts,
            Appointment.starts_at < after_ends,
            Appointment.status == "booked",
            Appointment.confirmed_at.is_(None),
        )
    )
    names = patients.display_names(db, {a.patient_id for a in arrivals})
    return DeskDay(day, arrivals, names, tomorrow, unconfirmed or 0)
