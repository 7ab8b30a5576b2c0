"""Alarms that call for the prescriber reach the prescriber: a pause or stop alarm, or a
pre-dose blood pressure that blocks the start, opens a "prescriber needed" item on their
home page, today's sessions and the chart, sends them a message through the outbox,
shows "waiting for prescriber" on the session until a prescriber answers, and escalates
to the medical director when nobody answers in the clinic's time (15 min by default)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.configuration import service as configuration
from ketaclinic.outcomes.models import OutboxMessage
from ketaclinic.platform import jobs
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid
from ketaclinic.sessions import service
from ketaclinic.sessions.models import PrescriberCall
from ketaclinic.sessions.service import calls
from tests.conftest import login, make_user
from tests.demo.test_scale import _statements as statements
from tests.sessions.conftest import at, ready_iv_session, vitals
from tests.sessions.factories import Staff, iv_order, male_patient, staff

NORMAL = {"heart_rate": "72", "systolic_bp": "128", "diastolic_bp": "82"}
NORMAL |= {"spo2": "98", "respiratory_rate": "14"}


def _actions(db: Session, prefix: str) -> list[str]:
    return [
        a
        for a in db.scalars(select(AuditEvent.action).order_by(AuditEvent.id))
        if a.startswith(prefix) and not a.endswith(".list")
    ]


def _fresh(db: Session) -> None:
    """See what the app's own requests committed."""
    db.commit()
    db.expire_all()


def _switch(client: TestClient, csrf: str, username: str) -> str:
    client.post("/logout", data={"csrf_token": csrf})
    return login(client, username)


def _open_running(client: TestClient, db: Session) -> tuple[str, str, int]:
    staff(db)
    patient = male_patient(db)
    iv_order(db, patient)
    db.commit()
    csrf = login(client, "nurse")
    opened = client.post(
        f"/patients/{patient.id}/sessions", data={"csrf_token": csrf}, follow_redirects=False
    )
    url = opened.headers["location"]
    answers = {"identity": "yes", "consent": "yes", "fasting": "yes", "driver": "yes"}
    client.post(url + "/checklist", data={"csrf_token": csrf, **answers})
    assert client.post(url + "/vitals", data={"csrf_token": csrf, **NORMAL}).status_code == 200
    started = client.post(url + "/infusion", data={"csrf_token": csrf, "kind": "start"})
    assert "running" in started.text
    return url, csrf, patient.id


