"""The patients of the demo clinic: demographics, months of weights, a few corrections."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy.orm import Session

from ketaclinic.demo import DEMO, PASSWORD, DemoClinic
from ketaclinic.demo.people import FAMILY_NAMES, GIVEN_NAMES, RELATIONS, STREETS, TOWNS
from ketaclinic.patients import service as patients
from ketaclinic.patients.models import Patient
from ketaclinic.patients.schemas import MeasurementIn, PatientIn, PatientUpdate
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor

PATIENT_COUNT = 36


def build(db: Session, clinic: DemoClinic) -> None:
    _patients(db, clinic)
    _patient_logins(db, clinic)


def _phone(rng: random.Random) -> str:
    return f"+1 555 {rng.randint(200, 999)} {rng.randint(1000, 9999)}"


def _patients(db: Session, clinic: DemoClinic) -> None:
    rng = clinic.rng
    desk = clinic.staff["desk.baker"]
    nurse = clinic.staff["nurse.okafor"]
    givens = rng.sample(list(GIVEN_NAMES), PATIENT_COUNT)
    families = rng.sample(FAMILY_NAMES, PATIENT_COUNT)
    for given, family in zip(givens, families, strict=True):
        age_days = rng.randint(21 * 365, 72 * 365)
        patient = patients.create_patient(
            db,
            actor=desk,
            data=PatientIn(
                given_name=given,
                family_name=family,
                sex=GIVEN_NAMES[given],
                date_of_birth=clinic.today - timedelta(days=age_days),
                phone=_phone(rng),
                email=f"{given}.{family}@example.org".lower(),
                address=f"{rng.randint(2, 990)} {rng.choice(STREETS)}, {rng.choice(TOWNS)}",
                emergency_contact_name=f"{rng.choice(list(GIVEN_NAMES))} {family}",
                emergency_contact_phone=_phone(rng),
                emergency_contact_relation=rng.choice(RELATIONS),
            ),
        )
        _history(db, clinic, patient, nurse, desk)
        clinic.patients.append(patient)


def _history(db: Session, clinic: DemoClinic, patient: Patient, nurse: Actor, desk: Actor) -> None:
    """Months of weights (first visit with height), and now and then a corrected record."""
    rng = clinic.rng
    months = rng.randint(2, 9)
    weight = rng.uniform(52, 115) if patient.sex == "female" else rng.uniform(62, 130)
    height = rng.uniform(152, 178) if patient.sex == "female" else rng.uniform(163, 193)
    for step in range(months + 1):
        on = clinic.today - timedelta(days=30 * (months - step) + rng.randint(0, 6))
        patients.add_measurement(
            db,
            actor=nurse,
            patient_id=patient.id,
            data=MeasurementIn(
                measured_on=on,
                weight_kg=round(weight, 1),
                height_cm=round(height, 1) if step == 0 else None,
            ),
        )
        weight += rng.uniform(-1.5, 1.2)
    if rng.random() < 0.3:
        data = {k: getattr(patient, k) for k in patients.DEMOGRAPHIC_FIELDS}
        data["phone"] = _phone(rng)
        patients.update_patient(
            db,
            actor=desk,
            patient_id=patient.id,
            data=PatientUpdate(**data, reason="patient gave a new phone number at check-in"),
        )


def _patient_logins(db: Session, clinic: DemoClinic) -> None:
    for patient in clinic.patients[:2]:
        username = f"patient.{patient.given_name.lower()}"
        accounts.create_user(
            db,
            actor=DEMO,
            username=username,
            full_name=f"{patient.given_name} {patient.family_name}",
            password=PASSWORD,
            roles=["patient"],
            patient_id=patient.id,
        )
        clinic.patient_logins.append((username, "patient"))
