"""Vital signs and the alarms they raise.

Each new reading is assessed once against the limit table of its phase (the readings of
that phase so far, so that rules confirmed over minutes can fire); alarms not raised
before are stored, shown until acknowledged, and never raised again for the same rule
and reading on a later page load.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Integer, Table, bindparam, column, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ketaclinic.clinical import monitoring
from ketaclinic.configuration import service as configuration
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import UTCDateTime, new_ids, rows_by_id, utcnow
from ketaclinic.platform.errors import Conflict, Invalid, NotFound
from ketaclinic.sessions.models import InfusionSession, SessionAlarm, VitalSign
from ketaclinic.sessions.service import calls, summaries, view
from ketaclinic.sessions.service.common import (
    RUNNERS,
    acknowledge,
    charted_time,
    load,
    load_open,
    reason_text,
    record,
    require,
    stored_alarm,
)
from ketaclinic.sessions.service.reassess import reassess_alarms

SOURCES = ("manual", "monitor", "device")


# Input validation, not clinical limits (as ``monitoring.PLAUSIBLE_RANGES``): a mean
# pressure (mmHg) or a temperature (degC) outside these is a device or typing error.
# ketaclinic's convention, deliberately wide; no alarm rule reads them.
SHOWN_ONLY_RANGES: dict[str, tuple[float, float]] = {
    "mean_bp": (20.0, 250.0),
    "temperature": (25.0, 45.0),
}


def _check_values(values: Mapping[str, int | float | None]) -> None:
    if all(v is None for v in values.values()):
        raise Invalid("chart at least one measurement", fields={"heart_rate": "required"})
    for name, value in values.items():
        if value is None:
            continue
        low, high = (
            SHOWN_ONLY_RANGES[name]
            if name in SHOWN_ONLY_RANGES
            else monitoring.PLAUSIBLE_RANGES[name]  # type: ignore[index]
        )
        if not low <= value <= high:
            raise Invalid(
                f"{name.replace('_', ' ')} {value} is not a plausible reading "
                f"(accepted {low:g} to {high:g}); check the device or the typing",
                fields={name: "implausible"},
            )
    sbp, dbp = values.get("systolic_bp"), values.get("diastolic_bp")
    if (sbp is None) != (dbp is None):
        raise Invalid(
            "chart systolic and diastolic blood pressure together",
            fields={"diastolic_bp" if dbp is None else "systolic_bp": "required with the other"},
        )
    if sbp is not None and dbp is not None and sbp <= dbp:
        raise Invalid(
            "systolic must be above diastolic", fields={"systolic_bp": "not above diastolic"}
        )


def record_vitals(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    taken_at: datetime | None,
    heart_rate: int | None,
    systolic_bp: int | None,
    diastolic_bp: int | None,
    spo2: int | None,
    respiratory_rate: int | None,
    source: str = "manual",
    now: datetime | None = None,
) -> VitalSign:
    """Chart one set of vital signs (by hand, or from a monitor bridge) and store any
    alarm it raises."""
    require(actor, RUNNERS, "charting vital signs")
    if source not in SOURCES:
        raise Invalid(f"source must be one of {', '.join(SOURCES)}", fields={"source": "unknown"})
    values = {
        "heart_rate": heart_rate,
        "systolic_bp": systolic_bp,
        "diastolic_bp": diastolic_bp,
        "spo2": spo2,
        "respiratory_rate": respiratory_rate,
    }
    _check_values(values)
    row = load_open(db, session_id)
    moment = charted_time(taken_at, field="taken_at", now=now)
    reading = VitalSign(
        session_id=row.id,
        taken_at=moment,
        source=source,
        recorded_by_id=actor.user_id,
        recorded_at=now or utcnow(),
        **values,
    )
    state = view.for_charting(db, row=row, now=now or moment)
    alarms = _chart(db, state, [reading])
    raised = [a.rule_id for a in alarms]
    _call_prescriber(db, actor=actor, state=state, readings=[reading], alarms=alarms)
    shown = ", ".join(f"{k}={v}" for k, v in values.items() if v is not None)
    record(
        db,
        actor,
        "vitals.record",
        row,
        object_type="vital_sign",
        object_id=reading.id,
        detail=f"{source}: {shown}" + (f"; alarms: {', '.join(raised)}" if raised else ""),
    )
    db.flush()
    return reading


@dataclass(frozen=True)
class Measured:
    """One set of readings from a device, as the interface decoded it."""

    taken_at: datetime
    heart_rate: int | None = None
    systolic_bp: int | None = None
    diastolic_bp: int | None = None
    spo2: int | None = None
    respiratory_rate: int | None = None
    mean_bp: int | None = None
    temperature: float | None = None

    def values(self) -> dict[str, int | float | None]:
        return {p: getattr(self, p) for p in view.RECORDED}


def chart_device_readings(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    readings: Sequence[Measured],
    detail: str,
    now: datetime | None = None,
) -> tuple[list[VitalSign], list[SessionAlarm]]:
    """Chart the readings of one device message in one batch (``source`` ``device``)
    and raise their alarms with the same rules as a reading typed by hand.

    For the bedside-monitor interface, whose act audits the device message (``actor``
    names the device): it checks no staff role. Raises ``Invalid`` for an implausible
    value or a time out of bounds, ``Conflict`` for a closed session."""
    row = load_open(db, session_id)
    now = now or utcnow()
    rows = _device_rows(row.id, readings, now)
    state = view.for_charting(db, row=row, now=now)
    alarms = _chart(db, state, rows)
    raised = [a.rule_id for a in alarms]
    _call_prescriber(db, actor=actor, state=state, readings=rows, alarms=alarms)
    record(
        db,
        actor,
        "vitals.record",
        row,
        object_type="vital_sign",
        object_id=rows[0].id,
        detail=f"device: {detail}; {len(rows)} reading(s)"
        + (f"; alarms: {', '.join(raised)}" if raised else ""),
    )
    db.flush()
    return rows, alarms


@dataclass(slots=True)
class DeviceReading:
    """A device reading as charted by ``chart_device_groups``: the row's values, its id
    once inserted (the group's rows go in with one Core ``executemany``, no tracked
    objects)."""

    session_id: int
    taken_at: datetime
    recorded_at: datetime
    heart_rate: int | None = None
    systolic_bp: int | None = None
    diastolic_bp: int | None = None
    spo2: int | None = None
    respiratory_rate: int | None = None
    mean_bp: int | None = None
    temperature: float | None = None
    id: int = 0

    def values(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "taken_at": self.taken_at,
            "source": "device",
            "recorded_by_id": None,
            "recorded_at": self.recorded_at,
            "heart_rate": self.heart_rate,
            "systolic_bp": self.systolic_bp,
            "diastolic_bp": self.diastolic_bp,
            "spo2": self.spo2,
            "respiratory_rate": self.respiratory_rate,
            "mean_bp": self.mean_bp,
            "temperature": self.temperature,
        }


# A reading the alarm rules look at: a stored row, or one of a group on its way in.
Charted = VitalSign | DeviceReading


@dataclass(frozen=True)
class DeviceMessage:
    """The readings of one device message, named by its control id (MSH-10)."""

    reference: str
    readings: Sequence[Measured]


@dataclass
class DeviceBatch:
    """What charting a group of device messages for one session did: the rows charted
    for each accepted message (by position), the refusal of each other, the alarms."""

    charted: dict[int, list[DeviceReading]]
    refused: dict[int, Invalid]
    alarms: list[SessionAlarm]


def _device_rows(session_id: int, readings: Sequence[Measured], now: datetime) -> list[VitalSign]:
    """The rows of one message, or ``Invalid`` (implausible value, time out of bounds)."""
    rows = []
    for measured in readings:
        values = measured.values()
        _check_values(values)
        rows.append(
            VitalSign(
                session_id=session_id,
                taken_at=charted_time(measured.taken_at, field="taken_at", now=now),
                source="device",
                recorded_by_id=None,
                recorded_at=now,
                **values,
            )
        )
    if not rows:
        raise Invalid("the message carries no vital sign", fields={"readings": "empty"})
    return rows


def _group_rows(
    session_id: int, readings: Sequence[Measured], now: datetime
) -> list[DeviceReading]:
    """``_device_rows`` as plain values, for the group path."""
    rows = []
    for measured in readings:
        values = measured.values()
        _check_values(values)
        rows.append(
            DeviceReading(
                session_id,
                charted_time(measured.taken_at, field="taken_at", now=now),
                now,
                **values,  # type: ignore[arg-type]
            )
        )
    if not rows:
        raise Invalid("the message carries no vital sign", fields={"readings": "empty"})
    return rows


def _insert(db: Session, rows: list[DeviceReading]) -> None:
    """Every reading of a group with one ``executemany``, each row's id given before it
    (``new_ids``): a driver's executemany returns no ids, and an INSERT ... RETURNING of
    a group's rows is one long statement that PostgreSQL's driver parses anew each time
    (too long for its statement cache), the slowest part of a group."""
    for row, new_id in zip(rows, new_ids(db, VitalSign, len(rows)), strict=True):
        row.id = new_id
    db.execute(insert(cast(Table, VitalSign.__table__)), [{"id": r.id, **r.values()} for r in rows])


def charting_overrides(db: Session) -> list[Any]:
    """The clinic's ``monitoring.limits`` overrides: read once for a group of device
    messages and passed to ``chart_device_messages``."""
    return configuration.overrides_for(db, "monitoring.limits")


@dataclass(frozen=True)
class SessionMessages:
    """The device messages of one session in a group, and who sent them."""

    session_id: int
    actor: Actor  # the device (``device_actor``)
    sender: str
    messages: Sequence[DeviceMessage]


def chart_device_messages(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    messages: Sequence[DeviceMessage],
    sender: str,
    now: datetime | None = None,
    limit_overrides: list[Any] | None = None,
) -> DeviceBatch:
    """``chart_device_groups`` for one session."""
    if limit_overrides is None:
        limit_overrides = charting_overrides(db)
    found = chart_device_groups(
        db,
        groups=[SessionMessages(session_id, actor, sender, messages)],
        now=now,
        limit_overrides=limit_overrides,
    )
    return found[session_id]


def chart_device_groups(
    db: Session,
    *,
    groups: Sequence[SessionMessages],
    now: datetime | None = None,
    limit_overrides: list[Any],
) -> dict[int, DeviceBatch]:
    """Chart the readings of a group of device messages, per session in one pass: each
    message checked alone (one that is implausible is refused, the others charted); the
    sessions, their patients, orders and dosing timelines read once for the group; every
    reading of the group inserted with one statement; per session one prior-window
    read, alarms assessed over its readings in time order (as if charted one by one,
    ``_chart``) and one audit row naming its messages.

    For the bedside-monitor interface, whose act audits the device messages (each
    ``actor`` names its device): it checks no staff role. ``limit_overrides``: the
    clinic's ``monitoring.limits`` overrides (``charting_overrides``), read once a
    group. Raises ``Conflict`` for a closed session or one seen twice, ``NotFound`` for
    an unknown one."""
    now = now or utcnow()
    ids = [g.session_id for g in groups]
    if len(set(ids)) != len(ids):
        raise Conflict("a session's messages are charted together, once a group")
    found = rows_by_id(db, InfusionSession, ids)  # matched by ``sessions_of_devices``
    for session_id in ids:
        if session_id not in found:
            raise NotFound(f"no session with id {session_id}")
        load_open(db, session_id)  # from the identity map: refuses a closed session
    out: dict[int, DeviceBatch] = {}
    for group in groups:
        charted: dict[int, list[DeviceReading]] = {}
        refused: dict[int, Invalid] = {}
        for index, message in enumerate(group.messages):
            try:
                charted[index] = _group_rows(group.session_id, message.readings, now)
            except Invalid as exc:
                refused[index] = exc
        out[group.session_id] = DeviceBatch(charted, refused, [])
    busy = [g for g in groups if out[g.session_id].charted]
    if not busy:
        return out
    states = view.for_charting_many(
        db, rows=[found[g.session_id] for g in busy], now=now, limit_overrides=limit_overrides
    )
    new = {
        g.session_id: sorted(
            (v for i in sorted(out[g.session_id].charted) for v in out[g.session_id].charted[i]),
            key=lambda v: v.taken_at,
        )
        for g in busy
    }
    phases = {g.session_id: _by_phase(states[g.session_id], new[g.session_id]) for g in busy}
    with db.no_autoflush:
        read = _Prefetched.read(db, [states[g.session_id] for g in busy], phases)
        windows = {
            g.session_id: _windows(db, states[g.session_id], phases[g.session_id], read)
            for g in busy
        }
    _insert(db, [v for g in busy for v in new[g.session_id]])
    entries = []
    for g in busy:
        state, rows, batch = states[g.session_id], new[g.session_id], out[g.session_id]
        batch.alarms = _raise_phases(db, state, phases[g.session_id], windows[g.session_id])
        raised = [a.rule_id for a in batch.alarms]
        references = " ".join(g.messages[i].reference for i in sorted(batch.charted))
        entries.append(
            audit.Event(
                g.actor,
                "session.vitals.record",
                patient_id=state.session.patient_id,
                object_type="vital_sign",
                object_id=rows[0].id,
                detail=f"device: {g.sender}; {len(rows)} reading(s) from "
                f"{len(batch.charted)} message(s): {references}"
                + (f"; alarms: {', '.join(raised)}" if raised else ""),
            )
        )
    summaries.note_many(
        db, [(g.session_id, new[g.session_id], len(out[g.session_id].alarms)) for g in busy]
    )
    audit.record_many(db, entries)  # one row per session (its patient), one flush
    for g in busy:
        state, batch = states[g.session_id], out[g.session_id]
        _call_prescriber(
            db, actor=g.actor, state=state, readings=new[g.session_id], alarms=batch.alarms
        )
    db.flush()
    return out


def _call_prescriber(
    db: Session,
    *,
    actor: Actor,
    state: view.SessionView,
    readings: Sequence[Charted],
    alarms: list[SessionAlarm],
) -> None:
    """Alarms that call for the prescriber, and a pre-dose reading whose blood pressure
    blocks the start, open a prescriber call in the same act (``calls``)."""
    moment = readings[-1].recorded_at if readings else utcnow()
    prescriber = state.order.signed_by
    if alarms:
        calls.call_for_alarms(
            db, actor=actor, row=state.session, prescriber=prescriber, alarms=alarms, now=moment
        )
        return
    for reading in readings:
        if state.dose_start is None or view.phase_at(state, reading.taken_at) == "pre_infusion":
            calls.call_for_pre_dose_block(
                db,
                actor=actor,
                row=state.session,
                prescriber=prescriber,
                reading=reading,
                alarms=_pre_dose_alarms(state, reading),
                now=moment,
            )


def _pre_dose_alarms(state: view.SessionView, reading: Charted) -> list[monitoring.Alarm]:
    """The go limits a pre-dose reading crosses (the checklist judges the same)."""
    sign = monitoring.VitalSigns(at_min=0.0, **{p: getattr(reading, p) for p in view.PARAMETERS})
    return monitoring.assess([sign], phase="pre_infusion", overrides=state.limit_overrides)


def correct_device_readings(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    taken_at: Sequence[datetime],
    reason: str,
    now: datetime | None = None,
) -> int:
    """A device's corrected result replaces what it sent before for the same moment:
    the earlier device readings at those times are marked entered in error (kept)."""
    row = load_open(db, session_id)
    found = list(
        db.scalars(
            select(VitalSign).where(
                VitalSign.session_id == row.id,
                VitalSign.source == "device",
                VitalSign.taken_at.in_(list(taken_at)),
                VitalSign.entered_in_error_at.is_(None),
            )
        )
    )
    moment = now or utcnow()
    for reading in found:
        reading.entered_in_error_at = moment
        reading.entered_in_error_by = actor.username
        reading.error_reason = reason
        record(
            db,
            actor,
            "vitals.entered_in_error",
            row,
            object_type="vital_sign",
            object_id=reading.id,
            detail=reason,
        )
    # Judged before the corrected values are charted: those raise their own alarms.
    reassess_alarms(db, actor, row, marked=found, reason=reason, at=moment)
    summaries.refresh(db, row.id)
    db.flush()
    return len(found)


def _chart(db: Session, state: view.SessionView, new: list[VitalSign]) -> list[SessionAlarm]:
    """Add the readings and the alarms they raise. The rules see only the window of
    prior readings they need (``monitoring.prior_window``), read with indexed queries
    before the new rows go in, so a reading costs the same at any point of a session.
    A reading charted late, before one already charted in its phase, is assessed with
    the whole phase instead, as its arrival may confirm or break a later run."""
    new.sort(key=lambda v: v.taken_at)
    with db.no_autoflush:
        phases = _by_phase(state, new)
        windows = _windows(db, state, phases)
    db.add_all(new)
    db.flush()
    raised = _raise_phases(db, state, phases, windows)
    db.flush()
    summaries.note_readings(db, state.session.id, new, len(raised))
    return raised


def _by_phase(state: view.SessionView, new: Sequence[Charted]) -> dict[str, list[Charted]]:
    by_phase: dict[str, list[Charted]] = {}
    for reading in new:
        by_phase.setdefault(view.phase_at(state, reading.taken_at), []).append(reading)
    return by_phase


def _windows(
    db: Session,
    state: view.SessionView,
    phases: dict[str, list[Charted]],
    read: _Prefetched | None = None,
) -> dict[str, _Window]:
    """The prior window of each phase the new readings (in time order, by phase:
    ``_by_phase``) fall in, read before they are added (``read``: what a group read for
    all its sessions at once)."""
    return {
        phase: _window(db, state, phase, rows, read)
        for phase, rows in phases.items()
        if phase != "pre_infusion" and state.dose_start is not None
    }


def _in_phase(state: view.SessionView, phase: str) -> list[Any]:
    return [
        VitalSign.session_id == state.session.id,
        VitalSign.entered_in_error_at.is_(None),
        *_phase_bounds(state, phase),
    ]


_COLUMNS = (VitalSign.id, VitalSign.taken_at, *(getattr(VitalSign, p) for p in view.PARAMETERS))


@dataclass
class _Prefetched:
    """What the windows of a group's sessions start from, read for all of them with one
    statement (whatever their number): the pre-dose baseline candidates of each session
    with a phase whose rules use the baseline, and the newest ``_NEWEST`` prior readings
    of each phase its new readings fall in."""

    baselines: dict[int, monitoring.VitalSigns | None]
    newest: dict[tuple[int, str], list[Any]]

    @classmethod
    def read(
        cls,
        db: Session,
        states: Sequence[view.SessionView],
        phases: dict[int, dict[str, list[Charted]]],
    ) -> _Prefetched:
        """``phases``: each session's new readings by phase (``_by_phase``)."""
        dosed = [state for state in states if state.dose_start is not None]
        keys = [
            (state, phase)
            for state in dosed
            for phase in phases[state.session.id]
            if phase != "pre_infusion"
        ]
        out = cls({}, {})
        if not keys:
            return out
        # The baseline only of a session with a phase whose rules use it (by default
        # recovery alone): the others' readings are assessed without it.
        needing = {
            state.session.id
            for state, phase in keys
            if monitoring.uses_baseline(phase, state.limit_overrides)
        }
        for state in dosed:
            out.baselines[state.session.id] = None
        dosed = [state for state in dosed if state.session.id in needing]
        ranges = [_phase_range(state, phase) for state, phase in keys]
        if db.get_bind().dialect.name == "postgresql":
            result = db.execute(_PG_PREFETCH, _pg_prefetch_binds(dosed, keys, ranges))
        else:
            binds: dict[str, Any] = {}
            for n, state in enumerate(dosed):
                binds[f"s{n}"], binds[f"d{n}"] = state.session.id, state.dose_start
            for m, ((state, _), (low, high)) in enumerate(zip(keys, ranges, strict=True)):
                binds[f"p{m}"], binds[f"lo{m}"] = state.session.id, low
                if high is not None:
                    binds[f"hi{m}"] = high
            bounded = tuple(high is not None for _, high in ranges)
            result = db.execute(_prefetch_statement(len(dosed), bounded), binds)
        first = 2 * len(dosed)
        rows: dict[int, list[Any]] = {}
        for row in result:
            rows.setdefault(row.k, []).append(row)
        for n, state in enumerate(dosed):
            found = (rows.get(2 * n) or rows.get(2 * n + 1) or [None])[0]
            out.baselines[state.session.id] = (
                None
                if found is None
                else monitoring.VitalSigns(
                    at_min=0.0, **{p: getattr(found, p) for p in view.PARAMETERS}
                )
            )
        for m, (state, phase) in enumerate(keys):
            # Newest first, as ``_window`` reads them.
            out.newest[(state.session.id, phase)] = sorted(
                rows.get(first + m, []), key=lambda r: (r.taken_at, r.id), reverse=True
            )
        return out


