"""A session in progress with a monitor bound, at the real clock (the listener charts at
the moment of arrival, and a reading may not be from the future or from yesterday)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ketaclinic.platform.db import utcnow
from ketaclinic.sessions import service
from tests.conftest import committed
from tests.sessions.factories import Staff, iv_order, male_patient


@dataclass
class Chair:
    session_id: int
    patient_id: int
    mrn: str
    device_id: str
    started: datetime


@committed
def infusing_chair(db: Session, team: Staff, device_id: str = "0011223344556677") -> Chair:
    """An IV session whose infusion started 10 minutes ago, monitor bound."""
    now = utcnow()
    start = now - timedelta(minutes=12)
    patient = male_patient(db)
    iv_order(db, patient)
    row = service.start_walk_in_session(db, actor=team.nurse, patient_id=patient.id, now=start)
    service.answer_checklist(
        db,
        actor=team.nurse,
        session_id=row.id,
        answers={"identity": "yes", "consent": "yes", "fasting": "yes", "driver": "yes"},
        now=start,
    )
    service.record_vitals(
        db,
        actor=team.nurse,
        session_id=row.id,
        taken_at=start,
        heart_rate=72,
        systolic_bp=128,
        diastolic_bp=82,
        spo2=98,
        respiratory_rate=14,
        now=start,
    )
    dose = start + timedelta(minutes=2)
    service.chart_pump(db, actor=team.nurse, session_id=row.id, kind="start", at=dose, now=dose)
    service.bind_device(db, actor=team.nurse, session_id=row.id, device_id=device_id)
    return Chair(row.id, patient.id, patient.mrn, device_id, dose)