def test_a_stop_alarm_reaches_the_prescriber_and_waits_for_their_decision(
    client: TestClient, db: Session
) -> None:
    url, csrf, patient_id = _open_running(client, db)
    # SBP 205 during the infusion: inf_sbp_stop (>= 200, stop at once) and the >= 180 recheck
    # warning; only the stop calls the prescriber.
    surge = NORMAL | {"systolic_bp": "205", "diastolic_bp": "100"}
    assert client.post(url + "/vitals", data={"csrf_token": csrf, **surge}).status_code == 200
    page = client.get(url).text
    assert "Waiting for prescriber" in page
    assert "Record the decision" not in page  # the nurse cannot answer it
    _fresh(db)
    call = db.scalar(select(PrescriberCall))
    assert call is not None
    assert (call.kind, call.rule_id, call.level, call.status) == (
        "session_alarm",
        "inf_sbp_stop",
        "stop",
        "open",
    )
    assert call.prescriber == "prescriber" and call.notified == ["prescriber"]
    assert call.respond_within_min == 15
    sent = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "prescriber_call")).all()
    assert [m.recipient_username for m in sent] == ["prescriber"]
    assert f"/sessions/{call.session_id}#prescriber-calls" in sent[0].body
    assert "Patient" not in sent[0].body  # no name in a message that may travel by email
    assert _actions(db, "session.prescriber_call") == ["session.prescriber_call.raise"]

    nurse_answer = client.post(
        f"{url}/prescriber-calls/{call.id}/answer",
        data={"csrf_token": csrf, "decision": "continue", "note": "carry on"},
    )
    assert nurse_answer.status_code == 403

    csrf = _switch(client, csrf, "prescriber")
    home = client.get("/").text
    assert "Prescriber needed" in home and f"/sessions/{call.session_id}#prescriber-calls" in home
    # The call names the prescriber by the account's full name ("Prescriber"), not its login.
    assert "(for Prescriber" in home and "(for prescriber" not in home
    assert "Waiting for prescriber" in client.get("/sessions/today").text
    assert 'id="chart-prescriber-calls"' in client.get(f"/patients/{patient_id}").text
    page = client.get(url).text
    assert "Record the decision" in page

    no_note = client.post(
        f"{url}/prescriber-calls/{call.id}/answer",
        data={"csrf_token": csrf, "decision": "stop", "note": " "},
    )
    assert no_note.status_code == 422
    assert "write what you decided and why" in no_note.text
    bad = client.post(
        f"{url}/prescriber-calls/{call.id}/answer",
        data={"csrf_token": csrf, "decision": "maybe", "note": "see me"},
    )
    assert bad.status_code == 422 and "choose a decision" in bad.text
    _fresh(db)
    assert db.get(PrescriberCall, call.id).status == "open"  # type: ignore[union-attr]

    done = client.post(
        f"{url}/prescriber-calls/{call.id}/answer",
        data={"csrf_token": csrf, "decision": "stop", "note": "stop now, labetalol as ordered"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    _fresh(db)
    answered = db.get(PrescriberCall, call.id)
    assert answered is not None
    assert (answered.status, answered.decision, answered.answered_by) == (
        "answered",
        "stop",
        "prescriber",
    )
    assert answered.response_note == "stop now, labetalol as ordered"
    assert _actions(db, "session.prescriber_call") == [
        "session.prescriber_call.raise",
        "session.prescriber_call.answer",
    ]
    page = client.get(url).text
    assert "Waiting for prescriber" not in page and "Answered by Prescriber" in page
    assert "Prescriber needed" not in client.get("/").text
    again = client.post(
        f"{url}/prescriber-calls/{call.id}/answer",
        data={"csrf_token": csrf, "decision": "stop", "note": "again"},
    )
    assert again.status_code == 409
    unknown = client.post(
        f"{url}/prescriber-calls/99999/answer",
        data={"csrf_token": csrf, "decision": "stop", "note": "none"},
    )
    assert unknown.status_code == 422


def test_a_warning_alone_calls_nobody(client: TestClient, db: Session) -> None:
    url, csrf, _ = _open_running(client, db)
    fast = NORMAL | {"heart_rate": "130"}  # inf_hr_warn (> 120) at once; the pause needs 5 min
    assert client.post(url + "/vitals", data={"csrf_token": csrf, **fast}).status_code == 200
    assert "WARN" in client.get(url).text
    _fresh(db)
    assert db.scalar(select(PrescriberCall)) is None
    assert db.scalar(select(OutboxMessage)) is None


def test_a_blocked_pre_dose_blood_pressure_calls_the_prescriber_once(
    client: TestClient, db: Session
) -> None:
    staff(db)
    patient = male_patient(db)
    iv_order(db, patient)
    _fresh(db)
    csrf = login(client, "nurse")
    opened = client.post(
        f"/patients/{patient.id}/sessions", data={"csrf_token": csrf}, follow_redirects=False
    )
    url = opened.headers["location"]
    high = NORMAL | {"systolic_bp": "184", "diastolic_bp": "96"}  # >= 180: no-go
    assert client.post(url + "/vitals", data={"csrf_token": csrf, **high}).status_code == 200
    assert client.post(url + "/vitals", data={"csrf_token": csrf, **high}).status_code == 200
    page = client.get(url).text
    assert "Waiting for prescriber" in page and "Pre-dose reading blocks the start" in page
    _fresh(db)
    found = db.scalars(select(PrescriberCall)).all()
    assert [(c.kind, c.rule_id, c.level) for c in found] == [
        ("pre_dose_block", "pre_sbp_no_go", "no_go")
    ]
    assert len(db.scalars(select(OutboxMessage)).all()) == 1


def test_a_raised_pre_dose_reading_under_the_gate_calls_nobody(db: Session, team: Staff) -> None:
    row = ready_iv_session(db, team)
    vitals(db, team, row.id, 1, 72, 150, 92)  # > 140/90: a warning for the prescriber to weigh
    assert db.scalar(select(PrescriberCall)) is None


@pytest.fixture
def stop_call(db: Session, team: Staff) -> PrescriberCall:
    row = ready_iv_session(db, team)
    service.chart_pump(db, actor=team.nurse, session_id=row.id, kind="start", at=at(1), now=at(1))
    vitals(db, team, row.id, 10, 72, 128, 82, spo2=88)  # SpO2 < 90: spo2_low_stop
    call = db.scalar(select(PrescriberCall))
    assert call is not None and call.rule_id == "spo2_low_stop"
    return call


def test_an_unanswered_call_escalates_to_every_prescriber_and_medical_director(
    db: Session, stop_call: PrescriberCall
) -> None:
    make_user(db, ["prescriber", "admin"], username="dr.chen")
    raised = stop_call.raised_at
    assert calls.escalate_due(db, now=raised + timedelta(minutes=14)) == []
    escalated = calls.escalate_due(db, now=raised + timedelta(minutes=15))
    assert [c.id for c in escalated] == [stop_call.id]
    db.refresh(stop_call)
    assert stop_call.escalated_at == raised + timedelta(minutes=15)
    assert stop_call.escalated_to == ["dr.chen", "prescriber"]
    sent = db.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "prescriber_call_escalation")
    ).all()
    assert sorted(m.recipient_username or "" for m in sent) == ["dr.chen", "prescriber"]
    assert "session.prescriber_call.escalate" in _actions(db, "session.prescriber_call")
    assert calls.escalate_due(db, now=raised + timedelta(hours=2)) == []
    assert calls.escalate_call(db, call_id=stop_call.id, now=raised + timedelta(hours=2)) is False