_PARAMETER_COLUMNS = ", ".join(view.PARAMETERS)


@functools.lru_cache(maxsize=512)
def _prefetch_statement(sessions: int, bounded: tuple[bool, ...]) -> Any:
    """``_Prefetched.read``'s statement for ``sessions`` dosed sessions and one
    (session, phase) read for each item of ``bounded`` (True: the phase has an end),
    made once for each such shape: one statement of short indexed reads (each a LIMIT
    on the (session_id, taken_at) index), tagged k. Per session n: the last pre-dose
    reading with a blood pressure (k = 2n) and the last pre-dose reading at all
    (k = 2n + 1); per (session, phase) m: its newest ``_NEWEST`` readings
    (k = 2 * sessions + m)."""
    parts: list[str] = []
    names: list[str] = []
    for n in range(sessions):
        names += [f"s{n}", f"d{n}"]
        where = f"session_id = :s{n} AND entered_in_error_at IS NULL AND taken_at < :d{n}"
        parts.append(_part(2 * n, where + " AND systolic_bp IS NOT NULL", 1))
        parts.append(_part(2 * n + 1, where, 1))
    for m, has_end in enumerate(bounded):
        names += [f"p{m}", f"lo{m}"]
        where = f"session_id = :p{m} AND entered_in_error_at IS NULL AND taken_at >= :lo{m}"
        if has_end:
            names.append(f"hi{m}")
            where += f" AND taken_at < :hi{m}"
        parts.append(_part(2 * sessions + m, where, _NEWEST))
    return (
        text(" UNION ALL ".join(parts))
        .bindparams(
            *(
                bindparam(name, type_=UTCDateTime() if name[0] in "dlh" else Integer())
                for name in names
            )
        )
        .columns(
            column("k", Integer()),
            column("id", Integer()),
            column("taken_at", UTCDateTime()),
            *(column(p, Integer()) for p in view.PARAMETERS),
        )
    )


