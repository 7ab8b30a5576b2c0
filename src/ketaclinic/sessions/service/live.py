"""What the live session screen and the charge nurse's view show, read cheaply and often:
the readings charted since the screen last looked, the alarms still open, and per chair
the latest reading. Each query is bounded by the session's indexes, not its length."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import SYSTEM, Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import utcnow
from ketaclinic.sessions.models import SessionAlarm, SessionEvent, VitalSign
from ketaclinic.sessions.service import view
from ketaclinic.sessions.service.cockpit import NextReadingLine, next_reading_line
from ketaclinic.sessions.service.common import RUNNERS, load, require
from ketaclinic.sessions.service.monitor import monitored_sessions
from ketaclinic.sessions.service.view import RECORDED

# How many new readings one update carries at most (a screen that was away longer
# reloads the page for the rest); ketaclinic's own bound.
MAX_READINGS_PER_UPDATE = 50


@dataclass(frozen=True)
class ScheduleSeen:
    """What the live screen's next-reading line was last drawn from: the session's acts
    (how many, the newest, how many entered in error: a pump start, pause or stop moves
    the schedule) and the moment the line would read otherwise with nothing charted."""

    acts: tuple[int, int, int]
    changes_at: datetime | None


@dataclass(frozen=True)
class LiveUpdate:
    readings: list[dict[str, Any]]
    alarms: list[dict[str, Any]]
    last_vital_id: int
    status: str
    # The next-reading line when it may read otherwise than at the last look (a reading
    # charted, an act, its due time passed), else None; ``schedule`` goes to the next look.
    next_line: NextReadingLine | None = None
    schedule: ScheduleSeen | None = None


def _reading(v: VitalSign) -> dict[str, Any]:
    return {
        "id": v.id,
        "taken_at": v.taken_at.isoformat(),
        "source": v.source,
        **{p: getattr(v, p) for p in RECORDED},
    }


def open_live_session(db: Session, *, actor: Actor, session_id: int) -> int:
    """Open the live screen of a session: checks the reader and audits the read once
    (the stream that follows is the same look at the same chart)."""
    require(actor, RUNNERS, "watching sessions")
    row = load(db, session_id)
    audit.note_read(
        db,
        actor=actor,
        action="session.live",
        patient_id=row.patient_id,
        object_type="session",
        object_id=row.id,
    )
    return row.id


def live_update(
    db: Session,
    *,
    session_id: int,
    after_vital_id: int,
    schedule: ScheduleSeen | None = None,
    now: datetime | None = None,
) -> LiveUpdate:
    """The readings charted after ``after_vital_id`` and the open alarms, for a live
    screen already opened (and audited) by ``open_live_session``; and the next-reading
    line when it may have changed since the look that returned ``schedule`` (always on
    a first look), derived as the cockpit derives it."""
    now = now or utcnow()
    row = load(db, session_id)
    readings = list(
        db.scalars(
            select(VitalSign)
            .where(
                VitalSign.session_id == row.id,
                VitalSign.id > after_vital_id,
                VitalSign.entered_in_error_at.is_(None),
            )
            .order_by(VitalSign.id)
            .limit(MAX_READINGS_PER_UPDATE)
        )
    )
    alarms = list(
        db.scalars(
            select(SessionAlarm)
            .where(SessionAlarm.session_id == row.id, SessionAlarm.acknowledged_at.is_(None))
            .order_by(SessionAlarm.raised_at, SessionAlarm.id)
        )
    )
    acts = db.execute(
        select(
            func.count(),
            func.coalesce(func.max(SessionEvent.id), 0),
            func.count(SessionEvent.entered_in_error_at),
        ).where(SessionEvent.session_id == row.id)
    ).one()
    seen = (int(acts[0]), int(acts[1]), int(acts[2]))
    line = None
    if (
        schedule is None
        or readings
        or seen != schedule.acts
        or (schedule.changes_at is not None and now >= schedule.changes_at)
    ):
        state = view.build(db, actor=SYSTEM, row=row, now=now, bounded=True)
        line = next_reading_line(state)
        schedule = ScheduleSeen(seen, line.changes_at)
    return LiveUpdate(
        readings=[_reading(v) for v in readings],
        alarms=[
            {
                "id": a.id,
                "level": a.level,
                "message": a.message,
                "action": a.action,
                "source": a.source,
                "evidence": a.evidence,
                "raised_at": a.raised_at.isoformat(),
            }
            for a in alarms
        ],
        last_vital_id=readings[-1].id if readings else after_vital_id,
        status=row.status,
        next_line=line,
        schedule=schedule,
    )


@dataclass(frozen=True)
class Chair:
    session_id: int
    patient_name: str
    device_id: str
    latest: VitalSign | None
    open_alarms: int
    worst_level: str | None
    latest_at: datetime | None


_RANK = {"warn": 1, "pause": 2, "stop": 3, "no_go": 3}


def chairs_in_use(db: Session, *, actor: Actor) -> list[Chair]:
    """The charge nurse's view: every session in progress with a monitor, its latest
    reading and its open alarms (a few indexed queries per chair)."""
    require(actor, RUNNERS, "watching sessions")
    found = monitored_sessions(db)
    names = patients.display_names(db, {s.patient_id for s in found})
    out = []
    for s in found:
        latest = db.scalar(
            select(VitalSign)
            .where(VitalSign.session_id == s.session_id, VitalSign.entered_in_error_at.is_(None))
            .order_by(VitalSign.taken_at.desc(), VitalSign.id.desc())
            .limit(1)
        )
        levels = list(
            db.execute(
                select(SessionAlarm.level, func.count())
                .where(
                    SessionAlarm.session_id == s.session_id,
                    SessionAlarm.acknowledged_at.is_(None),
                )
                .group_by(SessionAlarm.level)
            )
        )
        count = sum(n for _, n in levels)
        worst = max((lvl for lvl, _ in levels), key=lambda lvl: _RANK.get(lvl, 0), default=None)
        out.append(
            Chair(
                s.session_id,
                names.get(s.patient_id, "?"),
                s.device_id,
                latest,
                count,
                worst,
                latest.taken_at if latest else None,
            )
        )
        audit.note_read(
            db,
            actor=actor,
            action="session.chairs",
            patient_id=s.patient_id,
            object_type="session",
            object_id=s.session_id,
        )
    return out
