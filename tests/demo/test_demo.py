from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.patients.models import BodyMeasurement, Patient
from ketaclinic.platform.accounts.models import UserRole
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.roles import Role


def test_the_demo_clinic_has_every_role_and_thirty_patients_with_months_of_history(
    db: Session,
) -> None:
    # db is a copy of the run's demo clinic (tests/demo/conftest.py), built for today.
    roles = set(db.scalars(select(UserRole.role)))
    assert roles == {r.value for r in Role}
    assert db.scalar(select(func.count()).select_from(Patient)) >= 30
    spans = db.execute(
        select(
            func.min(BodyMeasurement.measured_on), func.max(BodyMeasurement.measured_on)
        ).group_by(BodyMeasurement.patient_id)
    ).all()
    assert len(spans) >= 30
    assert all((last - first).days >= 55 for first, last in spans)
    assert audit.verify(db).ok
