"""Many patients' visits are read a few hundred patients at a time, never the clinic's
every visit, and come out the same as one patient's at a time."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.service import reading
from tests import demo_clinic
from tests.conftest import BACKENDS, counted


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return demo_clinic.copy(request, request.param, tmp_path)


def test_many_patients_visits_are_read_in_parts_and_equal_each_patient_s(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(database_url)
    try:
        with Session(engine) as db:
            patients = sorted(db.scalars(select(Patient.id)))
            statuses = ("completed", "booked", "checked_in")
            alone = {
                pid: found
                for pid in patients
                if (found := reading.planned_visits(db, patient_id=pid, statuses=statuses))
            }
            assert sum(len(v) for v in alone.values()) > 10  # the demo has visits to read
            # Three patients a statement: the demo's patients in several parts.
            monkeypatch.setattr(reading, "WHERE_IN_AT_MOST", 3)
            with counted(db) as seen:
                together = reading.planned_visits_of(db, patient_ids=patients, statuses=statuses)
            visit_reads = [s for s in seen if "FROM appointments" in s]
            assert len(visit_reads) == -(-len(patients) // 3)
            assert together == alone
    finally:
        engine.dispose()


def test_a_day_s_visits_include_one_begun_the_evening_before_and_the_read_ranges_over_the_period(
    db: Session,
) -> None:
    from datetime import UTC, datetime, timedelta

    from ketaclinic.scheduling.models import Appointment
    from ketaclinic.scheduling.service.common import LONGEST_VISIT
    from tests.conftest import make_user
    from tests.patients.factories import a_patient
    from tests.scheduling.factories import actor

    desk = actor(make_user(db, "front_desk"))
    patient = a_patient(db)
    day = datetime(2030, 3, 4, 5, 0, tzinfo=UTC)  # midnight in New York (EST)

    def visit(starts: datetime, minutes: int) -> int:
        row = Appointment(
            patient_id=patient.id,
            kind="consultation",
            starts_at=starts,
            ends_at=starts + timedelta(minutes=minutes),
            treatment_min=minutes,
            recovery_min=0,
            booked_by="frontdesk",
        )
        db.add(row)
        db.flush()
        return row.id

    # Begun 23 hours before the day, ending an hour into it: the longest a visit holds.
    overnight = visit(day - timedelta(hours=23), 24 * 60)
    ended = visit(day - timedelta(hours=3), 60)  # over before the day began
    inside = visit(day + timedelta(hours=9), 30)
    found = reading.appointments_between(db, actor=desk, starts=day, ends=day + timedelta(days=1))
    assert [a.id for a in found] == [overnight, inside]
    assert ended not in {a.id for a in found}
    assert timedelta(hours=24) == LONGEST_VISIT
    if db.get_bind().dialect.name == "sqlite":
        # The start index is ranged from both sides (SQLite plans by its rules alone:
        # no statistics), so a day of a clinic's ten years reads that day's visits.
        with counted(db) as seen:
            reading.appointments_between(db, actor=desk, starts=day, ends=day + timedelta(days=1))
        (statement,) = [s for s in seen if "FROM appointments" in s]
        plan = " ".join(
            str(row[-1])
            # The plan does not depend on the values: any three times will do.
            for row in db.connection().exec_driver_sql(
                f"EXPLAIN QUERY PLAN {statement}", ("2030-03-05", "2030-03-04", "2030-03-03")
            )
        )
        assert "ix_appointments_start (starts_at>? AND starts_at<?)" in plan, plan
