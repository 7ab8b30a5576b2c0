"""Where each course stands, kept as its facts change (``CourseSummaryRow``).

A course's standing is derived from the patient's sessions given and scored
questionnaires by ``progress.evaluated`` (``clinical.course.evaluate`` classifies:
nothing here restates a cut-off). Each act that changes one of those facts derives the
patient's rows again in its own transaction and flushes: a scored questionnaire
(``responses``), a session given (sessions' discharge and scheduling's completed visit,
through ``platform.ports``), a course opened or extended (orders, through the same
port). The clinic's response and remission rates and the course dashboard then read
these rows, never every session and score of the clinic.

``rebuild`` derives every row from the facts, a batch of patients at a time
(``ketaclinic summaries rebuild``, the grown demo); ``differences`` compares the kept
rows with a fresh derivation (a test holds them equal on the demo clinic).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.orders import service as orders
from ketaclinic.outcomes.models import CourseSummaryRow
from ketaclinic.outcomes.service import context
from ketaclinic.outcomes.service.progress import Standing, evaluated, scored_of
from ketaclinic.platform.db import keep_row, utcnow

# Patients derived per batch: SQLite limits the parameters of one statement.
BATCH = 400
COLUMNS = (
    "patient_id",
    "indication",
    "protocol_id",
    "opened_at",
    "sessions_given",
    "stage",
    "problem",
    "primary_instrument",
    "baseline",
    "latest",
    "latest_at",
    "category",
    "response",
    "remission",
    "interim_evaluation_due",
    "booster_suggested",
)


def values(course: orders.Course, standing: Standing) -> dict[str, Any]:
    """The kept columns of one course from its standing."""
    status = standing.status
    primary = standing.primary
    points = (
        standing.trends[primary.instrument_id].points
        if primary is not None and primary.instrument_id in standing.trends
        else []
    )
    return {
        "patient_id": course.patient_id,
        "indication": course.indication,
        "protocol_id": course.protocol_id,
        "opened_at": context.course_opened(course),
        "sessions_given": len(standing.sessions),
        "stage": status.stage if status else None,
        "problem": standing.problem,
        "primary_instrument": status.primary_instrument if status else None,
        "baseline": primary.baseline if primary else None,
        "latest": primary.current if primary else None,
        "latest_at": points[-1][0] if points else None,
        "category": primary.category if primary else None,
        "response": primary.response if primary else None,
        "remission": primary.remission if primary else None,
        "interim_evaluation_due": bool(status and status.interim_evaluation_due),
        "booster_suggested": bool(status and status.booster_suggested),
    }


def derive(
    db: Session, patient_ids: Collection[int], *, now: datetime | None = None
) -> dict[int, dict[str, Any]]:
    """Every kept column of every course of the patients, by course id, from the facts
    in a fixed number of statements for the whole batch."""
    if not patient_ids:
        return {}
    now = now or utcnow()
    courses = orders.courses_of_patients(db, patient_ids)
    pids = {c.patient_id for c in courses}
    if not pids:
        return {}
    given = context.sessions_given_of(db, patient_ids=pids)
    scored = scored_of(db, pids)
    return {
        c.id: values(
            c,
            evaluated(c, given.get(c.patient_id, []), scored.get(c.patient_id, []), now=now),
        )
        for c in courses
    }


def _store(db: Session, course_id: int, found: dict[str, Any]) -> None:
    keep_row(db, CourseSummaryRow, course_id, found)


def refresh_course_summaries(db: Session, *, patient_id: int) -> int:
    """Derive the patient's course rows again, inside the act (flushed); how many."""
    db.flush()
    found = derive(db, [patient_id])
    for course_id, row in found.items():
        _store(db, course_id, row)
    db.flush()
    return len(found)


def _patient_batches(db: Session, only_missing: bool) -> tuple[int, list[list[int]]]:
    courses = orders.courses_of_patients(db)
    if only_missing:
        kept = set(db.scalars(select(CourseSummaryRow.course_id)))
        courses = [c for c in courses if c.id not in kept]
    pids = sorted({c.patient_id for c in courses})
    return len(pids), [pids[i : i + BATCH] for i in range(0, len(pids), BATCH)]


def rebuild(
    db: Session,
    *,
    only_missing: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Derive every course's row from the facts (``only_missing``: the patients with a
    course without one); how many courses were written. ``progress(done, total)``
    counts patients."""
    total, batches = _patient_batches(db, only_missing)
    written = done = 0
    now = utcnow()
    for pids in batches:
        for course_id, row in derive(db, pids, now=now).items():
            _store(db, course_id, row)
            written += 1
        db.flush()
        done += len(pids)
        if progress:
            progress(done, total)
    return written


def differences(db: Session) -> list[str]:
    """Every kept value that differs from a fresh derivation (and courses with no row),
    as ``course N: column kept X, facts Y``: empty when the two agree."""
    found: list[str] = []
    _, batches = _patient_batches(db, only_missing=False)
    for pids in batches:
        fresh = derive(db, pids)
        kept = {
            k.course_id: k
            for k in db.scalars(
                select(CourseSummaryRow).where(CourseSummaryRow.course_id.in_(list(fresh)))
            )
        }
        for course_id, row in fresh.items():
            have = kept.get(course_id)
            if have is None:
                found.append(f"course {course_id}: no summary")
                continue
            for name in COLUMNS:
                if getattr(have, name) != row[name]:
                    found.append(
                        f"course {course_id}: {name} kept {getattr(have, name)!r}, "
                        f"facts {row[name]!r}"
                    )
    return found


def counts(db: Session) -> tuple[int, int]:
    """Courses, and courses with a kept row."""
    return (
        len(orders.courses_of_patients(db)),
        int(db.scalar(select(func.count()).select_from(CourseSummaryRow)) or 0),
    )
