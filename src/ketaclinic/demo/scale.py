"""A clinic grown to years of history, fast: ``ketaclinic demo --scale N``.

The demo clinic is charted act by act through the services, which takes a minute for a
few dozen sessions; a clinic of ten years (about 5,000 patients, 60,000 sessions and ten
million vital signs) that way would take days. So the years before the demo's own months
are written straight into the real tables, with Core ``insert()`` in ``executemany``
batches, from templates the demo charted through the services: one finished course
with its signed order, and one cosigned session of each route with its events, scores
and note. Each seeded patient gets a copy of a template course with its times moved
into the past, a series of sessions copied from the template session of its route, a
vital sign every minute or so from the pre-dose reading to discharge, and PHQ-9
responses before and during the course. Every act is written to the audit trail with
its keyed MAC (``chain.row_mac``) and sealed by the trail's own sealer, so
``ketaclinic audit verify`` holds afterwards.

The figures are a benchmark's, not clinical ones: a seeded clinic is for measuring.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from ketaclinic.demo.people import FAMILY_NAMES, GIVEN_NAMES
from ketaclinic.orders.models import Course, Order, PlannedSession
from ketaclinic.outcomes import service as outcomes_service
from ketaclinic.outcomes.models import QuestionnaireResponse, QuestionnaireResponseItem
from ketaclinic.patients.models import BodyMeasurement, Patient, PatientVersion
from ketaclinic.platform.audit import chain
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.audit.service import is_sensitive
from ketaclinic.platform.db import utcnow
from ketaclinic.scheduling.models import Appointment
from ketaclinic.sessions import service as sessions_service
from ketaclinic.sessions.models import (
    InfusionSession,
    SessionEntry,
    SessionEvent,
    SessionNote,
    VitalSign,
)

# One clinic-year as the issue measures it: about 500 patients, 6,000 sessions and a
# million vital signs (a busy clinic of four chairs).
PATIENTS_PER_YEAR = 500
SESSIONS_PER_PATIENT = 12
ROWS_PER_BATCH = 5000
SEEDER = "demo"
COMPLETED = ("discharged", "signed", "cosigned")
PHQ9_ITEMS = [f"item{n}" for n in range(1, 10)]


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


class NoTemplate(Exception):
    """The database holds no charted course to copy: build the demo clinic first."""


@dataclass
class Template:
    course: dict[str, Any]
    order: dict[str, Any]
    session: dict[str, Any]
    appointment: dict[str, Any]
    planned: dict[str, Any]
    events: list[dict[str, Any]]
    entries: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    start: datetime  # when dosing began
    end: datetime  # discharge


@dataclass
class Seeded:
    patients: int = 0
    sessions: int = 0
    vital_signs: int = 0
    responses: int = 0
    audit_rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def _one(db: Session, table: Table, **where: Any) -> dict[str, Any]:
    query = select(table)
    for name, value in where.items():
        query = query.where(table.c[name] == value)
    return dict(db.execute(query).mappings().one())


def _many(db: Session, table: Table, session_id: int) -> list[dict[str, Any]]:
    query = select(table).where(table.c.session_id == session_id).order_by(table.c.id)
    return [dict(r) for r in db.execute(query).mappings()]


def _template(db: Session, route: str) -> Template | None:
    """The latest completed session of ``route`` that was discharged, with its course."""
    sessions = _table(InfusionSession)
    events = _table(SessionEvent)
    first = "device" if route == "esketamine_nasal" else "start"
    found = db.execute(
        select(sessions.c.id)
        .where(
            sessions.c.route == route,
            sessions.c.status.in_(COMPLETED),
            sessions.c.course_id.is_not(None),
            sessions.c.appointment_id.is_not(None),
            sessions.c.planned_session_id.is_not(None),
        )
        .order_by(sessions.c.id.desc())
    ).scalars()
    for session_id in found:
        rows = _many(db, events, session_id)
        valid = [e for e in rows if e["entered_in_error_at"] is None]
        starts = [e["at"] for e in valid if e["kind"] == first]
        left = [e["at"] for e in valid if e["kind"] == "discharge"]
        if not starts or not left:
            continue
        session = _one(db, sessions, id=session_id)
        return Template(
            course=_one(db, _table(Course), id=session["course_id"]),
            order=_one(db, _table(Order), id=session["order_id"]),
            session=session,
            appointment=_one(db, _table(Appointment), id=session["appointment_id"]),
            planned=_one(db, _table(PlannedSession), id=session["planned_session_id"]),
            events=valid,
            entries=[
                e
                for e in _many(db, _table(SessionEntry), session_id)
                if not e["entered_in_error_at"]
            ],
            notes=[n for n in _many(db, _table(SessionNote), session_id) if n["kind"] == "note"],
            start=starts[0],
            end=left[-1],
        )
    return None


def _moved(row: dict[str, Any], delta: timedelta, **changes: Any) -> dict[str, Any]:
    """A copy of a template row with every time moved by ``delta``."""
    out = {}
    for name, value in row.items():
        if isinstance(value, datetime):
            value = value + delta
        elif isinstance(value, date):
            value = value + timedelta(days=delta.days)
        out[name] = value
    out.update(changes)
    return out


class _Ids:
    """Ids handed out ahead of the inserts, so that rows can name each other without a
    round trip per row."""

    def __init__(self, db: Session, tables: Iterable[Table]) -> None:
        self.next = {t.name: (db.scalar(select(func.max(t.c.id))) or 0) + 1 for t in tables}

    def take(self, table: Table) -> int:
        value = self.next[table.name]
        self.next[table.name] = value + 1
        return value


class _Writer:
    """Rows gathered per table and written in ``executemany`` batches, parents first."""

    ORDER = [
        _table(Patient),
        _table(PatientVersion),
        _table(BodyMeasurement),
        _table(Course),
        _table(Order),
        _table(PlannedSession),
        _table(Appointment),
        _table(InfusionSession),
        _table(SessionEvent),
        _table(VitalSign),
        _table(SessionEntry),
        _table(SessionNote),
        _table(QuestionnaireResponse),
        _table(QuestionnaireResponseItem),
        _table(AuditEvent),
    ]

    # The two tables of millions of rows go straight to the driver as tuples in this
    # column order (COPY on PostgreSQL, executemany on SQLite); SQLAlchemy's per-value
    # processing of the others is cheap at their few rows per session.
    RAW: dict[str, tuple[str, ...]] = {
        "vital_signs": (
            "id",
            "session_id",
            "taken_at",
            "heart_rate",
            "systolic_bp",
            "diastolic_bp",
            "spo2",
            "respiratory_rate",
            "source",
            "recorded_at",
        ),
        "audit_events": (
            "id",
            "at",
            "actor",
            "action",
            "patient_id",
            "object_type",
            "object_id",
            "detail",
            "sensitive",
            "mac",
            "mac_version",
        ),
    }

    def __init__(self, db: Session) -> None:
        self.db = db
        self.postgresql = db.get_bind().dialect.name == "postgresql"
        self.rows: dict[str, list[Any]] = {t.name: [] for t in self.ORDER}
        self.written: dict[str, int] = dict.fromkeys(self.rows, 0)

    def add(self, table: Table, row: dict[str, Any]) -> None:
        self.rows[table.name].append(row)

    def add_raw(self, name: str, row: tuple[Any, ...]) -> None:
        """A row of a ``RAW`` table, its values in that order and as the driver takes
        them (``when``: times as SQLite stores them, datetimes for PostgreSQL)."""
        self.rows[name].append(row)

    def when(self, at: datetime, as_text: str) -> Any:
        return at if self.postgresql else as_text

    def pending(self) -> int:
        return sum(len(r) for r in self.rows.values())

    def flush(self) -> None:
        for table in self.ORDER:
            rows = self.rows[table.name]
            if table.name in self.RAW:
                self._raw(table.name, rows)
            else:
                for chunk in _chunks(rows, ROWS_PER_BATCH):
                    self.db.execute(insert(table), chunk)
            self.written[table.name] += len(rows)
            rows.clear()

    def _raw(self, name: str, rows: list[Any]) -> None:
        if not rows:
            return
        columns = self.RAW[name]
        cursor = self.db.connection().connection.cursor()
        try:
            if self.postgresql:
                with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(
                    f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                    rows,
                )
        finally:
            cursor.close()


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def _phq9_answers(total: int, rng: random.Random) -> dict[str, int]:
    """PHQ-9 answers adding up to ``total`` (at most 24), item 9 left at 0 (no seeded
    suicidality alert)."""
    values = [0] * 9
    left = min(total, 24)
    while left > 0:
        i = rng.randrange(8)
        if values[i] < 3:
            values[i] += 1
            left -= 1
    return dict(zip(PHQ9_ITEMS, values, strict=True))


def _phq9_severity(total: int) -> str:
    # The PHQ-9 bands (Kroenke, Spitzer, Williams, J Gen Intern Med 2001;16:606-613).
    for upper, band in ((4, "minimal"), (9, "mild"), (14, "moderate"), (19, "moderately severe")):
        if total <= upper:
            return band
    return "severe"


class _Seeder:
    def __init__(
        self,
        db: Session,
        *,
        rng: random.Random,
        vitals_per_session: int,
        sessions_per_patient: int | None,
    ) -> None:
        self.db = db
        self.sessions_per_patient = sessions_per_patient
        self.rng = rng
        self.vitals_per_session = vitals_per_session
        self.key = chain.audit_key(db)
        self.writer = _Writer(db)
        self.ids = _Ids(db, _Writer.ORDER)
        self.audit_table = _table(AuditEvent)
        self.templates = [t for t in (_template(db, "iv"), _template(db, "esketamine_nasal")) if t]
        if not self.templates:
            raise NoTemplate("no charted session to copy: build the demo clinic first")
        responses = _table(QuestionnaireResponse)
        found = db.execute(
            select(responses)
            .where(responses.c.instrument_id == "phq9", responses.c.status == "final")
            .order_by(responses.c.id)
            .limit(1)
        ).mappings()
        self.response_template = dict(found.one())

    def audit(
        self,
        at: datetime,
        action: str,
        patient_id: int,
        object_type: str,
        object_id: object,
        detail: str = "",
        at_text: str | None = None,
    ) -> None:
        """One audit row with its keyed MAC, computed here in bulk (the canonical text
        ``chain.payload_of`` and ``chain.payload_mac``, what ``record`` writes)."""
        row_id = self.ids.take(self.audit_table)
        at_text = at_text or chain.utc_text(at)
        sensitive = is_sensitive(action)
        mac = chain.payload_mac(
            self.key,
            chain.payload_of(
                [
                    str(row_id),
                    at_text,
                    None,
                    SEEDER,
                    action,
                    str(patient_id),
                    object_type,
                    str(object_id),
                    detail,
                    None,
                    None,
                    None,
                    "1" if sensitive else "0",
                ]
            ),
        )
        self.writer.add_raw(
            "audit_events",
            (
                row_id,
                self.writer.when(at, at_text),
                SEEDER,
                action,
                patient_id,
                object_type,
                str(object_id),
                detail,
                sensitive if self.writer.postgresql else int(sensitive),
                mac,
                chain.MAC_VERSION,
            ),
        )

    def patient(self, opened: datetime) -> None:
        rng = self.rng
        table = _table(Patient)
        pid = self.ids.take(table)
        given, sex = rng.choice(list(GIVEN_NAMES.items()))
        family = rng.choice(FAMILY_NAMES)
        born = date(rng.randint(1950, 2002), rng.randint(1, 12), rng.randint(1, 28))
        registered = opened - timedelta(days=14)
        demographics: dict[str, Any] = {
            "id": pid,
            "mrn": f"S{pid:07d}",
            "given_name": given,
            "family_name": family,
            "date_of_birth": born,
            "sex": sex,
            "phone": None,
            "email": None,
            "address": None,
            "emergency_contact_name": None,
            "emergency_contact_phone": None,
            "emergency_contact_relation": None,
            "version": 1,
            "created_at": registered,
            "updated_at": registered,
        }
        self.writer.add(table, demographics)
        snapshot = {
            k: v for k, v in demographics.items() if k not in ("id", "version") and "_at" not in k
        }
        snapshot["date_of_birth"] = born.isoformat()
        self.writer.add(
            _table(PatientVersion),
            {
                "id": self.ids.take(_table(PatientVersion)),
                "patient_id": pid,
                "version": 1,
                "data": snapshot,
                "changed_at": demographics["created_at"],
                "changed_by": SEEDER,
                "reason": "registered",
            },
        )
        self.audit(registered, "patient.create", pid, "patient", pid)
        template = rng.choice(self.templates)
        weight = round(rng.uniform(55, 110), 1)
        self.writer.add(
            _table(BodyMeasurement),
            {
                "id": self.ids.take(_table(BodyMeasurement)),
                "patient_id": pid,
                "measured_on": (opened - timedelta(days=14)).date(),
                "weight_kg": weight,
                "height_cm": round(rng.uniform(155, 190), 1),
                "recorded_by": SEEDER,
                "recorded_at": demographics["created_at"],
                "entered_in_error_at": None,
                "entered_in_error_by": None,
                "error_reason": None,
            },
        )
        self.course(pid, template, opened)

    def course(self, pid: int, template: Template, opened: datetime) -> None:
        rng = self.rng
        delta = opened - template.course["created_at"]
        course_id = self.ids.take(_table(Course))
        sessions = self.sessions_per_patient or SESSIONS_PER_PATIENT + rng.randint(-3, 3)
        series = int(template.course["series_sessions"])
        last_day = opened + timedelta(days=3 * series + 30 * max(0, sessions - series))
        self.writer.add(
            _table(Course),
            _moved(
                template.course,
                delta,
                id=course_id,
                patient_id=pid,
                status="completed",
                ended_at=last_day + timedelta(days=7),
                end_reason="series and boosters given",
            ),
        )
        self.audit(opened, "course.open", pid, "course", course_id)
        order_id = self.ids.take(_table(Order))
        self.writer.add(
            _table(Order),
            _moved(
                template.order,
                delta,
                id=order_id,
                course_id=course_id,
                patient_id=pid,
                supersedes_id=None,
            ),
        )
        self.audit(opened + timedelta(hours=1), "order.sign", pid, "order", order_id)
        # How this patient's depression answers: about half respond, a third remit.
        baseline = rng.randint(15, 25)
        fall = rng.choice((0.15, 0.35, 0.55, 0.7, 0.8))
        first = opened + timedelta(days=2)
        self.response(pid, first - timedelta(days=3), baseline, "intake")
        for number in range(1, sessions + 1):
            day = 2 * (number - 1) if number <= series else 2 * series + 30 * (number - series)
            when = first + timedelta(days=day)
            self.session(pid, course_id, order_id, number, series, template, when)
            if number % 2 == 0 or number == sessions:
                progress = min(1.0, number / series)
                total = round(baseline * (1 - fall * progress) + rng.uniform(-2, 2))
                self.response(pid, when + timedelta(days=1), max(0, total), "visit")

    def session(
        self,
        pid: int,
        course_id: int,
        order_id: int,
        number: int,
        series: int,
        template: Template,
        start: datetime,
    ) -> None:
        # The template session moved so that its dosing begins at ``start`` (to the minute).
        start = start.replace(second=0, microsecond=0)
        delta = start - template.start
        planned_id = self.ids.take(_table(PlannedSession))
        self.writer.add(
            _table(PlannedSession),
            _moved(
                template.planned,
                delta,
                id=planned_id,
                course_id=course_id,
                patient_id=pid,
                number=number,
                kind="induction" if number <= series else "booster",
            ),
        )
        appointment_id = self.ids.take(_table(Appointment))
        self.writer.add(
            _table(Appointment),
            _moved(
                template.appointment,
                delta,
                id=appointment_id,
                patient_id=pid,
                planned_session_id=planned_id,
                status="completed",
            ),
        )
        session_id = self.ids.take(_table(InfusionSession))
        self.writer.add(
            _table(InfusionSession),
            _moved(
                template.session,
                delta,
                id=session_id,
                patient_id=pid,
                course_id=course_id,
                order_id=order_id,
                appointment_id=appointment_id,
                planned_session_id=planned_id,
                number=number,
                status="cosigned",
            ),
        )
        self.audit(start - timedelta(minutes=15), "session.open", pid, "session", session_id)
        for e in template.events:
            event_id = self.ids.take(_table(SessionEvent))
            self.writer.add(
                _table(SessionEvent),
                _moved(e, delta, id=event_id, session_id=session_id),
            )
            self.audit(e["at"] + delta, f"session.{e['kind']}", pid, "session_event", event_id)
        for n in template.entries:
            self.writer.add(
                _table(SessionEntry),
                _moved(n, delta, id=self.ids.take(_table(SessionEntry)), session_id=session_id),
            )
        for n in template.notes:
            note_id = self.ids.take(_table(SessionNote))
            self.writer.add(
                _table(SessionNote),
                _moved(
                    n,
                    delta,
                    id=note_id,
                    session_id=session_id,
                    body="Session charted in a seeded clinic (a benchmark's history).",
                    lines=[],
                ),
            )
            self.audit(n["signed_at"] + delta, "session.note.sign", pid, "session_note", note_id)
        self.vitals(pid, session_id, start - timedelta(minutes=10), template.end + delta)

    def vitals(self, pid: int, session_id: int, first: datetime, last: datetime) -> None:
        rng = self.rng
        n = self.vitals_per_session
        step = (last - first) / max(1, n)
        systolic, diastolic, heart = rng.randint(110, 135), rng.randint(68, 85), rng.randint(60, 85)
        table = _table(VitalSign)
        add, when, take, audit = self.writer.add_raw, self.writer.when, self.ids.take, self.audit
        noise = rng.random
        for i in range(n):
            at = first + step * i
            at_text = chain.utc_text(at)
            moment = when(at, at_text)
            # A modest rise toward the end of dosing that settles in recovery.
            rise = 14 * max(0.0, 1 - abs(i / n - 0.3) * 3)
            vital_id = take(table)
            add(
                "vital_signs",
                (
                    vital_id,
                    session_id,
                    moment,
                    heart + int(noise() * 9) - 4,
                    int(systolic + rise + int(noise() * 9) - 4),
                    int(diastolic + rise * 0.7 + int(noise() * 7) - 3),
                    96 + int(noise() * 4),
                    12 + int(noise() * 7),
                    "monitor",
                    moment,
                ),
            )
            audit(at, "session.vitals.record", pid, "vital_sign", vital_id, at_text=at_text)

    def response(self, pid: int, at: datetime, total: int, context: str) -> None:
        table = _table(QuestionnaireResponse)
        response_id = self.ids.take(table)
        total = min(total, 24)
        answers = _phq9_answers(total, self.rng)
        self.writer.add(
            table,
            dict(
                self.response_template,
                id=response_id,
                patient_id=pid,
                context=context,
                session_id=None,
                request_id=None,
                completed_at=at,
                entered_by=SEEDER,
                total=total,
                severity=_phq9_severity(total),
                risk=None,
                flags=[],
                created_at=at,
            ),
        )
        for position, item in enumerate(PHQ9_ITEMS, start=1):
            self.writer.add(
                _table(QuestionnaireResponseItem),
                {
                    "id": self.ids.take(_table(QuestionnaireResponseItem)),
                    "response_id": response_id,
                    "item_id": item,
                    "position": position,
                    "value": answers[item],
                },
            )
        self.audit(at, "outcomes.response.record", pid, "questionnaire_response", response_id)


# SQLite's page cache while seeding (KiB): the indexes of millions of new rows (the audit
# trail's four, the vital signs' time index) then stay in memory instead of being read
# back page by page; the connection's own setting is restored afterwards.
SEEDING_CACHE_KIB = 256 * 1024


@contextlib.contextmanager
def _big_page_cache(db: Session) -> Iterator[None]:
    if db.get_bind().dialect.name != "sqlite":
        yield
        return
    before = db.execute(text("PRAGMA cache_size")).scalar_one()
    db.execute(text(f"PRAGMA cache_size = -{SEEDING_CACHE_KIB}"))
    try:
        yield
    finally:
        db.execute(text(f"PRAGMA cache_size = {int(before)}"))


def _advance_sequences(db: Session) -> None:
    """On PostgreSQL, rows written with their own ids leave the id sequences behind."""
    if db.get_bind().dialect.name != "postgresql":
        return
    for table in _Writer.ORDER:
        db.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
            )
        )


def _refresh_statistics(db: Session) -> None:
    """PostgreSQL plans from table statistics, which a bulk load leaves empty until
    autovacuum comes round: without them a 180,000-row table is planned as 6 rows and the
    session page's spacing query scans it whole (86 ms instead of under 1). So the load
    ends as the PostgreSQL manual asks of one ("Populating a Database": run ANALYZE
    afterwards). SQLite plans without statistics unless ANALYZE was ever run, and the
    product never runs it there, so a seeded file plans like a grown one."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("ANALYZE"))


