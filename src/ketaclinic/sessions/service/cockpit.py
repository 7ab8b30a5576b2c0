"""The nurse's session screen read at a cost that does not grow with the chart: the
session's view from its key readings (``view.key_readings``), the latest reading, the
session's trend averaged in SQL into a bounded number of points, and one page of the
vital-signs table. A monitor charts hundreds of readings an hour; none of this reads
them all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.clinical import monitoring
from ketaclinic.clinical.monitoring.schedule import TOLERANCE_MIN
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.sessions.models import VitalSign
from ketaclinic.sessions.service import view
from ketaclinic.sessions.service.common import RUNNERS, load, require

# The trend chart draws at most this many points per parameter (a monitor's two hours
# at one a minute), each the mean of its share of the readings with their range around
# it; ketaclinic's own choice, not a clinical number.
TREND_POINTS = 120
# Rows of the vital-signs table per page (ketaclinic's own page size).
READINGS_PAGE = 50
TREND = ("systolic_bp", "diastolic_bp", "heart_rate", "spo2")


@dataclass(frozen=True)
class TrendPoint:
    """One point of the trend: the readings of one share of the session, shown at the
    last one's time, each parameter as (mean, lowest, highest) or None when not taken."""

    at: datetime
    readings: int
    values: dict[str, tuple[float, float, float] | None]


@dataclass(frozen=True)
class NextReading:
    """The reading the schedule asks for next: its due time, minutes from the start of
    dosing, and whether it is upcoming, due or overdue."""

    due_at: datetime
    due_at_min: float
    status: str


@dataclass(frozen=True)
class NextReadingLine:
    """The cockpit's "next reading" line, from which the page and the live stream both
    draw it: ``status`` is the next reading's (``upcoming``, ``due``, ``overdue``), or
    ``before_dosing``, ``none`` (nothing left on the schedule), ``closed`` (no line).
    ``changes_at``: the moment the line reads otherwise if nothing is charted before
    (an upcoming reading falls due, a due one overdue); None when only an act changes it."""

    status: str
    due_at: datetime | None = None
    due_at_min: float | None = None
    esketamine: bool = False
    before_dose_within_min: float | None = None
    changes_at: datetime | None = None


def next_reading_line(state: view.SessionView) -> NextReadingLine:
    found = next_reading(state)
    if found is not None:
        changes = {
            "upcoming": found.due_at,
            "due": found.due_at + timedelta(minutes=TOLERANCE_MIN),
        }.get(found.status)
        return NextReadingLine(
            found.status,
            found.due_at,
            found.due_at_min,
            esketamine=state.esketamine,
            changes_at=changes,
        )
    if state.session.status != "open":
        return NextReadingLine("closed")
    if state.dose_start is None:
        rule = monitoring.pre_dose_window(state.route, state.schedule_overrides)
        return NextReadingLine("before_dosing", before_dose_within_min=rule.before_dose_within_min)
    return NextReadingLine("none")


@dataclass
class Cockpit:
    state: view.SessionView
    latest: VitalSign | None
    trend: list[TrendPoint]
    rows: list[VitalSign]  # one page of the table, newest first, corrections included
    page: int
    pages: int
    reading_count: int  # every reading of the session, entered-in-error ones included
    last_vital_id: int
    next_reading: NextReading | None
    next_line: NextReadingLine
    schedule_rule: monitoring.ScheduleRule

    def phase_of(self, row: VitalSign) -> str:
        return view.phase_at(self.state, row.taken_at)


def get_cockpit(
    db: Session, *, actor: Actor, session_id: int, page: int = 0, now: datetime | None = None
) -> Cockpit:
    """The session screen's data, audited as one read of the session."""
    require(actor, RUNNERS, "reading sessions")
    row = load(db, session_id)
    audit.note_read(
        db,
        actor=actor,
        action="session.view",
        patient_id=row.patient_id,
        object_type="session",
        object_id=row.id,
    )
    state = view.build(db, actor=actor, row=row, now=now, reading=True, bounded=True)
    count, last_id = db.execute(
        select(func.count(), func.coalesce(func.max(VitalSign.id), 0)).where(
            VitalSign.session_id == row.id
        )
    ).one()
    pages = max(1, -(-int(count) // READINGS_PAGE))
    page = min(max(0, page), pages - 1)
    rows = list(
        db.scalars(
            select(VitalSign)
            .where(VitalSign.session_id == row.id)
            .order_by(VitalSign.taken_at.desc(), VitalSign.id.desc())
            .limit(READINGS_PAGE)
            .offset(page * READINGS_PAGE)
        )
    )
    latest = state.readings[-1].row if state.readings else None
    return Cockpit(
        state=state,
        latest=latest,
        trend=trend(db, row.id),
        rows=rows,
        page=page,
        pages=pages,
        reading_count=int(count),
        last_vital_id=int(last_id),
        next_reading=next_reading(state),
        next_line=next_reading_line(state),
        schedule_rule=monitoring.pre_dose_window(state.route, state.schedule_overrides),
    )


def trend(db: Session, session_id: int, points: int = TREND_POINTS) -> list[TrendPoint]:
    """The session's valid readings in time order cut into ``points`` shares of (nearly)
    equal count by the database (``ntile``), each share averaged there: at most
    ``points`` rows come back however long the chart."""
    share = func.ntile(points).over(order_by=(VitalSign.taken_at, VitalSign.id)).label("share")
    ranked = (
        select(VitalSign.taken_at, *(getattr(VitalSign, p) for p in TREND), share)
        .where(VitalSign.session_id == session_id, VitalSign.entered_in_error_at.is_(None))
        .subquery()
    )
    columns = []
    for p in TREND:
        c = ranked.c[p]
        columns += [func.avg(c), func.min(c), func.max(c)]
    rows = db.execute(
        select(func.max(ranked.c.taken_at), func.count(), *columns)
        .group_by(ranked.c.share)
        .order_by(ranked.c.share)
    ).all()
    out = []
    for r in rows:
        values: dict[str, tuple[float, float, float] | None] = {}
        for i, p in enumerate(TREND):
            mean, low, high = r[2 + 3 * i : 5 + 3 * i]
            values[p] = None if mean is None else (float(mean), float(low), float(high))
        out.append(TrendPoint(_aware(r[0]), int(r[1]), values))
    return out


def _aware(at: datetime | str) -> datetime:
    """An aggregate's time as a UTC datetime (SQLite returns the stored text)."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def next_reading(state: view.SessionView) -> NextReading | None:
    """The first due time not yet charted (overdue or due before upcoming)."""
    if state.dose_start is None or state.session.status != "open":
        return None
    waiting = [r for r in state.schedule if r.status in ("overdue", "due")]
    waiting = waiting or [r for r in state.schedule if r.status == "upcoming"]
    if not waiting:
        return None
    first = waiting[0]
    return NextReading(
        state.dose_start + timedelta(minutes=first.due_at_min), first.due_at_min, first.status
    )
