"""Model-level builders for session tests: a patient with a course and a signed order
(the orders and scheduling services are built side by side, so their rows are made
directly here), an appointment, and the staff who run the session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.orders.models import Course, Order
from ketaclinic.patients.models import Patient
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.scheduling.models import Appointment
from tests.conftest import committed, make_user
from tests.patients.factories import a_patient

# The nurse's answers at discharge: an adult escort is here; told not to drive.
ESCORTED = {"escort_recorded": True, "no_driving_instruction_given": True}

T0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 09:00 in New York


@dataclass
class Staff:
    nurse: Actor
    prescriber: Actor
    desk: Actor


@committed
def staff(db: Session) -> Staff:
    found = {}
    for role in ("nurse", "prescriber", "front_desk"):
        user = make_user(db, role)
        found[role] = accounts.actor_for(user)
    return Staff(found["nurse"], found["prescriber"], found["front_desk"])


@committed
def iv_order(db: Session, patient: Patient, **fields: Any) -> Order:
    course = Course(
        patient_id=patient.id,
        protocol_id="iv_ketamine",
        indication="trd",
        status="active",
        series_sessions=6,
        created_by="dr",
    )
    db.add(course)
    db.flush()
    values: dict[str, Any] = {
        "course_id": course.id,
        "patient_id": patient.id,
        "protocol_id": "iv_ketamine",
        "route": "intravenous",
        "status": "signed",
        "dose_mg": 35.0,
        "dose_mg_per_kg": 0.5,
        "weight_kg": 70.0,
        "concentration_mg_per_ml": 50.0,
        "bag_volume_ml": 100.0,
        "drug_volume_ml": 0.7,
        "total_volume_ml": 100.7,
        "rate_ml_per_h": 151.1,
        "duration_min": 40.0,
        "plan_steps": [],
        "overrides": [],
        "created_by": "prescriber",
        "signed_by": "prescriber",
        "signed_at": T0 - timedelta(days=3),
    }
    values.update(fields)
    order = Order(**values)
    db.add(order)
    db.commit()
    return order


@committed
def esketamine_order(
    db: Session, patient: Patient, dose_mg: float = 56.0, weight_kg: float | None = 80.0
) -> Order:
    course = Course(
        patient_id=patient.id,
        protocol_id="in_esketamine",
        indication="trd",
        status="active",
        series_sessions=8,
        created_by="dr",
    )
    db.add(course)
    db.flush()
    order = Order(
        course_id=course.id,
        patient_id=patient.id,
        protocol_id="in_esketamine",
        route="intranasal",
        status="signed",
        dose_mg=dose_mg,
        weight_kg=weight_kg,
        devices=int(dose_mg // 28),
        plan_steps=[],
        overrides=[],
        created_by="prescriber",
        signed_by="prescriber",
        signed_at=T0 - timedelta(days=3),
    )
    db.add(order)
    db.commit()
    return order


@committed
def appointment(db: Session, patient: Patient, starts_at: datetime, **fields: Any) -> Appointment:
    row = Appointment(
        patient_id=patient.id,
        kind=fields.pop("kind", "infusion"),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=90),
        treatment_min=40,
        recovery_min=50,
        booked_by="desk",
        **fields,
    )
    db.add(row)
    db.commit()
    return row


@committed
def male_patient(db: Session, **fields: Any) -> Patient:
    values: dict[str, Any] = {
        "given_name": "Tom",
        "family_name": "Reyes",
        "sex": "male",
        "date_of_birth": date(1975, 2, 3),
    }
    values.update(fields)
    return a_patient(db, **values)