def seed(
    db: Session,
    *,
    clinic_years: float,
    seed: int = 7,
    before: datetime | None = None,
    vitals_per_session: int = 165,
    patients: int | None = None,
    sessions_per_patient: int | None = None,
    progress: Any = None,
) -> Seeded:
    """Add ``clinic_years`` of history ending at ``before`` (default: a month before the
    demo clinic's oldest course), inside the caller's transaction: ``patients`` (default
    500 a year) with ``sessions_per_patient`` each (default 9 to 15). ``progress(done,
    total)`` is called as patients are written."""
    rng = random.Random(seed)  # noqa: S311 - invented data, not security
    seeder = _Seeder(
        db,
        rng=rng,
        vitals_per_session=vitals_per_session,
        sessions_per_patient=sessions_per_patient,
    )
    oldest = db.scalar(select(func.min(Course.created_at)))
    end = before or (oldest or utcnow()) - timedelta(days=30)
    end = end.astimezone(UTC)
    patients = patients or max(1, round(clinic_years * PATIENTS_PER_YEAR))
    span = timedelta(days=365 * clinic_years)
    # The last patients' courses (boosters over about six months) still end before ``end``.
    first = end - span - timedelta(days=240)
    with _big_page_cache(db):
        for i in range(patients):
            seeder.patient(first + span * (i / patients))
            if seeder.writer.pending() > 20 * ROWS_PER_BATCH:
                seeder.writer.flush()
            if progress:
                progress(i + 1, patients)
        seeder.writer.flush()
    _advance_sequences(db)
    # Rows written straight into the tables have no kept summaries yet: derived here from
    # those facts, as ``ketaclinic summaries rebuild --missing`` would.
    sessions_service.rebuild_summaries(db, only_missing=True)
    outcomes_service.rebuild_course_summaries(db, only_missing=True)
    # The trail's own sealer chains the seeded rows like any others.
    chain.seal(db, wait=True)
    _refresh_statistics(db)
    written = seeder.writer.written
    return Seeded(
        patients=written[Patient.__tablename__],
        sessions=written[InfusionSession.__tablename__],
        vital_signs=written[VitalSign.__tablename__],
        responses=written[QuestionnaireResponse.__tablename__],
        audit_rows=written[AuditEvent.__tablename__],
        counts=dict(written),
    )
