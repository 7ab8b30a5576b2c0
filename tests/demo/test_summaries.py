"""On the demo clinic, charted act by act through the services, every kept summary of a
session and of a course equals one derived again from the facts; so does every one of
a clinic grown by the seeder, whose rows are written straight into the tables."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.demo import scale
from ketaclinic.orders.models import Course
from ketaclinic.outcomes import service as outcomes
from ketaclinic.outcomes.models import CourseSummaryRow
from ketaclinic.platform import migrate
from ketaclinic.sessions import service as sessions
from ketaclinic.sessions.models import InfusionSession, SessionSummaryRow


def _count(db: Session, model: type) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_the_demo_clinics_kept_summaries_equal_a_rebuild_from_the_facts(db: Session) -> None:
    assert _count(db, SessionSummaryRow) == _count(db, InfusionSession) > 0
    assert _count(db, CourseSummaryRow) == _count(db, Course) > 0
    assert sessions.summary_differences(db) == []
    assert outcomes.course_summary_differences(db) == []


def test_a_seeded_clinic_keeps_a_summary_of_every_session_and_course(db: Session) -> None:
    scale.seed(db, clinic_years=0.01, patients=3, sessions_per_patient=4, vitals_per_session=12)
    assert _count(db, SessionSummaryRow) == _count(db, InfusionSession)
    assert _count(db, CourseSummaryRow) == _count(db, Course)
    assert sessions.summary_differences(db) == []
    assert outcomes.course_summary_differences(db) == []
    seeded = db.scalar(
        select(SessionSummaryRow).order_by(SessionSummaryRow.session_id.desc()).limit(1)
    )
    assert seeded is not None and seeded.readings == 12 and seeded.discharged_at is not None


def test_an_upgrade_derives_the_summaries_of_the_records_made_before_it(
    db: Session, database_url: str
) -> None:
    sessions_before, courses_before = _count(db, SessionSummaryRow), _count(db, CourseSummaryRow)
    db.rollback()
    db.close()
    script = ScriptDirectory.from_config(migrate.config(database_url))
    [kept] = [r for r in script.walk_revisions() if r.path.endswith("_kept_summaries.py")]
    assert isinstance(kept.down_revision, str)
    command.downgrade(migrate.config(database_url), kept.down_revision)  # before they were kept
    migrate.upgrade(database_url)
    assert (_count(db, SessionSummaryRow), _count(db, CourseSummaryRow)) == (
        sessions_before,
        courses_before,
    )
    assert sessions.summary_differences(db) == []
    assert outcomes.course_summary_differences(db) == []
