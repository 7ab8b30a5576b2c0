"""Courses and orders for tests, built through the real services."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.orders import service
from ketaclinic.orders.models import Course, Order
from ketaclinic.orders.schemas import OrderIn
from ketaclinic.patients import service as patients
from ketaclinic.patients.models import Patient
from ketaclinic.patients.schemas import MeasurementIn
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.actors import Actor
from tests.candidacy.factories import NURSE, PRESCRIBER, cleared_patient
from tests.conftest import PASSWORD, committed, make_user
from tests.patients.factories import a_patient


@committed
def a_weighed_patient(
    db: Session, weight: float = 80.0, height: float = 175.0, **kw: Any
) -> Patient:
    patient = a_patient(db, **kw)
    patients.add_measurement(
        db,
        actor=NURSE,
        patient_id=patient.id,
        data=MeasurementIn(
            measured_on=date.today() - timedelta(days=1), weight_kg=weight, height_cm=height
        ),
    )
    return patient


@committed
def a_course(db: Session, patient: Patient, protocol_id: str = "iv_ketamine", **kw: Any) -> Course:
    route = "intranasal" if protocol_id.startswith("in_") else "intravenous"
    cleared_patient(db, patient.id, route=route)
    return service.open_course(
        db,
        actor=PRESCRIBER,
        patient_id=patient.id,
        protocol_id=protocol_id,
        indication="treatment_resistant_depression",
        **kw,
    )


IV = OrderIn(dose_mg_per_kg=0.5, concentration_mg_per_ml=10, bag_volume_ml=100)


@committed
def a_signed_order(db: Session, course: Course, data: OrderIn = IV) -> Order:
    draft = service.draft_order(db, actor=PRESCRIBER, course_id=course.id, data=data)
    return service.sign_order(db, actor=signer(db), order_id=draft.id, password=PASSWORD)


def signer(db: Session) -> Actor:
    """``PRESCRIBER`` as a real account, since a signature asks for the signer's own
    password (``PASSWORD``)."""
    user = db.scalar(select(User).where(User.username == PRESCRIBER.username))
    if user is None:
        user = make_user(db, "prescriber", username=PRESCRIBER.username)
    return accounts.actor_for(user)
