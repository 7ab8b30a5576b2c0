"""A patient's sessions as plain facts (readings, sessions, doses given) for another
area's act that audits itself: the interop area's FHIR reads and exports, which check
access and note one read per patient. Entries marked in error are left out."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from ketaclinic.orders import service as orders
from ketaclinic.sessions import pump
from ketaclinic.sessions.models import InfusionSession, SessionEvent, VitalSign
from ketaclinic.sessions.service.common import minutes
from ketaclinic.sessions.service.view import PUMP_KINDS


@dataclass(frozen=True)
class VitalReading:
    id: int
    session_id: int
    patient_id: int
    taken_at: datetime
    heart_rate: int | None
    systolic_bp: int | None
    diastolic_bp: int | None
    spo2: int | None
    respiratory_rate: int | None
    source: str
    recorded_at: datetime | None = None  # when it was charted (or came from a monitor)


@dataclass(frozen=True)
class SessionRecord:
    id: int
    patient_id: int
    number: int
    route: str  # iv|esketamine_nasal
    protocol_id: str
    status: str
    created_at: datetime
    started_at: datetime | None  # the first charted reading or event
    ended_at: datetime | None  # the last charted event, once the session is over


@dataclass(frozen=True)
class DoseGiven:
    """An IV infusion (one per session, from its first start to its stop) or one
    esketamine nasal device."""

    id: str
    session_id: int
    patient_id: int
    route: str  # iv|esketamine_nasal
    started_at: datetime
    ended_at: datetime | None
    dose_mg: float | None  # what was given: the pump record's replay, a device's mg
    rate_ml_per_h: float | None
    concentration_mg_per_ml: float | None
    ordered_mg: float | None = None  # the signed order's dose, for an infusion


OVER = ("discharged", "signed", "cosigned", "cancelled")


def _where(query: Any, column: Any, patient_ids: Collection[int] | None) -> Any:
    return query if patient_ids is None else query.where(column.in_(sorted(set(patient_ids))))


def vital_readings(
    db: Session, *, patient_ids: Collection[int] | None = None, ids: Collection[int] | None = None
) -> list[VitalReading]:
    """Every valid reading of the patients (``None``: every patient), oldest first."""
    query: Any = (
        select(VitalSign, InfusionSession.patient_id)
        .join(InfusionSession, InfusionSession.id == VitalSign.session_id)
        .where(VitalSign.entered_in_error_at.is_(None))
        .order_by(VitalSign.taken_at, VitalSign.id)
    )
    query = _where(query, InfusionSession.patient_id, patient_ids)
    if ids is not None:
        query = query.where(VitalSign.id.in_(sorted(set(ids))))
    return [
        VitalReading(
            id=v.id,
            session_id=v.session_id,
            patient_id=pid,
            taken_at=v.taken_at,
            heart_rate=v.heart_rate,
            systolic_bp=v.systolic_bp,
            diastolic_bp=v.diastolic_bp,
            spo2=v.spo2,
            respiratory_rate=v.respiratory_rate,
            source=v.source,
            recorded_at=v.recorded_at,
        )
        for v, pid in db.execute(query)
    ]


@dataclass(frozen=True)
class ReadingWindow:
    """The readings behind a page of vital-sign Observations (a reading is one
    Observation per vital sign charted, blood pressure as one): ``skip`` Observations of
    the first reading come before the page; ``total`` is every reading's Observations."""

    readings: list[VitalReading]
    skip: int
    total: int


def _observations_of_reading() -> Any:
    one = {"else_": 0}
    return (
        case(
            (or_(VitalSign.systolic_bp.is_not(None), VitalSign.diastolic_bp.is_not(None)), 1),
            **one,
        )
        + case((VitalSign.heart_rate.is_not(None), 1), **one)
        + case((VitalSign.spo2.is_not(None), 1), **one)
        + case((VitalSign.respiratory_rate.is_not(None), 1), **one)
    )


def reading_window(db: Session, *, patient_id: int, start: int, stop: int) -> ReadingWindow:
    """The readings whose Observations fall in positions ``[start, stop)`` of the
    patient's vital-sign Observations (oldest reading first, as ``vital_readings``),
    found in SQL: a running sum of each reading's Observations picks the page's rows, so
    a page of a long record loads only its own readings."""
    counted = _observations_of_reading()
    ranked = (
        select(
            VitalSign.id.label("id"),
            VitalSign.taken_at.label("taken_at"),
            counted.label("n"),
            func.sum(counted).over(order_by=(VitalSign.taken_at, VitalSign.id)).label("upto"),
        )
        .join(InfusionSession, InfusionSession.id == VitalSign.session_id)
        .where(InfusionSession.patient_id == patient_id, VitalSign.entered_in_error_at.is_(None))
        .subquery()
    )
    total = int(db.scalar(select(func.coalesce(func.sum(ranked.c.n), 0))) or 0)
    if stop <= start or start >= total:
        return ReadingWindow([], 0, total)
    rows = db.execute(
        select(ranked.c.id, ranked.c.n, ranked.c.upto)
        .where(and_(ranked.c.n > 0, ranked.c.upto > start, ranked.c.upto - ranked.c.n < stop))
        .order_by(ranked.c.taken_at, ranked.c.id)
    ).all()
    if not rows:
        return ReadingWindow([], 0, total)
    skip = start - (int(rows[0].upto) - int(rows[0].n))
    return ReadingWindow(vital_readings(db, ids=[r.id for r in rows]), max(0, skip), total)


