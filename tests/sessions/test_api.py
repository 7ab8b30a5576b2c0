"""The session API: roles, validation, and a session run over HTTP."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import event, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.db import utcnow
from ketaclinic.sessions import service
from ketaclinic.sessions.models import VitalSign
from tests.conftest import login
from tests.interop.factories import infusing_chair
from tests.sessions.factories import Staff, iv_order, male_patient, staff


def setup(db: Session) -> int:
    staff(db)
    patient = male_patient(db)
    iv_order(db, patient)
    db.commit()
    return patient.id


def test_a_nurse_runs_a_session_over_the_api(client: TestClient, db: Session) -> None:
    patient_id = setup(db)
    csrf = {"X-CSRF-Token": login(client, "nurse")}
    opened = client.post("/api/sessions", json={"patient_id": patient_id}, headers=csrf)
    assert opened.status_code == 201, opened.text
    sid = opened.json()["id"]
    refused = client.post(f"/api/sessions/{sid}/infusion", json={"kind": "start"}, headers=csrf)
    assert refused.status_code == 409
    assert "checklist" in refused.json()["detail"]
    answers = {"identity": "yes", "consent": "yes", "fasting": "yes", "driver": "yes"}
    assert (
        client.post(
            f"/api/sessions/{sid}/checklist", json={"answers": answers}, headers=csrf
        ).status_code
        == 200
    )
    reading = {
        "heart_rate": 70,
        "systolic_bp": 124,
        "diastolic_bp": 80,
        "spo2": 98,
        "respiratory_rate": 14,
    }
    assert client.post(f"/api/sessions/{sid}/vitals", json=reading, headers=csrf).status_code == 201
    assert (
        client.post(
            f"/api/sessions/{sid}/infusion", json={"kind": "start"}, headers=csrf
        ).status_code
        == 201
    )
    surge = dict(reading, systolic_bp=200, diastolic_bp=120)
    assert client.post(f"/api/sessions/{sid}/vitals", json=surge, headers=csrf).status_code == 201
    body = client.get(f"/api/sessions/{sid}").json()
    assert body["pump"]["state"] == "running"
    waiting = [a for a in body["alarms"] if a["acknowledged_at"] is None]
    assert {"inf_sbp_stop", "inf_dbp_stop"} <= {a["rule_id"] for a in waiting}
    first = waiting[0]["id"]
    acked = client.post(
        f"/api/sessions/{sid}/alarms/{first}/acknowledge",
        json={"note": "stopped and rechecked"},
        headers=csrf,
    )
    assert acked.status_code == 200
    prediction = client.get(f"/api/sessions/{sid}/prediction").json()
    assert prediction["model_id"] == "domino" and prediction["below_threshold_at"]


def test_bad_input_names_the_field(client: TestClient, db: Session) -> None:
    patient_id = setup(db)
    csrf = {"X-CSRF-Token": login(client, "nurse")}
    sid = client.post("/api/sessions", json={"patient_id": patient_id}, headers=csrf).json()["id"]
    bad = client.post(
        f"/api/sessions/{sid}/vitals", json={"systolic_bp": 1200, "diastolic_bp": 80}, headers=csrf
    )
    assert bad.status_code == 422
    assert "systolic_bp" in bad.json()["errors"]
    one_sided = client.post(f"/api/sessions/{sid}/vitals", json={"systolic_bp": 120}, headers=csrf)
    assert one_sided.status_code == 422 and "diastolic_bp" in one_sided.json()["errors"]
    unknown = client.post(
        f"/api/sessions/{sid}/side-effects",
        json={"effect_id": "hiccups", "severity": "mild"},
        headers=csrf,
    )
    assert unknown.status_code == 422 and "effect_id" in unknown.json()["errors"]


def test_only_a_prescriber_overrides_the_checklist(client: TestClient, db: Session) -> None:
    patient_id = setup(db)
    csrf = {"X-CSRF-Token": login(client, "nurse")}
    sid = client.post("/api/sessions", json={"patient_id": patient_id}, headers=csrf).json()["id"]
    assert (
        client.post(
            f"/api/sessions/{sid}/checklist/override", json={"reason": "urgent"}, headers=csrf
        ).status_code
        == 403
    )
    client.post("/logout", headers=csrf)
    csrf = {"X-CSRF-Token": login(client, "prescriber")}
    done = client.post(
        f"/api/sessions/{sid}/checklist/override",
        json={"reason": "seen by me; vitals checked by hand"},
        headers=csrf,
    )
    assert done.status_code == 200 and done.json()["checklist_overridden"] is True


def test_front_desk_is_refused_the_session(client: TestClient, db: Session) -> None:
    patient_id = setup(db)
    csrf = {"X-CSRF-Token": login(client, "nurse")}
    sid = client.post("/api/sessions", json={"patient_id": patient_id}, headers=csrf).json()["id"]
    client.post("/logout", headers=csrf)
    login(client, "frontdesk")
    assert client.get(f"/api/sessions/{sid}").status_code == 403
    assert client.get(f"/sessions/{sid}").status_code == 403


def test_the_session_page_shows_the_checklist_and_the_prediction(
    client: TestClient, db: Session
) -> None:
    patient_id = setup(db)
    csrf = login(client, "nurse")
    opened = client.post(
        f"/patients/{patient_id}/sessions", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert opened.status_code == 303
    page = client.get(opened.headers["location"])
    assert page.status_code == 200
    assert "Pre-infusion checklist" in page.text and "Predicted plasma" in page.text
    assert 'disabled aria-describedby="start-why"' in page.text
    bad = client.post(
        opened.headers["location"] + "/vitals", data={"csrf_token": csrf, "systolic_bp": "abc"}
    )
    assert bad.status_code == 422 and "systolic bp" in bad.text
    chart = client.get(f"/patients/{patient_id}")
    assert "Sessions" in chart.text and "Start a walk-in session" in chart.text


def _monitored_session(db: Session, team: Staff, readings: int) -> int:
    """An IV session two hours old, its infusion given, with ``readings`` readings a
    monitor charted two seconds apart up to a minute ago."""
    now = utcnow()
    start = now - timedelta(hours=2)
    patient = male_patient(db, mrn=f"KC-LOAD-{readings}")
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
        systolic_bp=126,
        diastolic_bp=80,
        spo2=98,
        respiratory_rate=14,
        now=start,
    )
    dose = start + timedelta(minutes=1)
    service.chart_pump(db, actor=team.nurse, session_id=row.id, kind="start", at=dose, now=dose)
    last = now - timedelta(minutes=1)
    db.execute(
        insert(VitalSign),
        [
            {
                "session_id": row.id,
                "taken_at": last - timedelta(seconds=2 * (readings - 1 - i)),
                "heart_rate": 70 + i % 5,
                "systolic_bp": 120 + i % 9,
                "diastolic_bp": 78,
                "spo2": 97,
                "respiratory_rate": 14,
                "source": "device",
                "recorded_at": now,
            }
            for i in range(readings - 1)
        ],
    )
    db.commit()
    return row.id


def test_a_reading_posted_at_the_3000th_costs_the_statements_it_cost_at_the_10th(
    client: TestClient, db: Session
) -> None:
    team = staff(db)
    few, many = _monitored_session(db, team, 10), _monitored_session(db, team, 3000)
    csrf = {"X-CSRF-Token": login(client, "nurse")}
    reading = {"heart_rate": 74, "systolic_bp": 124, "diastolic_bp": 80, "spo2": 97}

    def post(session_id: int) -> list[str]:
        seen: list[str] = []

        def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            seen.append(" ".join(statement.split()))

        event.listen(Engine, "before_cursor_execute", note)
        try:
            answer = client.post(f"/api/sessions/{session_id}/vitals", json=reading, headers=csrf)
        finally:
            event.remove(Engine, "before_cursor_execute", note)
        assert answer.status_code == 201, answer.text
        # The act's own statements: sealing the audit trail, due now and then whatever
        # the act, is left out (savepoints with it).
        return [
            s
            for s in seen
            if "audit_seals" not in s and "FROM audit_events" not in s and "SAVEPOINT" not in s
        ]

    post(few)  # the first request of the app also reads what it keeps for later
    at_10, at_3000 = post(few), post(many)
    assert len(at_3000) == len(at_10), (at_10, at_3000)
    # Every read of the readings is bounded (a LIMIT on the session's index, or one
    # row by its key): none grows with the chart.
    reads = [s for s in at_3000 if s.startswith("SELECT") and "FROM vital_signs" in s]
    assert reads
    assert all(" LIMIT " in s or "vital_signs.id =" in s for s in reads), reads
    counted = db.scalar(
        select(func.count()).select_from(VitalSign).where(VitalSign.session_id == many)
    )
    assert counted == 3001


def test_a_reading_marked_in_error_twice_is_refused_and_its_alarm_closed_once(
    client: TestClient, db: Session
) -> None:
    chair = infusing_chair(db, staff(db))
    csrf = {"X-CSRF-Token": login(client, "nurse")}
    url = f"/api/sessions/{chair.session_id}"
    posted = client.post(url + "/vitals", json={"heart_rate": 150, "spo2": 97}, headers=csrf)
    assert posted.status_code == 201, posted.text
    reading = posted.json()["id"]
    [alarm] = client.get(url).json()["alarms"]
    assert (alarm["rule_id"], alarm["acknowledged_at"]) == ("inf_hr_warn", None)
    marked = client.post(
        f"{url}/vitals/{reading}/entered-in-error", json={"reason": "probe off"}, headers=csrf
    )
    assert marked.status_code == 200, marked.text
    again = client.post(
        f"{url}/vitals/{reading}/entered-in-error", json={"reason": "probe off"}, headers=csrf
    )
    assert again.status_code == 409
    assert "already marked entered in error" in again.json()["detail"]
    [closed] = client.get(url).json()["alarms"]
    assert closed["acknowledged_by"] == "nurse"
    assert closed["acknowledgement_note"] == "reading entered in error: probe off"
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "session.alarm.acknowledge")
        )
        == 1
    )
