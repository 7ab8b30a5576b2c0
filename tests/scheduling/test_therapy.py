"""Therapy sessions on the calendar: a therapy room, never a treatment chair, and never
two sessions in one room at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from ketaclinic.platform.errors import Conflict, Forbidden, Invalid
from ketaclinic.scheduling import service
from ketaclinic.scheduling.models import Chair
from tests.candidacy.factories import DESK, NURSE
from tests.patients.factories import a_patient

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)


def _place(db: Session, name: str, kind: str) -> Chair:
    row = Chair(name=name, kind=kind, active=True)
    db.add(row)
    db.flush()
    return row


def test_a_therapy_session_holds_a_room_for_its_length(db: Session) -> None:
    patient = a_patient(db)
    room = _place(db, "Therapy room 1", "room")
    row = service.book_therapy(
        db,
        actor=DESK,
        patient_id=patient.id,
        room_id=room.id,
        starts_at=SOON,
        minutes=50,
        label="Preparation",
    )
    assert (row.kind, row.chair_id, row.nurse_user_id, row.recovery_min) == (
        "therapy",
        room.id,
        None,
        0,
    )
    assert row.ends_at - row.starts_at == timedelta(minutes=50)
    other = a_patient(db, given_name="Ben")
    with pytest.raises(Conflict):
        service.book_therapy(
            db,
            actor=DESK,
            patient_id=other.id,
            room_id=room.id,
            starts_at=SOON + timedelta(minutes=30),
            minutes=50,
            label="Integration",
        )
    service.complete_therapy(db, actor=DESK, appointment_id=row.id)
    assert row.status == "completed"


def test_a_treatment_chair_is_not_a_therapy_room(db: Session) -> None:
    patient = a_patient(db)
    chair = _place(db, "Chair 9", "chair")
    with pytest.raises(Invalid) as refused:
        service.book_therapy(
            db,
            actor=DESK,
            patient_id=patient.id,
            room_id=chair.id,
            starts_at=SOON,
            minutes=50,
            label="Preparation",
        )
    assert refused.value.fields == {"room_id": "not a room"}
    with pytest.raises(Forbidden):
        service.book_therapy(
            db,
            actor=NURSE,
            patient_id=patient.id,
            room_id=chair.id,
            starts_at=SOON,
            minutes=50,
            label="Preparation",
        )
