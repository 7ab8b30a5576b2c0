"""The session cockpit reads a bounded number of rows whatever the length of the chart,
and derives from them exactly what the whole chart gives."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from ketaclinic.clinical import labels
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.settings import get_settings
from ketaclinic.sessions import service
from ketaclinic.sessions.models import InfusionSession, VitalSign
from ketaclinic.sessions.service import cockpit, esketamine, view
from tests.conftest import login
from tests.interop.factories import Chair, infusing_chair
from tests.sessions.conftest import at
from tests.sessions.factories import staff


def _feed(
    db: Session, chair: Chair, count: int, *, every_s: float, until: datetime | None = None
) -> None:
    """A monitor's readings: heart rate and SpO2 on every one, a blood pressure on every
    tenth; the last one taken at ``until`` (just now)."""
    now = utcnow()
    end = until or now
    db.execute(
        insert(VitalSign),
        [
            {
                "session_id": chair.session_id,
                "taken_at": end - timedelta(seconds=every_s * (count - 1 - i)),
                "heart_rate": 70 + i % 9,
                "spo2": 97,
                "systolic_bp": 120 + i % 7 if i % 10 == 0 else None,
                "diastolic_bp": 80 if i % 10 == 0 else None,
                "source": "device",
                "recorded_at": now,
            }
            for i in range(count)
        ],
    )
    db.commit()


@contextmanager
def _counting(db: Session, *more: Any) -> Iterator[dict[str, int]]:
    """Reading statements run (on the test's connection and ``more`` engines) and
    vital-sign rows loaded as objects while the block runs. The audit trail's own
    work (its tables) is left out: the audit of a read and the seal are written on their
    own clock, whichever page is being read."""
    seen = {"statements": 0, "vitals": 0}

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        # The audit trail seals on its own clock (its tables and its advisory lock): not
        # the page's work, and counted or not by the moment a request lands.
        trail = "audit_" in sql or "pg_try_advisory_xact_lock" in sql
        if sql.lstrip().upper().startswith(("SELECT", "WITH")) and not trail:
            seen["statements"] += 1

    def loaded(*_args: Any) -> None:
        seen["vitals"] += 1

    binds = [db.get_bind(), *more]
    for bind in binds:
        event.listen(bind, "before_cursor_execute", statement)
    event.listen(VitalSign, "load", loaded)
    try:
        yield seen
    finally:
        for bind in binds:
            event.remove(bind, "before_cursor_execute", statement)
        event.remove(VitalSign, "load", loaded)


def test_the_session_page_runs_the_same_statements_at_100_and_1000_readings(
    client: TestClient, db: Session
) -> None:
    team = staff(db)
    chairs = {}
    for readings in (100, 1000):
        chairs[readings] = infusing_chair(db, team, device_id=f"PAGE-{readings}")
        _feed(db, chairs[readings], readings, every_s=0.5)
    login(client, "nurse")
    seen = {}
    for readings, chair in chairs.items():
        client.get(f"/sessions/{chair.session_id}")  # the first look warms every cache
        db.expire_all()
        # The app's own engine (SQLite) or the test's connection (PostgreSQL).
        with _counting(db, client.app.state.engine) as seen[readings]:  # type: ignore[attr-defined]
            page = client.get(f"/sessions/{chair.session_id}")
        assert page.status_code == 200
        assert page.text.count('placeholder="why wrong"') == service.READINGS_PAGE
    assert seen[100]["statements"] > 0
    assert seen[1000]["statements"] == seen[100]["statements"]
    assert seen[1000]["vitals"] == seen[100]["vitals"] <= service.READINGS_PAGE + 30


def test_the_cockpit_reads_the_same_statements_and_a_bounded_set_of_readings(
    db: Session,
) -> None:
    team = staff(db)
    seen = {}
    for readings in (100, 1000):
        chair = infusing_chair(db, team, device_id=f"MON-{readings}")
        _feed(db, chair, readings, every_s=0.5)
        db.expire_all()
        with _counting(db) as seen[readings]:
            screen = service.get_cockpit(db, actor=team.nurse, session_id=chair.session_id)
        # A page of the table, the few key readings and at most 120 trend points.
        assert len(screen.rows) == service.READINGS_PAGE
        assert len(screen.trend) == min(readings + 1, cockpit.TREND_POINTS)
        assert screen.reading_count == readings + 1
        assert screen.latest is not None and screen.latest.id == screen.last_vital_id
    # Ten times the readings: the same statements, no more rows loaded than a page of
    # the table and the schedule's key readings.
    assert seen[1000]["statements"] == seen[100]["statements"]
    assert seen[1000]["vitals"] <= service.READINGS_PAGE + 30
    assert seen[1000]["vitals"] == seen[100]["vitals"]


def test_the_bounded_view_derives_what_the_whole_chart_gives(db: Session) -> None:
    team = staff(db)
    chair = infusing_chair(db, team)
    # The 40 minutes of the infusion charted by a monitor every 20 s, a blood pressure
    # every 200 s, one of them in error.
    _feed(db, chair, 121, every_s=20, until=chair.started + timedelta(minutes=40))
    row = db.get(InfusionSession, chair.session_id)
    assert row is not None
    artefact = db.scalars(
        select(VitalSign)
        .where(VitalSign.session_id == row.id, VitalSign.systolic_bp.is_not(None))
        .order_by(VitalSign.taken_at)
    ).all()[3]
    service.mark_vitals_in_error(
        db, actor=team.nurse, session_id=row.id, vital_sign_id=artefact.id, reason="cuff off"
    )
    now = chair.started + timedelta(minutes=45)
    whole = view.build(db, actor=team.nurse, row=row, now=now)
    bounded = view.build(db, actor=team.nurse, row=row, now=now, bounded=True)
    assert len(bounded.vitals) < 30 < len(whole.vitals)
    assert bounded.schedule == whole.schedule
    assert [s.status for s in whole.schedule].count("done") >= 4
    assert bounded.baseline() is not None and whole.baseline() is not None
    assert bounded.baseline().row.id == whole.baseline().row.id  # type: ignore[union-attr]
    assert [(i.rule.id, i.met, i.text) for i in bounded.checklist] == [
        (i.rule.id, i.met, i.text) for i in whole.checklist
    ]
    assert bounded.discharge == whole.discharge
    assert bounded.readings[-1].row.id == whole.readings[-1].row.id


def test_the_trend_averages_each_share_of_the_readings_with_its_range(db: Session) -> None:
    team = staff(db)
    chair = infusing_chair(db, team)
    # 1 pre-dose reading (HR 72) and 239 more: 240 in 120 shares of two, in time order.
    _feed(db, chair, 239, every_s=1)
    points = cockpit.trend(db, chair.session_id)
    assert len(points) == 120 and all(p.readings == 2 for p in points)
    # Share 1: the pre-dose 72 and the feed's first (70): mean 71, from 70 to 72.
    assert points[0].values["heart_rate"] == (71.0, 70.0, 72.0)
    # Share 2: the feed's readings 1 and 2, HR 71 and 72.
    assert points[1].values["heart_rate"] == (71.5, 71.0, 72.0)
    # The feed's reading 10 has BP 123/80 (120 + 10 % 7), reading 9 none: its share
    # (readings 9 and 10 of the feed) shows that one pressure alone.
    assert points[5].values["systolic_bp"] == (123.0, 123.0, 123.0)
    assert points[4].values["systolic_bp"] is None
    assert points[-1].at == max(p.at for p in points)


def test_the_next_reading_is_the_first_the_schedule_still_waits_for(db: Session) -> None:
    team = staff(db)
    chair = infusing_chair(db, team)  # dosing began 10 min ago; the pre-dose BP counts
    screen = service.get_cockpit(db, actor=team.nurse, session_id=chair.session_id)
    nxt = screen.next_reading
    assert nxt is not None
    # Riva-Posse 2018 schedule: a reading every 10 min during the infusion; minute 10
    # is due now (within its 5 minutes), minute 0 was met by the pre-dose reading.
    assert nxt.due_at_min == 10.0 and nxt.status == "due"
    assert nxt.due_at == chair.started + timedelta(minutes=10)
    assert screen.schedule_rule.during_every_min == 10.0


def test_an_alarm_says_its_clock_time_and_whole_minutes_into_the_infusion(
    db: Session,
) -> None:
    team = staff(db)
    chair = infusing_chair(db, team)
    taken = chair.started + timedelta(minutes=7, seconds=2)
    service.record_vitals(
        db,
        actor=team.nurse,
        session_id=chair.session_id,
        taken_at=taken,
        heart_rate=88,
        systolic_bp=162,
        diastolic_bp=112,
        spo2=97,
        respiratory_rate=15,
    )
    state = service.get_session(db, actor=team.nurse, session_id=chair.session_id)
    clock = taken.astimezone(get_settings().zone).strftime("%H:%M")
    messages = [a.message for a in state.alarms]
    assert any(
        m.startswith(f"Diastolic BP 112 mmHg at {clock}, 7 min into the infusion: ")
        for m in messages
    ), messages
    assert not any(".0" in m.split(":")[0] for m in messages)


def test_codes_are_shown_by_the_clinics_names() -> None:
    assert labels.name("iv_ketamine") == "IV ketamine"
    assert labels.name("treatment_resistant_depression") == "treatment-resistant depression"
    assert labels.name("pre_infusion") == "before dosing"
    # A code not named yet still never shows its underscores.
    assert labels.name("some_new_code") == "some new code"
    assert labels.name(None) == ""


def test_the_session_screen_pages_its_readings_and_keeps_the_chosen_tab(
    client: TestClient, db: Session
) -> None:
    team = staff(db)
    chair = infusing_chair(db, team)
    _feed(db, chair, 120, every_s=1)
    csrf = login(client, "nurse")
    url = f"/sessions/{chair.session_id}"
    first = client.get(url).text
    # During dosing the readings section is open; the others wait, hidden.
    assert 'id="readings" role="tabpanel" aria-labelledby="tab-readings">' in first
    assert 'id="observations" role="tabpanel" aria-labelledby="tab-observations" hidden' in first
    assert first.count('placeholder="why wrong"') == service.READINGS_PAGE
    assert "Readings 1 to 50 of 121, newest first (page 1 of 3)" in first
    header = first.split('id="top"', 1)[1].split("</header>", 1)[0]
    assert "IV ketamine" in header and "iv_ketamine" not in header
    last = client.get(url + "?page=2&tab=readings").text
    assert last.count('placeholder="why wrong"') == 21
    assert "Readings 101 to 121 of 121" in last
    assert client.get(url + "?page=bogus").status_code == 422
    assert client.get(url + "?tab=bogus").status_code == 422
    # A note posted from its tab returns to it, and the tab is open after the redirect.
    posted = client.post(
        url + "/notes",
        data={"csrf_token": csrf, "text": "resting comfortably", "tab": "observations"},
        follow_redirects=False,
    )
    assert posted.headers["location"] == f"{url}?tab=observations#observations"
    kept = client.get(posted.headers["location"]).text
    assert 'id="observations" role="tabpanel" aria-labelledby="tab-observations">' in kept
    assert 'name="tab" value="observations"' in kept
    # With no tab chosen the forms carry none, and the moment picks the section.
    assert 'name="tab" value=""' in first


def test_the_rems_form_reads_the_same_from_the_bounded_view(
    client: TestClient, db: Session
) -> None:
    from tests.sessions.factories import ESCORTED
    from tests.sessions.test_esketamine import dose_and_observe, open_session

    team = staff(db)
    sid = open_session(db, team)
    dose_and_observe(db, team, sid)
    service.discharge(db, actor=team.nurse, session_id=sid, now=at(130), **ESCORTED)
    row = db.get(InfusionSession, sid)
    assert row is not None
    whole = view.build(db, actor=team.nurse, row=row, now=at(131))
    bounded = view.build(db, actor=team.nurse, row=row, now=at(131), bounded=True)
    assert esketamine.auto_values(bounded) == esketamine.auto_values(whole)
    assert esketamine.auto_values(bounded)["bp_40_min"] == "150/92"
    # The esketamine screen: the devices in the cockpit, the REMS record a tab away.
    db.commit()
    login(client, "nurse")
    page = client.get(f"/sessions/{sid}").text
    assert 'id="devices-given">2 of 2</strong>' in page
    assert 'data-tab="record">REMS record</a>' in page
    assert "nasal esketamine" in page.split('id="top"', 1)[1].split("</header>", 1)[0]
