"""A small charted record for the FHIR tests: one patient weighed, with an intake
(medications, allergies), a PTSD course, an IV session (vitals, pump start and stop)
and a scored PHQ-9; a second patient; a bearer token for every role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ketaclinic.orders.models import Course
from ketaclinic.outcomes import service as outcomes
from ketaclinic.patients import service as patients
from ketaclinic.patients.schemas import MeasurementIn
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.roles import Role
from ketaclinic.sessions import service as sessions
from tests.candidacy.factories import an_intake
from tests.conftest import TEST_ACTOR, committed, make_user
from tests.patients.factories import a_patient
from tests.sessions.factories import T0, iv_order

FHIR_JSON = "application/fhir+json"


@dataclass
class Charted:
    patient_id: int
    other_id: int
    mrn: str
    session_id: int
    response_id: int
    course_id: int
    intake_id: int
    tokens: dict[str, str]

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@committed
def charted_record(db: Session) -> Charted:
    users = {
        role.value: make_user(db, role.value, username=f"fhir-{role.value}")
        for role in Role
        if role is not Role.patient
    }
    nurse = accounts.actor_for(users["nurse"])
    patient = a_patient(db, given_name="Mario", family_name="Lopez", sex="male")
    other = a_patient(db, given_name="Tina", family_name="Berg", sex="female")
    patients.add_measurement(
        db,
        actor=nurse,
        patient_id=patient.id,
        data=MeasurementIn(measured_on=date(2026, 3, 1), weight_kg=70.0, height_cm=168.0),
    )
    intake = an_intake(
        db,
        patient.id,
        medications=["Sertraline 100 mg daily", "Lamotrigine 50 mg daily"],
        allergies=["Penicillin"],
    )
    order = iv_order(db, patient)
    course = db.get(Course, order.course_id)
    assert course is not None
    course.indication = "ptsd"
    db.commit()
    row = sessions.start_walk_in_session(db, actor=nurse, patient_id=patient.id, now=T0)
    sessions.answer_checklist(
        db,
        actor=nurse,
        session_id=row.id,
        answers={"identity": "yes", "consent": "yes", "fasting": "yes", "driver": "yes"},
        now=T0,
    )
    sessions.record_vitals(
        db,
        actor=nurse,
        session_id=row.id,
        taken_at=T0,
        heart_rate=72,
        systolic_bp=128,
        diastolic_bp=82,
        spo2=98,
        respiratory_rate=14,
        now=T0,
    )
    start = T0 + timedelta(minutes=1)
    sessions.chart_pump(db, actor=nurse, session_id=row.id, kind="start", at=start, now=start)
    stop = T0 + timedelta(minutes=41)
    sessions.chart_pump(
        db, actor=nurse, session_id=row.id, kind="stop", at=stop, now=stop, reason="complete"
    )
    response = outcomes.record_response(
        db,
        actor=nurse,
        patient_id=patient.id,
        instrument_id="phq9",
        answers=[2, 2, 3, 2, 1, 2, 2, 1, 0],
        context="baseline",
        completed_at=datetime(2026, 3, 9, 15, 0, tzinfo=UTC),
    )
    db.commit()
    patient_user = make_user(db, "patient", username="fhir-portal", patient_id=patient.id)
    tokens = {
        name: accounts.create_api_token(db, actor=TEST_ACTOR, user_id=user.id, name="fhir")
        for name, user in {**users, "portal": patient_user}.items()
    }
    return Charted(
        patient_id=patient.id,
        other_id=other.id,
        mrn=patient.mrn,
        session_id=row.id,
        response_id=response.id,
        course_id=course.id,
        intake_id=intake.id,
        tokens=tokens,
    )


@pytest.fixture
def charted(db: Session) -> Charted:
    return charted_record(db)


def get(client: TestClient, path: str, charted: Charted, role: str = "prescriber") -> Any:
    response = client.get(path, headers=charted.headers(role))
    assert response.headers["content-type"].startswith(FHIR_JSON), response.text
    return response
