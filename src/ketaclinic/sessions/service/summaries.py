"""A session's figures kept as its facts are charted (``SessionSummaryRow``).

Each act that changes what a summary holds updates it in the act's own transaction and
flushes: a reading or a batch of readings adds to the running peaks, lowest SpO2,
count and alarms in constant time (``note_readings``); every other act (a score, an
intervention, a symptom, a pump or device event, a correction, the discharge) derives
the row again from the session's facts in a fixed number of indexed statements
(``refresh``). ``rebuild`` derives every row from the facts, a batch of sessions at a
time (``ketaclinic summaries rebuild``, the grown demo); ``differences`` compares the
kept rows with a fresh derivation (a test holds them equal on the demo clinic).

The dose and the time dosing took are kept once dosing has ended (or the session has
left the chair): while an infusion runs, its dose grows with the clock, and the chart
derives it live for that one session.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Integer, Table, bindparam, case, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from ketaclinic.configuration import service as configuration
from ketaclinic.orders import service as orders
from ketaclinic.platform.db import UTCDateTime, keep_row, utcnow
from ketaclinic.sessions.models import (
    InfusionSession,
    SessionAlarm,
    SessionEntry,
    SessionEvent,
    SessionSummaryRow,
    VitalSign,
)
from ketaclinic.sessions.service import view

CADSS = ("cadss", "cadss6")
MOAAS = "moaas"
# Sessions derived per batch: SQLite limits the parameters of one statement.
BATCH = 400
# What ``differences`` compares: every derived column.
COLUMNS = (
    "patient_id",
    "course_id",
    "started_at",
    "ended_at",
    "discharged_at",
    "dose_mg",
    "dosing_minutes",
    "readings",
    "peak_systolic",
    "peak_diastolic",
    "lowest_spo2",
    "max_heart_rate",
    "cadss_max",
    "moaas_lowest",
    "alarms",
    "interventions",
    "side_effects",
)
# While a session is in the chair, a running infusion's end follows the clock (the bag
# empties at its rate): these are as of the session's last act until it leaves.
LIVE = frozenset({"ended_at", "dose_mg", "dosing_minutes"})


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _min(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def derive(db: Session, rows: Sequence[InfusionSession]) -> dict[int, dict[str, Any]]:
    """Every kept column of each session, from its facts, in a fixed number of
    statements for the whole batch (events, entries, reading and alarm aggregates,
    orders), whatever the number of readings."""
    if not rows:
        return {}
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
            SessionEntry.kind.in_(("score", "side_effect", "intervention")),
        )
        .order_by(SessionEntry.at, SessionEntry.id)
    ):
        entries[n.session_id].append(n)
    signs = {
        sid: (count, systolic, diastolic, spo2, heart)
        for sid, count, systolic, diastolic, spo2, heart in db.execute(
            select(
                VitalSign.session_id,
                func.count(),
                func.max(VitalSign.systolic_bp),
                func.max(VitalSign.diastolic_bp),
                func.min(VitalSign.spo2),
                func.max(VitalSign.heart_rate),
            )
            .where(VitalSign.session_id.in_(ids), VitalSign.entered_in_error_at.is_(None))
            .group_by(VitalSign.session_id)
        )
    }
    alarms = dict(
        db.execute(
            select(SessionAlarm.session_id, func.count())
            .where(SessionAlarm.session_id.in_(ids))
            .group_by(SessionAlarm.session_id)
        ).all()
    )
    found_orders = orders.orders_by_id(db, {r.order_id for r in rows})
    nasal = any(r.route == "esketamine_nasal" for r in rows)
    protocol_overrides = configuration.overrides_for(db, "dosing.protocols") if nasal else []
    now = utcnow()
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        order = found_orders[row.order_id]
        state = _dosing(db, row, order, events[row.id], now, protocol_overrides)
        count, systolic, diastolic, spo2, heart = signs.get(row.id, (0, None, None, None, None))
        valid = entries[row.id]
        cadss = [e.value for e in valid if e.kind == "score" and e.code in CADSS]
        moaas = [e.value for e in valid if e.kind == "score" and e.code == MOAAS]
        effects: list[str] = []
        for n in valid:
            if n.kind == "side_effect":
                label = f"{n.data.get('label', n.code)} ({n.data.get('severity')})"
                if label not in effects:
                    effects.append(label)
        left = state.discharged
        settled = state.dose_end is not None or row.status != "open"
        out[row.id] = {
            "patient_id": row.patient_id,
            "course_id": row.course_id,
            "started_at": state.dose_start,
            "ended_at": left.at if left else state.dose_end,
            "discharged_at": left.at if left else None,
            "dose_mg": round(state.mg_given, 1) if settled and state.dose_start else None,
            "dosing_minutes": (
                round((state.dose_end - state.dose_start).total_seconds() / 60, 1)
                if state.dose_start is not None and state.dose_end is not None
                else None
            ),
            "readings": int(count),
            "peak_systolic": systolic,
            "peak_diastolic": diastolic,
            "lowest_spo2": spo2,
            "max_heart_rate": heart,
            "cadss_max": max((v for v in cadss if v is not None), default=None),
            "moaas_lowest": min((v for v in moaas if v is not None), default=None),
            "alarms": int(alarms.get(row.id, 0)),
            "interventions": sum(1 for e in valid if e.kind == "intervention"),
            "side_effects": effects,
        }
    return out


def _dosing(
    db: Session,
    row: InfusionSession,
    order: orders.Order,
    events: list[SessionEvent],
    now: datetime,
    protocol_overrides: list[Any],
) -> view.SessionView:
    """The session's dosing derived from its events, as ``view.build`` derives it (the
    pump replayed up to the discharge, or now while the session is in the chair)."""
    left = [e for e in events if e.kind == "discharge"]
    return view.dosing_timeline(
        db,
        row=row,
        order=order,
        events=events,
        now=left[-1].at if left else now,
        protocol_overrides=protocol_overrides,
    )


def _store(db: Session, session_id: int, values: dict[str, Any]) -> SessionSummaryRow:
    return keep_row(db, SessionSummaryRow, session_id, values)


def refresh(db: Session, session_id: int) -> SessionSummaryRow:
    """Derive one session's row again from its facts, inside the act (flushed)."""
    db.flush()
    row = db.get(InfusionSession, session_id)
    assert row is not None
    kept = _store(db, session_id, derive(db, [row])[session_id])
    db.flush()
    return kept