# ``_prefetch_statement`` on PostgreSQL: the same short indexed reads as one lateral join
# over arrays of what each read asks (k, session, from, before, a blood pressure needed,
# how many), so that the statement's text is the same for every group: the driver and
# the server parse and plan it once (a union of sixty parts is planned anew each time,
# longer than it runs). A missing bound is an open end.
_PG_PREFETCH = text(
    "SELECT q.k, w.id, w.taken_at, "  # noqa: S608 - column names are this module's own
    + ", ".join(f"w.{p}" for p in view.PARAMETERS)
    + " FROM unnest(CAST(:k AS integer[]), CAST(:s AS integer[]), "
    "CAST(:lo AS timestamptz[]), CAST(:hi AS timestamptz[]), CAST(:bp AS boolean[]), "
    "CAST(:lim AS integer[])) AS q(k, s, lo, hi, bp, lim) "
    "CROSS JOIN LATERAL (SELECT v.id, v.taken_at, "
    + ", ".join(f"v.{p}" for p in view.PARAMETERS)
    + " FROM vital_signs AS v WHERE v.session_id = q.s AND v.entered_in_error_at IS NULL "
    "AND v.taken_at >= coalesce(q.lo, '-infinity') AND v.taken_at < coalesce(q.hi, 'infinity') "
    "AND (NOT q.bp OR v.systolic_bp IS NOT NULL) "
    "ORDER BY v.taken_at DESC, v.id DESC LIMIT q.lim) AS w"
).columns(
    column("k", Integer()),
    column("id", Integer()),
    column("taken_at", UTCDateTime()),
    *(column(p, Integer()) for p in view.PARAMETERS),
)


