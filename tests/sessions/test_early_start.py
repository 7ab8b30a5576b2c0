"""A session opened before its booked time moves the appointment to the real start, unless
that would put it on a chair another appointment holds: then the start is refused, as a
double booking is, and nothing is opened."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import login
from tests.sessions.factories import iv_order, male_patient, staff


def test_starting_early_onto_a_chair_another_appointment_holds_is_refused(
    client: TestClient, db: Session
) -> None:
    from datetime import UTC, datetime

    from ketaclinic.scheduling.models import Chair
    from ketaclinic.sessions.models import InfusionSession
    from tests.sessions.factories import appointment

    staff(db)
    chair = Chair(name="Chair 1")
    db.add(chair)
    db.commit()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    other = male_patient(db, given_name="Ann")
    appointment(db, other, now - timedelta(minutes=30), chair_id=chair.id)  # until now+60
    patient = male_patient(db)
    iv_order(db, patient)
    ours = appointment(db, patient, now + timedelta(hours=2), chair_id=chair.id)
    csrf = login(client, "nurse")
    refused = client.post(
        "/sessions/start", data={"csrf_token": csrf, "appointment_id": str(ours.id)}
    )
    assert refused.status_code == 409
    assert "moves this appointment onto the chair" in refused.text
    db.commit()
    db.expire_all()
    assert db.scalars(select(InfusionSession)).all() == []
    assert db.get(type(ours), ours.id).starts_at == ours.starts_at  # type: ignore[union-attr]
