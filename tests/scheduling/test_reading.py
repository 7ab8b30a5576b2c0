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