def _pg_prefetch_binds(
    dosed: Sequence[view.SessionView],
    keys: Sequence[tuple[view.SessionView, str]],
    ranges: Sequence[tuple[datetime, datetime | None]],
) -> dict[str, list[Any]]:
    """``_PG_PREFETCH``'s arrays, tagged k as ``_prefetch_statement`` tags its parts."""
    reads: list[tuple[int, int, datetime | None, datetime | None, bool, int]] = []
    for n, state in enumerate(dosed):
        reads.append((2 * n, state.session.id, None, state.dose_start, True, 1))
        reads.append((2 * n + 1, state.session.id, None, state.dose_start, False, 1))
    for m, ((state, _), (low, high)) in enumerate(zip(keys, ranges, strict=True)):
        reads.append((2 * len(dosed) + m, state.session.id, low, high, False, _NEWEST))
    names = ("k", "s", "lo", "hi", "bp", "lim")
    return {name: [read[i] for read in reads] for i, name in enumerate(names)}


def _part(k: int, where: str, limit: int) -> str:
    # Every value is a bound parameter; k and limit are this module's own integers, the
    # ``where`` text this module's own conditions.
    return (
        f"SELECT * FROM (SELECT {int(k)} AS k, id, taken_at, {_PARAMETER_COLUMNS} "  # noqa: S608
        f"FROM vital_signs WHERE {where} ORDER BY taken_at DESC, id DESC "
        f"LIMIT {int(limit)}) AS w{int(k)}"
    )


