"""Building patients for tests through the real service."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.patients import service
from ketaclinic.patients.models import Patient
from ketaclinic.patients.schemas import PatientIn
from tests.conftest import TEST_ACTOR, committed


@committed
def a_patient(db: Session, **overrides: Any) -> Patient:
    fields: dict[str, Any] = {
        "given_name": "Maria",
        "family_name": "Lopez",
        "date_of_birth": date(1980, 5, 17),
        "sex": "female",
        "phone": "+1 555 201 3344",
    }
    fields.update(overrides)
    return service.create_patient(db, actor=TEST_ACTOR, data=PatientIn(**fields))