def _raised(column: Any, value: Any) -> Any:
    # A NULL value compares as unknown and keeps the column as it is.
    return case((column.is_(None) | (column < value), value), else_=column)


def _lowered(column: Any, value: Any) -> Any:
    return case((column.is_(None) | (column > value), value), else_=column)


_KEPT = cast(Table, SessionSummaryRow.__table__)
# Readings just charted, added to one session's running figures: one UPDATE built once,
# run for every session of a group with one executemany of its bound values (built per
# session, its cache key and coercions cost more than the rest of noting the readings).
_NOTE = (
    update(_KEPT)
    .where(_KEPT.c.session_id == bindparam("b_session", type_=Integer()))
    .values(
        readings=_KEPT.c.readings + bindparam("b_readings", type_=Integer()),
        peak_systolic=_raised(_KEPT.c.peak_systolic, bindparam("b_systolic", type_=Integer())),
        peak_diastolic=_raised(_KEPT.c.peak_diastolic, bindparam("b_diastolic", type_=Integer())),
        lowest_spo2=_lowered(_KEPT.c.lowest_spo2, bindparam("b_spo2", type_=Integer())),
        max_heart_rate=_raised(_KEPT.c.max_heart_rate, bindparam("b_heart", type_=Integer())),
        alarms=_KEPT.c.alarms + bindparam("b_alarms", type_=Integer()),
        updated_at=bindparam("b_now", type_=UTCDateTime()),
    )
)


def _noted(session_id: int, readings: Iterable[Any], alarms: int, now: datetime) -> dict[str, Any]:
    """The bound values of ``_NOTE`` for one session's new readings."""
    valid = [r for r in readings if getattr(r, "entered_in_error_at", None) is None]

    def top(name: str) -> int | None:
        return max((v for r in valid if (v := getattr(r, name)) is not None), default=None)

    return {
        "b_session": session_id,
        "b_readings": len(valid),
        "b_systolic": top("systolic_bp"),
        "b_diastolic": top("diastolic_bp"),
        "b_spo2": min((r.spo2 for r in valid if r.spo2 is not None), default=None),
        "b_heart": top("heart_rate"),
        "b_alarms": alarms,
        "b_now": now,
    }