def count_sessions(db: Session, *, patient_id: int) -> int:
    return int(
        db.scalar(
            select(func.count(InfusionSession.id)).where(InfusionSession.patient_id == patient_id)
        )
        or 0
    )


def _events(db: Session, session_ids: list[int]) -> dict[int, list[SessionEvent]]:
    found: dict[int, list[SessionEvent]] = {sid: [] for sid in session_ids}
    if not session_ids:
        return found
    for event in db.scalars(
        select(SessionEvent)
        .where(SessionEvent.session_id.in_(session_ids), SessionEvent.entered_in_error_at.is_(None))
        .order_by(SessionEvent.at, SessionEvent.id)
    ):
        found[event.session_id].append(event)
    return found


def _sessions(
    db: Session,
    patient_ids: Collection[int] | None,
    ids: Collection[int] | None,
    offset: int = 0,
    limit: int | None = None,
) -> list[InfusionSession]:
    query = _where(select(InfusionSession), InfusionSession.patient_id, patient_ids)
    if ids is not None:
        query = query.where(InfusionSession.id.in_(sorted(set(ids))))
    query = query.order_by(InfusionSession.created_at, InfusionSession.id)
    if offset or limit is not None:
        query = query.offset(offset).limit(limit)
    return list(db.scalars(query))


def session_records(
    db: Session,
    *,
    patient_ids: Collection[int] | None = None,
    ids: Collection[int] | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[SessionRecord]:
    """Every session of the patients, oldest first (``offset``/``limit``: one page,
    in SQL)."""
    rows = _sessions(db, patient_ids, ids, offset, limit)
    events = _events(db, [r.id for r in rows])
    first_reading: dict[int, datetime] = {}
    if rows:
        for session_id, at in db.execute(
            select(VitalSign.session_id, func.min(VitalSign.taken_at))
            .where(VitalSign.session_id.in_([r.id for r in rows]))
            .group_by(VitalSign.session_id)
        ):
            first_reading[session_id] = at
    found = []
    for row in rows:
        charted = events[row.id]
        moments = [m for m in (first_reading.get(row.id), charted[0].at if charted else None) if m]
        found.append(
            SessionRecord(
                id=row.id,
                patient_id=row.patient_id,
                number=row.number,
                route=row.route,
                protocol_id=row.protocol_id,
                status=row.status,
                created_at=row.created_at,
                started_at=min(moments) if moments else None,
                ended_at=charted[-1].at if charted and row.status in OVER else None,
            )
        )
    return found


def doses_given(
    db: Session,
    *,
    patient_ids: Collection[int] | None = None,
    session_ids: Collection[int] | None = None,
) -> list[DoseGiven]:
    """Every infusion and nasal device given to the patients, oldest first. An IV
    infusion's dose is what the pump record says went in up to its stop (the same
    replay the chart and the controlled-substance ledger use; none while it runs, or
    when the record cannot be replayed), its rate the first charted rate."""
    rows = _sessions(db, patient_ids, session_ids)
    events = _events(db, [r.id for r in rows])
    ordered = orders.orders_by_id(db, {r.order_id for r in rows})
    found = []
    for row in rows:
        order = ordered.get(row.order_id)
        charted = events[row.id]
        if row.route == "iv":
            starts = [e for e in charted if e.kind == "start"]
            if not starts:
                continue
            stops = [e for e in charted if e.kind == "stop"]
            found.append(
                DoseGiven(
                    id=f"{row.id}",
                    session_id=row.id,
                    patient_id=row.patient_id,
                    route=row.route,
                    started_at=starts[0].at,
                    ended_at=stops[-1].at if stops else None,
                    dose_mg=_given_mg(charted, order) if stops else None,
                    rate_ml_per_h=starts[0].rate_ml_per_h
                    or (order.rate_ml_per_h if order else None),
                    concentration_mg_per_ml=order.concentration_mg_per_ml if order else None,
                    ordered_mg=order.dose_mg if order else None,
                )
            )
            continue
        for event in charted:
            if event.kind != "device":
                continue
            mg = (event.detail or {}).get("mg")
            found.append(
                DoseGiven(
                    id=f"{row.id}-{event.id}",
                    session_id=row.id,
                    patient_id=row.patient_id,
                    route=row.route,
                    started_at=event.at,
                    ended_at=None,
                    dose_mg=float(mg) if mg is not None else None,
                    rate_ml_per_h=None,
                    concentration_mg_per_ml=None,
                )
            )
    found.sort(key=lambda d: (d.started_at, d.id))
    return found


def _given_mg(charted: list[SessionEvent], order: Any) -> float | None:
    """The mg the pump record says went in, from the first start to the last stop."""
    acts = [e for e in charted if e.kind in PUMP_KINDS]
    if order is None or not acts:
        return None
    origin = acts[0].at
    try:
        status = pump.replay(
            [pump.PumpEvent(e.kind, minutes(e.at, origin), e.rate_ml_per_h) for e in acts],  # type: ignore[arg-type]
            now_min=minutes(acts[-1].at, origin),
            initial_rate_ml_per_h=order.rate_ml_per_h or 0.0,
            total_volume_ml=order.total_volume_ml or 0.0,
            dose_mg=order.dose_mg,
        )
    except ValueError:
        return None  # a record the replay refuses: no amount rather than a guess
    return round(status.mg, 3)
