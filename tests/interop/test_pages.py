"""The nurse binds a monitor on the session page; refused messages are reviewed."""

from __future__ import annotations

import random
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.interop import service
from ketaclinic.interop.hl7 import simulator
from ketaclinic.interop.models import Hl7DeadLetter
from ketaclinic.platform.db import utcnow
from ketaclinic.sessions.models import SessionDevice, VitalSign
from tests.conftest import login
from tests.interop.factories import infusing_chair
from tests.sessions.factories import staff


def test_the_nurse_binds_and_unbinds_a_monitor_from_the_session_page(
    client: TestClient, db: Session
) -> None:
    team = staff(db)
    chair = infusing_chair(db, team, device_id="AAAA")
    csrf = login(client, "nurse")
    page = client.get(f"/sessions/{chair.session_id}")
    assert 'id="bound-device">AAAA<' in page.text
    gone = client.post(
        f"/sessions/{chair.session_id}/monitor",
        data={"csrf_token": csrf, "action": "unbind"},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    refused = client.post(
        f"/sessions/{chair.session_id}/monitor",
        data={"csrf_token": csrf, "device_id": "bad id with spaces"},
    )
    assert refused.status_code == 422 and "monitor&#39;s id" in refused.text
    bound = client.post(
        f"/sessions/{chair.session_id}/monitor",
        data={"csrf_token": csrf, "device_id": "BBBB"},
        follow_redirects=False,
    )
    assert bound.status_code == 303
    db.rollback()
    rows = db.scalars(
        select(SessionDevice)
        .where(SessionDevice.session_id == chair.session_id)
        .order_by(SessionDevice.id)
    ).all()
    assert [(r.device_id, r.unbound_at is not None) for r in rows] == [
        ("AAAA", True),
        ("BBBB", False),
    ]


def test_a_held_message_is_listed_for_review_and_marked_reviewed(
    client: TestClient, db: Session
) -> None:
    team = staff(db)
    chair = infusing_chair(db, team)
    monitor = simulator.Monitor("NOT-BOUND", chair.mrn, random.Random(3))  # noqa: S311
    answer = service.receive(db, raw=monitor.next_message(), zone=ZoneInfo("UTC"))
    db.commit()
    assert answer.code == "AE"
    csrf = login(client, "nurse")
    page = client.get("/interop/hl7")
    assert page.status_code == 200
    assert "no session in progress is bound to device NOT-BOUND" in page.text
    letter = db.scalars(select(Hl7DeadLetter)).one()
    db.commit()  # ends this session's read, so that it sees the page's write afterwards
    done = client.post(
        f"/interop/hl7/{letter.id}/review",
        data={"csrf_token": csrf, "note": "monitor moved to chair 3; bound there"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "Nothing to review." in client.get("/interop/hl7").text
    db.rollback()
    db.refresh(letter)
    assert letter.reviewed_by == "nurse"
    assert not db.scalars(
        select(VitalSign).where(VitalSign.source == "device", VitalSign.taken_at <= utcnow())
    ).all()