def _phase_range(state: view.SessionView, phase: str) -> tuple[datetime, datetime | None]:
    """``_phase_bounds`` as (from, before): the phase's readings are from <= t < before."""
    assert state.dose_start is not None
    if phase == "recovery":
        start = state.dose_start if state.esketamine else state.dose_end
        assert start is not None
        return start, None
    return state.dose_start, state.dose_end


def _raise_phases(
    db: Session,
    state: view.SessionView,
    phases: dict[str, list[Charted]],
    windows: dict[str, _Window],
) -> list[SessionAlarm]:
    """The alarms the added readings (by phase: ``_by_phase``) raise, phase by phase
    (added, not yet flushed)."""
    raised: list[SessionAlarm] = []
    for phase, rows in phases.items():
        if phase in windows:
            raised += _raise(db, state, phase, rows, windows[phase])
    return raised


# How many of the newest prior readings of a phase are read first (``_window``); more
# are read only while a rule may be in a run through all of them. A tuning figure: the
# alarms are the same with any (``tests/sessions/test_vitals.py``); a monitor's ordinary
# readings settle every rule at the newest, and each one read costs its conversion and
# its place in the window's assessment. Measured in instructions (callgrind, the
# vitals line of ``benchmarks/hl7.py``, 20 chairs): 3 costs 5% less than 8, 5 3% less.
_NEWEST = 3


