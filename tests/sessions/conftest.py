from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from ketaclinic.sessions import service
from ketaclinic.sessions.models import InfusionSession
from tests.conftest import committed
from tests.sessions.factories import T0, Staff, iv_order, male_patient, staff


@pytest.fixture
def team(db: Session) -> Staff:
    return staff(db)


def at(minutes: float) -> object:
    return T0 + timedelta(minutes=minutes)


@committed
def ready_iv_session(db: Session, team: Staff) -> InfusionSession:
    """An IV walk-in session with the checklist complete and a normal pre-dose reading."""
    patient = male_patient(db)
    iv_order(db, patient)
    row = service.start_walk_in_session(db, actor=team.nurse, patient_id=patient.id, now=T0)
    service.answer_checklist(
        db,
        actor=team.nurse,
        session_id=row.id,
        answers={"identity": "yes", "consent": "yes", "fasting": "yes", "driver": "yes"},
        now=T0,
    )
    vitals(db, team, row.id, 0, 72, 128, 82)
    return row


@committed
def vitals(
    db: Session,
    team: Staff,
    session_id: int,
    minute: float,
    hr: int,
    sbp: int,
    dbp: int,
    spo2: int = 98,
    rr: int = 14,
) -> object:
    return service.record_vitals(
        db,
        actor=team.nurse,
        session_id=session_id,
        taken_at=at(minute),
        heart_rate=hr,
        systolic_bp=sbp,
        diastolic_bp=dbp,
        spo2=spo2,
        respiratory_rate=rr,
        now=at(minute),
    )