def test_an_answered_call_does_not_escalate(
    db: Session, team: Staff, stop_call: PrescriberCall
) -> None:
    service.answer_prescriber_call(
        db,
        actor=team.prescriber,
        session_id=stop_call.session_id,
        call_id=stop_call.id,
        decision="continue",
        note="probe was loose; SpO2 97 on recheck",
    )
    assert calls.escalate_due(db, now=stop_call.raised_at + timedelta(hours=1)) == []
    assert (
        calls.escalate_call(db, call_id=stop_call.id, now=stop_call.raised_at + timedelta(hours=1))
        is False
    )


def test_the_medical_director_sets_the_time_before_escalation(db: Session, team: Staff) -> None:
    director = accounts.actor_for(make_user(db, ["prescriber", "admin"], username="dr.chen"))
    configuration.override(
        db,
        actor=director,
        table_key="monitoring.prescriber_calls",
        target="session_alarm",
        field="respond_within_min",
        value="5",
        reason="our prescriber is always on the floor",
    )
    row = ready_iv_session(db, team)
    service.chart_pump(db, actor=team.nurse, session_id=row.id, kind="start", at=at(1), now=at(1))
    vitals(db, team, row.id, 10, 72, 128, 82, rr=7)  # RR <= 8: rr_low_stop
    call = db.scalar(select(PrescriberCall))
    assert call is not None and call.respond_within_min == 5
    assert (
        calls.escalate_call(db, call_id=call.id, now=call.raised_at + timedelta(minutes=4)) is False
    )
    assert (
        calls.escalate_call(db, call_id=call.id, now=call.raised_at + timedelta(minutes=5)) is True
    )