@dataclass(frozen=True)
class _Window:
    """What ``_raise`` assesses a phase's new readings with: the prior window from where
    every rule is at rest (``monitoring.settled``), or the whole phase (a reading charted
    late), the baseline, and the new readings as the rules see them (made once, for the
    window and for the assessment)."""

    prior: list[monitoring.VitalSigns]
    whole: list[VitalSign] | None
    baseline: monitoring.VitalSigns | None
    new_signs: list[monitoring.VitalSigns] | None = None


def _phase_bounds(state: view.SessionView, phase: str) -> list[Any]:
    assert state.dose_start is not None
    if phase == "recovery":
        start = state.dose_start if state.esketamine else state.dose_end
        assert start is not None
        return [VitalSign.taken_at >= start]
    bounds = [VitalSign.taken_at >= state.dose_start]
    if state.dose_end is not None:
        bounds.append(VitalSign.taken_at < state.dose_end)
    return bounds


def _window(
    db: Session,
    state: view.SessionView,
    phase: str,
    new: list[Charted],
    read: _Prefetched | None = None,
) -> _Window:
    """What ``monitoring.assess_new`` needs of the prior readings of ``phase`` (the
    ``monitoring.prior_window`` of them, read with indexed queries), and the baseline.
    With a reading charted late, the whole phase (then the second item holds its rows).

    A monitor sends the same parameters each time, so the latest reading names the
    latest time of each parameter, and a settled reading among the last minutes makes
    the readings before them irrelevant: usually three short queries."""
    assert state.dose_start is not None
    origin = state.dose_start
    columns = _COLUMNS
    if read is not None:
        baseline = read.baselines[state.session.id]
        newest = read.newest[(state.session.id, phase)]
    else:
        baseline = (
            _baseline(db, state) if monitoring.uses_baseline(phase, state.limit_overrides) else None
        )
        # The newest few first: the latest names each parameter's latest time, and one
        # of them that crosses no rule usually makes everything older irrelevant.
        newest = list(
            db.execute(
                select(*columns)
                .where(*_in_phase(state, phase))
                .order_by(VitalSign.taken_at.desc(), VitalSign.id.desc())
                .limit(_NEWEST)
            ).all()
        )
    if not newest:
        return _Window([], None, baseline)
    last = newest[0]
    if last.taken_at > new[0].taken_at:
        whole = list(
            db.scalars(
                select(VitalSign)
                .where(*_in_phase(state, phase))
                .order_by(VitalSign.taken_at, VitalSign.id)
            )
        )
        return _Window([], whole, baseline)
    new_signs = [_signs(v, origin) for v in new]
    charted = {p for v in new for p in view.PARAMETERS if getattr(v, p) is not None}
    lookback = monitoring.lookback_min(phase, state.limit_overrides)
    cuts: dict[monitoring.Parameter, datetime] = {}
    for parameter, confirm in lookback.items():
        if parameter not in charted:
            continue
        latest = last.taken_at if getattr(last, parameter) is not None else None
        if latest is None:
            column = getattr(VitalSign, parameter)
            latest = db.scalar(
                select(VitalSign.taken_at)
                .where(*_in_phase(state, phase), column.is_not(None))
                .order_by(VitalSign.taken_at.desc())
                .limit(1)
            )
        if latest is not None:
            cuts[parameter] = latest - timedelta(minutes=confirm)
    if not cuts:
        return _Window([], None, baseline, new_signs)
    cut = min(cuts.values())
    recent = [row for row in reversed(newest) if row.taken_at >= cut]
    kept = [_signs(row, origin) for row in recent]
    tail, open_runs = monitoring.settle(
        kept, new=new_signs, phase=phase, baseline=baseline, overrides=state.limit_overrides
    )
    if not open_runs:
        # Every rule is at rest within the newest rows: nothing before them matters.
        return _Window(tail, None, baseline, new_signs)
    if len(recent) == len(newest):
        # Some rule may be in a run through all the newest rows: the whole lookback.
        kept = [
            _signs(row, origin)
            for row in db.execute(
                select(*columns)
                .where(*_in_phase(state, phase), VitalSign.taken_at >= cut)
                .order_by(VitalSign.taken_at, VitalSign.id)
            )
        ]
        open_runs = monitoring.unsettled(
            kept, new=new_signs, phase=phase, baseline=baseline, overrides=state.limit_overrides
        )
    before: dict[int, tuple[Any, list[monitoring.Parameter]]] = {}
    for parameter in sorted(open_runs & set(cuts)):
        column = getattr(VitalSign, parameter)
        found = db.execute(
            select(*columns)
            .where(*_in_phase(state, phase), column.is_not(None), VitalSign.taken_at < cut)
            .order_by(VitalSign.taken_at.desc(), VitalSign.id.desc())
            .limit(1)
        ).first()
        if found is not None:
            before.setdefault(found.id, (found, []))[1].append(parameter)
    edge = sorted(before.values(), key=lambda item: (item[0].taken_at, item[0].id))
    window = [monitoring.only(_signs(row, origin), *parameters) for row, parameters in edge] + kept
    settled = monitoring.settled(
        window, new=new_signs, phase=phase, baseline=baseline, overrides=state.limit_overrides
    )
    return _Window(settled, None, baseline, new_signs)


