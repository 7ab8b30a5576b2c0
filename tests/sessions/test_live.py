"""What the live screen and the charge nurse's view read."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.orm import Session

from ketaclinic.platform.db import utcnow
from ketaclinic.sessions import service
from ketaclinic.sessions.models import VitalSign
from tests.conftest import login
from tests.interop.factories import infusing_chair
from tests.sessions.factories import staff


def test_the_live_update_carries_new_readings_and_open_alarms(db: Session) -> None:
    team = staff(db)
    chair = infusing_chair(db, team)
    before = service.live_update(db, session_id=chair.session_id, after_vital_id=0)
    assert len(before.readings) == 1 and before.alarms == []
    service.record_vitals(
        db,
        actor=team.nurse,
        session_id=chair.session_id,
        taken_at=utcnow(),
        heart_rate=80,
        systolic_bp=201,
        diastolic_bp=90,
        spo2=97,
        respiratory_rate=14,
        source="monitor",
    )
    after = service.live_update(
        db, session_id=chair.session_id, after_vital_id=before.last_vital_id
    )
    assert [r["systolic_bp"] for r in after.readings] == [201]
    # 201 systolic during the infusion: inf_sbp_stop (>= 200) and inf_sbp_recheck (>= 180).
    assert sorted(a["level"] for a in after.alarms) == ["stop", "warn"]


def test_the_charge_nurse_sees_every_monitored_chair_with_its_latest_reading(
    client: TestClient, db: Session
) -> None:
    team = staff(db)
    chair = infusing_chair(db, team, device_id="CHAIR-7")
    login(client, "nurse")
    page = client.get("/sessions/chairs")
    assert page.status_code == 200
    assert "CHAIR-7" in page.text and "128/82" in page.text and ">none<" in page.text
    assert f'data-session="{chair.session_id}"' in page.text


def test_a_session_with_a_long_monitor_feed_shows_its_latest_readings(
    client: TestClient, db: Session
) -> None:
    team = staff(db)
    chair = infusing_chair(db, team)
    now = utcnow()
    db.execute(
        insert(VitalSign),
        [
            {
                "session_id": chair.session_id,
                "taken_at": now - timedelta(seconds=0.2 * (1200 - i)),
                "heart_rate": 70 + i % 9,
                "spo2": 97,
                "source": "device",
                "recorded_at": now,
            }
            for i in range(1200)
        ],
    )
    db.commit()
    login(client, "nurse")
    page = client.get(f"/sessions/{chair.session_id}")
    assert page.status_code == 200
    # The newest page of the table (50 rows), and the way to every older one.
    assert page.text.count('placeholder="why wrong"') == service.READINGS_PAGE
    assert "Readings 1 to 50 of 1201, newest first (page 1 of 25)" in page.text
    oldest = client.get(f"/sessions/{chair.session_id}?tab=readings&page=24")
    assert oldest.text.count('placeholder="why wrong"') == 1
    assert "Readings 1201 to 1201 of 1201" in oldest.text
    # The pre-dose reading the session began with is the oldest row.
    assert "128/82" in oldest.text.split('id="vitals-table"', 1)[1]
    assert client.get(f"/sessions/{chair.session_id}?page=-1").status_code == 422