def note_readings(db: Session, session_id: int, readings: Iterable[Any], alarms: int) -> None:
    """Readings just charted (``VitalSign`` rows, or the values of rows inserted in
    bulk) and the alarms they raised, added to the running figures by one UPDATE,
    whatever the number of readings before them; a session without a row yet is
    derived whole."""
    note_many(db, [(session_id, readings, alarms)])


def note_many(db: Session, noted: Sequence[tuple[int, Iterable[Any], int]]) -> None:
    """``note_readings`` for several sessions (a group of monitor messages: session id,
    its new readings, the alarms they raised), with one statement for all of them."""
    if not noted:
        return
    now = utcnow()
    values = [_noted(session_id, readings, alarms, now) for session_id, readings, alarms in noted]
    done = cast(CursorResult[Any], db.execute(_NOTE, values))
    ids = [v["b_session"] for v in values]
    if done.rowcount != len(ids):
        # Some session has no row yet (kept before summaries were): derived whole.
        have = set(
            db.scalars(select(SessionSummaryRow.session_id).where(_KEPT.c.session_id.in_(ids)))
        )
        for session_id in ids:
            if session_id not in have:
                refresh(db, session_id)
    for session_id in ids:
        # A row this unit of work holds is read again when next used, not trusted stale.
        held = db.identity_map.get(db.identity_key(SessionSummaryRow, session_id))
        if held is not None:
            db.expire(held)


def values_of(kept: SessionSummaryRow | None) -> dict[str, Any]:
    """A kept row's derived columns by name (empty for none)."""
    return {} if kept is None else {name: getattr(kept, name) for name in COLUMNS}


def kept_of(db: Session, session_ids: Collection[int]) -> dict[int, SessionSummaryRow]:
    if not session_ids:
        return {}
    return {
        k.session_id: k
        for k in db.scalars(
            select(SessionSummaryRow).where(SessionSummaryRow.session_id.in_(session_ids))
        )
    }


def _batches(db: Session, only_missing: bool) -> tuple[int, Iterable[list[InfusionSession]]]:
    query = select(InfusionSession).order_by(InfusionSession.id)
    counted = select(func.count()).select_from(InfusionSession)
    if only_missing:
        missing = (
            ~select(SessionSummaryRow.session_id)
            .where(SessionSummaryRow.session_id == InfusionSession.id)
            .exists()
        )
        query = query.where(missing)
        counted = counted.where(missing)
    total = int(db.scalar(counted) or 0)

    def chunks() -> Iterable[list[InfusionSession]]:
        last = 0
        while True:
            rows = list(db.scalars(query.where(InfusionSession.id > last).limit(BATCH)))
            if not rows:
                return
            last = rows[-1].id
            yield rows

    return total, chunks()


def rebuild(
    db: Session,
    *,
    only_missing: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Derive every session's row from its facts (``only_missing``: those without one);
    how many were written. ``progress(done, total)`` as batches are written."""
    total, chunks = _batches(db, only_missing)
    done = 0
    for rows in chunks:
        for sid, values in derive(db, rows).items():
            _store(db, sid, values)
        db.flush()
        done += len(rows)
        if progress:
            progress(done, total)
    return done


def differences(db: Session) -> list[str]:
    """Every kept value that differs from a fresh derivation, as ``session N: column
    kept X, facts Y`` (and sessions with no row): empty when the two agree."""
    found: list[str] = []
    _, chunks = _batches(db, only_missing=False)
    for rows in chunks:
        kept = kept_of(db, [r.id for r in rows])
        for sid, values in derive(db, rows).items():
            have = kept.get(sid)
            if have is None:
                found.append(f"session {sid}: no summary")
                continue
            status = next(r.status for r in rows if r.id == sid)
            for name in COLUMNS:
                if status == "open" and name in LIVE:
                    continue
                if getattr(have, name) != values[name]:
                    found.append(
                        f"session {sid}: {name} kept {getattr(have, name)!r}, "
                        f"facts {values[name]!r}"
                    )
    return found