def _signs(row: Any, origin: datetime) -> monitoring.VitalSigns:
    """A charted reading (a stored row, or one of a group past ``_check_values``) as the
    alarm rules see it: its values were checked when it was charted."""
    return monitoring.VitalSigns.charted(
        view.minutes(row.taken_at, origin),
        row.heart_rate,
        row.systolic_bp,
        row.diastolic_bp,
        row.spo2,
        row.respiratory_rate,
    )


def _baseline(db: Session, state: view.SessionView) -> monitoring.VitalSigns | None:
    """The pre-dose reading (``SessionView.baseline``): the last before dosing with a
    blood pressure, or else the last before dosing."""
    query = (
        select(VitalSign)
        .where(
            VitalSign.session_id == state.session.id,
            VitalSign.entered_in_error_at.is_(None),
            VitalSign.taken_at < state.dose_start,
        )
        .order_by(VitalSign.taken_at.desc(), VitalSign.id.desc())
        .limit(1)
    )
    found = db.scalar(query.where(VitalSign.systolic_bp.is_not(None))) or db.scalar(query)
    if found is None:
        return None
    return monitoring.VitalSigns(at_min=0.0, **{p: getattr(found, p) for p in view.PARAMETERS})


def _raise(
    db: Session,
    state: view.SessionView,
    phase: str,
    new: list[Charted],
    window: _Window,
) -> list[SessionAlarm]:
    assert state.dose_start is not None
    origin = state.dose_start
    prior, whole, baseline = window.prior, window.whole, window.baseline
    found: list[tuple[Charted, monitoring.Alarm]]
    if whole is not None:
        rows = sorted([*whole, *new], key=lambda v: (v.taken_at, v.id))
        signs = [_signs(v, origin) for v in rows]
        alarms = monitoring.assess(
            signs, phase=phase, baseline=baseline, overrides=state.limit_overrides
        )
        by_minute = {sign.at_min: v for sign, v in zip(signs, rows, strict=True)}
        known = {
            (vital_sign_id, rule_id)
            for vital_sign_id, rule_id in db.execute(
                select(SessionAlarm.vital_sign_id, SessionAlarm.rule_id).where(
                    SessionAlarm.session_id == state.session.id
                )
            )
        }
        found = [
            (by_minute[a.at_min], a)
            for a in alarms
            if (by_minute[a.at_min].id, a.rule_id) not in known
        ]
    else:
        signs = window.new_signs or [_signs(v, origin) for v in new]
        pairs = monitoring.assess_new(
            signs,
            prior=prior,
            phase=phase,
            baseline=baseline,
            overrides=state.limit_overrides,
        )
        found = [(new[i], a) for i, a in pairs]
    raised = []
    for source_row, alarm in found:
        stored = stored_alarm(
            alarm,
            session_id=state.session.id,
            phase=phase,
            raised_at=new[-1].recorded_at,
            vital_sign_id=source_row.id,
            taken_at=source_row.taken_at,
        )
        db.add(stored)
        raised.append(stored)
    return raised