def test_only_a_prescriber_answers_and_the_answer_needs_a_decision_and_a_note(
    db: Session, team: Staff, stop_call: PrescriberCall
) -> None:
    ids = {"session_id": stop_call.session_id, "call_id": stop_call.id}
    with pytest.raises(Forbidden):
        service.answer_prescriber_call(
            db, actor=team.nurse, decision="continue", note="fine", **ids
        )
    with pytest.raises(Invalid):
        service.answer_prescriber_call(db, actor=team.prescriber, decision="", note="fine", **ids)
    with pytest.raises(Invalid):
        service.answer_prescriber_call(
            db, actor=team.prescriber, decision="other", note="ok", **ids
        )
    service.answer_prescriber_call(
        db, actor=team.prescriber, decision="other", note="oxygen 2 L, recheck in 5", **ids
    )
    with pytest.raises(Conflict):
        service.answer_prescriber_call(
            db, actor=team.prescriber, decision="stop", note="too late", **ids
        )
    assert re.search("answered", db.get(PrescriberCall, stop_call.id).status)  # type: ignore[union-attr]


def test_the_escalation_jobs_are_declared() -> None:
    declared = jobs.registry()
    assert declared["sessions.escalate_prescriber_calls"].cron == "* * * * *"
    assert declared["sessions.escalate_prescriber_call"].unique_key(call_id=3) == (
        "sessions.escalate_prescriber_call:3"
    )


def test_the_api_answers_a_call_with_a_decision_and_a_note(client: TestClient, db: Session) -> None:
    url, csrf, _ = _open_running(client, db)
    surge = NORMAL | {"systolic_bp": "150", "diastolic_bp": "125"}  # DBP >= 120: stop
    client.post(url + "/vitals", data={"csrf_token": csrf, **surge})
    sid = int(url.rsplit("/", 1)[1])
    body = client.get(f"/api/sessions/{sid}").json()
    assert body["waiting_for_prescriber"] is True
    call_id = body["prescriber_calls"][0]["id"]
    headers = {"X-CSRF-Token": _switch(client, csrf, "prescriber")}
    missing = client.post(
        f"/api/sessions/{sid}/prescriber-calls/{call_id}/answer",
        json={"decision": "continue"},
        headers=headers,
    )
    assert missing.status_code == 422
    assert missing.headers["content-type"].startswith("application/problem+json")
    wrong = client.post(
        f"/api/sessions/{sid}/prescriber-calls/{call_id}/answer",
        json={"decision": "perhaps", "note": "x"},
        headers=headers,
    )
    assert wrong.status_code == 422
    done = client.post(
        f"/api/sessions/{sid}/prescriber-calls/{call_id}/answer",
        json={"decision": "stop", "note": "stopped; I am on my way"},
        headers=headers,
    )
    assert done.status_code == 200, done.text
    assert done.json()["waiting_for_prescriber"] is False
    assert done.json()["prescriber_calls"][0]["decision"] == "stop"


def test_the_medical_director_sets_how_long_an_acknowledgement_note_must_be(
    db: Session, team: Staff, stop_call: PrescriberCall
) -> None:
    director = accounts.actor_for(make_user(db, ["prescriber", "admin"], username="dr.chen"))
    configuration.override(
        db,
        actor=director,
        table_key="monitoring.acknowledgement",
        target="alarm_acknowledgement",
        field="note_min_chars",
        value="10",
        reason="our nurses write what they did in words",
    )
    ids = {"session_id": stop_call.session_id, "alarm_id": stop_call.alarm_id}
    with pytest.raises(Invalid, match="at least 10 characters"):
        service.acknowledge_alarm(db, actor=team.nurse, note="O2 on", **ids)  # type: ignore[arg-type]
    done = service.acknowledge_alarm(
        db,
        actor=team.nurse,
        note="oxygen 2 L, SpO2 95",
        **ids,  # type: ignore[arg-type]
    )
    assert done.acknowledgement_note == "oxygen 2 L, SpO2 95"


def test_a_checklist_override_answers_the_blocked_start(db: Session, team: Staff) -> None:
    row = ready_iv_session(db, team)
    vitals(db, team, row.id, 2, 72, 182, 100)  # SBP >= 180 before the dose: no-go
    call = db.scalar(select(PrescriberCall))
    assert call is not None and call.kind == "pre_dose_block"
    service.override_checklist(
        db,
        actor=team.prescriber,
        session_id=row.id,
        reason="rechecked by me at 150/90 after rest; proceed",
        now=at(5),
    )
    db.refresh(call)
    assert (call.status, call.decision, call.answered_by) == ("answered", "continue", "prescriber")
    assert call.response_note == "Checklist override: rechecked by me at 150/90 after rest; proceed"
    assert calls.escalate_due(db, now=at(60)) == []


