"""What the live screen and the charge nurse's view read."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.orm import Session

from ketaclinic.platform.db import utcnow
from ketaclinic.platform.settings import get_settings
from ketaclinic.sessions import service
from ketaclinic.sessions.models import VitalSign
from ketaclinic.sessions.pages import next_reading_shown
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


def _shown(line: service.NextReadingLine | None, zone: Any = None) -> dict[str, str] | None:
    """The live stream's next-reading event as the screen receives it."""
    return None if line is None else next_reading_shown(line, zone or get_settings().zone)


def _clock(at: datetime) -> str:
    return at.astimezone(get_settings().zone).strftime("%H:%M")


def test_the_live_update_sends_the_next_reading_due_when_it_changes(db: Session) -> None:
    team = staff(db)
    chair = infusing_chair(db, team)  # dosing began 10 min ago; the pre-dose BP counts
    first = service.live_update(db, session_id=chair.session_id, after_vital_id=0)
    # Riva-Posse 2018: every 10 min during the infusion; minute 10 is due (within 5 min).
    ten = chair.started + timedelta(minutes=10)
    assert _shown(first.next_line) == {
        "status": "due",
        "lead": f"Next reading due {_clock(ten)}",
        "detail": "(10 min into the infusion)",
    }
    quiet = service.live_update(
        db,
        session_id=chair.session_id,
        after_vital_id=first.last_vital_id,
        schedule=first.schedule,
    )
    assert quiet.next_line is None, "nothing charted, nothing acted, nothing fell due"
    service.record_vitals(
        db,
        actor=team.nurse,
        session_id=chair.session_id,
        taken_at=utcnow(),
        heart_rate=80,
        systolic_bp=130,
        diastolic_bp=84,
        spo2=97,
        respiratory_rate=14,
    )
    charted = service.live_update(
        db, session_id=chair.session_id, after_vital_id=quiet.last_vital_id, schedule=quiet.schedule
    )
    twenty = chair.started + timedelta(minutes=20)
    assert _shown(charted.next_line) == {
        "status": "upcoming",
        "lead": f"Next reading due {_clock(twenty)}",
        "detail": "(20 min into the infusion)",
    }
    # With nothing charted, the line turns due at minute 20 and overdue 5 minutes later.
    for at, status, lead in (
        (twenty + timedelta(seconds=1), "due", f"Next reading due {_clock(twenty)}"),
        (
            twenty + timedelta(minutes=5, seconds=1),
            "overdue",
            f"Next reading overdue since {_clock(twenty)}",
        ),
    ):
        later = service.live_update(
            db,
            session_id=chair.session_id,
            after_vital_id=charted.last_vital_id,
            schedule=charted.schedule,
            now=at,
        )
        assert _shown(later.next_line) == {
            "status": status,
            "lead": lead,
            "detail": "(20 min into the infusion)",
        }
    # Stopping the pump moves the schedule: a reading is due at the end of the infusion
    # (the one of minute 10 went to minute 10), then every 15 min after it.
    stop = service.chart_pump(
        db, actor=team.nurse, session_id=chair.session_id, kind="stop", reason="ended early"
    )
    stopped = service.live_update(
        db,
        session_id=chair.session_id,
        after_vital_id=charted.last_vital_id,
        schedule=charted.schedule,
    )
    ended_min = (stop.at - chair.started).total_seconds() / 60
    assert _shown(stopped.next_line) == {
        "status": "due",
        "lead": f"Next reading due {_clock(stop.at)}",
        "detail": f"({ended_min:.0f} min into the infusion)",
    }


def test_the_cockpit_page_draws_the_line_the_stream_sends(client: TestClient, db: Session) -> None:
    team = staff(db)
    chair = infusing_chair(db, team)
    db.commit()
    login(client, "nurse")
    page = client.get(f"/sessions/{chair.session_id}").text
    update = service.live_update(db, session_id=chair.session_id, after_vital_id=0)
    sent = _shown(update.next_line, client.app.state.settings.zone)  # type: ignore[attr-defined]
    assert sent is not None
    drawn = page.split('id="next-reading-line"', 1)[1].split("</p>", 1)[0]
    assert f'class="next-{sent["status"]}"' in drawn
    assert f'<strong id="next-reading-lead">{sent["lead"]}</strong>' in drawn
    assert f'<span id="next-reading-detail">{sent["detail"]}</span>' in drawn