def acknowledgement_note_min(db: Session) -> int:
    """The shortest acknowledgement note the clinic accepts."""
    rule = monitoring.acknowledgement_rule(
        configuration.overrides_for(db, "monitoring.acknowledgement")
    )
    return int(rule.note_min_chars)


def acknowledge_alarm(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    alarm_id: int,
    note: str = "",
    now: datetime | None = None,
) -> SessionAlarm:
    """Who saw the alarm, when, and what they did."""
    require(actor, RUNNERS, "acknowledging alarms")
    row = load(db, session_id)
    alarm = db.get(SessionAlarm, alarm_id)
    if alarm is None or alarm.session_id != row.id:
        raise Invalid(f"no alarm {alarm_id} in this session", fields={"alarm_id": "unknown"})
    if alarm.acknowledged_at is not None:
        raise Conflict(f"already acknowledged by {alarm.acknowledged_by}")
    text = note.strip()
    if len(text) > 2000:
        raise Invalid("keep the note under 2000 characters", fields={"note": "too long"})
    # An acknowledgement names the action taken, whatever the alarm's level; how long a
    # note must be is the clinic's (``monitoring.acknowledgement``).
    shortest = acknowledgement_note_min(db)
    if len(text) < shortest:
        raise Invalid(
            f"say what was done about this {alarm.level} alarm (at least {shortest} characters)",
            fields={"note": "required"},
        )
    acknowledge(db, actor, row, alarm, note=text, at=now or utcnow())
    try:
        db.flush()
    except IntegrityError as exc:  # pragma: no cover - concurrent acknowledgement
        raise Conflict("someone acknowledged it at the same moment; reload") from exc
    return alarm


def mark_vitals_in_error(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    vital_sign_id: int,
    reason: str,
    now: datetime | None = None,
) -> VitalSign:
    """A reading that is wrong (a cuff moved, a probe off) is kept, struck through, and
    no rule reads it again; the open alarms it raised or helped confirm are judged
    again without it (``reassess_alarms``)."""
    require(actor, RUNNERS, "correcting the chart")
    row = load_open(db, session_id)
    reading = db.get(VitalSign, vital_sign_id)
    if reading is None or reading.session_id != row.id:
        raise Invalid(
            f"no reading {vital_sign_id} in this session", fields={"vital_sign_id": "unknown"}
        )
    if reading.entered_in_error_at is not None:
        raise Conflict("this reading is already marked entered in error")
    why = reason_text(reason)
    moment = now or utcnow()
    reading.entered_in_error_at = moment
    reading.entered_in_error_by = actor.username
    reading.error_reason = why
    record(
        db,
        actor,
        "vitals.entered_in_error",
        row,
        object_type="vital_sign",
        object_id=reading.id,
        detail=why,
    )
    reassess_alarms(db, actor, row, marked=[reading], reason=why, at=moment)
    summaries.refresh(db, row.id)
    db.flush()
    return reading


def readings_for(db: Session, session_id: int) -> list[VitalSign]:
    """Valid readings of one session in time order (one index range scan)."""
    return list(
        db.scalars(
            select(VitalSign)
            .where(VitalSign.session_id == session_id, VitalSign.entered_in_error_at.is_(None))
            .order_by(VitalSign.taken_at, VitalSign.id)
        )
    )