def _named(db: Session, username: str, full_name: str) -> None:
    user = db.scalar(select(User).where(User.username == username))
    assert user is not None
    user.full_name = full_name
    db.commit()


def _calls_for_new_prescribers(db: Session, session_id: int, patient_id: int, n: int) -> None:
    """``n`` calls on the session, each addressed to a prescriber of its own: an open one
    escalated to them and the team's prescriber, and one they answered."""
    first = len(db.scalars(select(PrescriberCall)).all())
    for i in range(first, first + n):
        username = f"locum{i}"
        make_user(db, "prescriber", username=username)
        _named(db, username, f"Dr Locum Number{i}")
        common = {"session_id": session_id, "patient_id": patient_id, "kind": "session_alarm"}
        common |= {"level": "stop", "summary": "SpO2 88", "raised_at": at(10 + i)}
        common |= {"raised_by": "nurse", "respond_within_min": 15, "prescriber": username}
        db.add(
            PrescriberCall(
                **common,
                rule_id=f"open_{i}",
                notified=[username],
                escalated_at=at(25 + i),
                escalated_to=[username, "prescriber"],
            )
        )
        db.add(
            PrescriberCall(
                **common,
                rule_id=f"answered_{i}",
                notified=[username],
                escalated_to=[],
                status="answered",
                answered_at=at(12 + i),
                answered_by=username,
                decision="continue",
                response_note="probe was loose",
            )
        )
    db.commit()


@pytest.mark.parametrize("page", ["today", "chart", "session"])
def test_the_calls_name_their_prescribers_by_full_name_read_once_for_the_page(
    client: TestClient, db: Session, team: Staff, page: str
) -> None:
    row = ready_iv_session(db, team)
    _named(db, "prescriber", "Dr Ada Lee")
    path = {
        "today": "/sessions/today",
        "chart": f"/patients/{row.patient_id}",
        "session": f"/sessions/{row.id}",
    }[page]
    _calls_for_new_prescribers(db, row.id, row.patient_id, 1)
    db.rollback()
    login(client, "prescriber")
    statements(client, path)  # warm: the first request reads the clinic's settings
    few = statements(client, path)
    shown = client.get(path).text
    assert "(for Dr Locum Number0" in shown or "(Dr Locum Number0;" in shown
    assert "locum0" not in shown
    if page == "session":
        assert "messaged Dr Locum Number0)" in shown
        assert "to Dr Locum Number0, Dr Ada Lee." in shown
        assert "Answered by Dr Locum Number0 at" in shown
    _calls_for_new_prescribers(db, row.id, row.patient_id, 4)
    db.rollback()
    many = statements(client, path)
    assert many <= few, f"{few} statements for 1 call, {many} for 5"
    shown = client.get(path).text
    assert "Dr Locum Number4" in shown and "locum4" not in shown


def test_a_call_names_by_username_whoever_has_no_account(
    client: TestClient, db: Session, team: Staff
) -> None:
    row = ready_iv_session(db, team)
    db.add(
        PrescriberCall(
            session_id=row.id,
            patient_id=row.patient_id,
            kind="session_alarm",
            rule_id="spo2_low_stop",
            level="stop",
            summary="SpO2 88",
            raised_at=at(10),
            raised_by="nurse",
            respond_within_min=15,
            prescriber="dr.gone",  # signed the order, has left the clinic since
            notified=["prescriber"],
            escalated_to=[],
        )
    )
    db.commit()
    login(client, "prescriber")
    assert "(for dr.gone" in client.get("/sessions/today").text
    assert "(dr.gone; messaged Prescriber)" in client.get(f"/sessions/{row.id}").text
