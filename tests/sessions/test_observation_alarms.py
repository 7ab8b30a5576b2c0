"""Symptoms and sedation scores escalate on their own, at the chair.

Expected results worked by hand from the sources the tables cite:
- SPRAVATO US label 5.6: chest pain, shortness of breath, sudden severe headache, visual
  disturbance, seizure, diminished consciousness or focal deficit during or after dosing
  -> refer immediately for emergency care: a ``stop`` alarm, and ``stop`` is a level the
  prescriber-call rule (pause, stop) calls for.
- ASA continuum mapped onto MOAA/S (Chernik 1990): 0-1 is deep sedation or worse -> ``stop``
  and a call; 2-3 is moderate sedation -> ``warn``, closer watching, no call; 4-5 raises
  nothing.
- The symptom rows apply during dosing and recovery only: before dosing a symptom is
  refused (409) with nothing stored; the start is then the prescriber's go/no-go.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.configuration import service as configuration
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.sessions.models import PrescriberCall, SessionAlarm, SessionEntry
from tests.conftest import login, make_user
from tests.sessions.factories import iv_order, male_patient, staff

NORMAL = {"heart_rate": "72", "systolic_bp": "128", "diastolic_bp": "82"}
NORMAL |= {"spo2": "98", "respiratory_rate": "14"}
CHECKLIST = {"identity": "yes", "consent": "yes", "fasting": "yes", "driver": "yes"}


def _fresh(db: Session) -> None:
    """See what the app's own requests committed."""
    db.commit()
    db.expire_all()


def _open(client: TestClient, db: Session) -> tuple[str, str]:
    """An IV session through the pages, before dosing: (its url, the nurse's csrf)."""
    staff(db)
    patient = male_patient(db)
    iv_order(db, patient)
    db.commit()
    csrf = login(client, "nurse")
    opened = client.post(
        f"/patients/{patient.id}/sessions", data={"csrf_token": csrf}, follow_redirects=False
    )
    url = opened.headers["location"]
    client.post(url + "/checklist", data={"csrf_token": csrf, **CHECKLIST})
    assert client.post(url + "/vitals", data={"csrf_token": csrf, **NORMAL}).status_code == 200
    return url, csrf


def _running(client: TestClient, db: Session) -> tuple[str, str]:
    url, csrf = _open(client, db)
    started = client.post(url + "/infusion", data={"csrf_token": csrf, "kind": "start"})
    assert "running" in started.text
    return url, csrf


def _in_recovery(client: TestClient, db: Session) -> tuple[str, str]:
    url, csrf = _running(client, db)
    stopped = client.post(
        url + "/infusion", data={"csrf_token": csrf, "kind": "stop", "reason": "complete"}
    )
    assert stopped.status_code == 200, stopped.text
    return url, csrf


def _counts(db: Session) -> tuple[int, int, int]:
    return (
        db.scalar(
            select(func.count()).select_from(SessionEntry).where(SessionEntry.kind == "symptom")
        )
        or 0,
        db.scalar(select(func.count()).select_from(SessionAlarm)) or 0,
        db.scalar(select(func.count()).select_from(PrescriberCall)) or 0,
    )


def test_chest_pain_in_recovery_raises_a_stop_alarm_and_calls_the_prescriber(
    client: TestClient, db: Session
) -> None:
    url, csrf = _in_recovery(client, db)
    page = client.get(url).text
    # The list staff pick from is the declared table's (ids and labels).
    assert '<option value="chest_pain">Chest pain</option>' in page
    assert '<option value="focal_neurological_deficit">' in page

    charted = client.post(
        url + "/symptoms",
        data={"csrf_token": csrf, "symptom_id": "chest_pain", "note": "central, pressing"},
        follow_redirects=False,
    )
    assert charted.status_code == 303
    assert charted.headers["location"].endswith("#alarms")
    page = client.get(url).text
    assert "Waiting for prescriber" in page
    assert "Chest pain charted at" in page and "escalates at once" in page
    assert "arrange emergency care" in page  # the row's action, shown with the alarm
    assert "Symptom:</strong> Chest pain: central, pressing" in page
    assert "Chest pain: central, pressing by nurse" in client.get(url + "/note").text

    _fresh(db)
    alarm = db.scalar(select(SessionAlarm))
    assert alarm is not None
    assert (alarm.rule_id, alarm.level, alarm.parameter, alarm.phase) == (
        "chest_pain",
        "stop",
        "symptom",
        "recovery",
    )
    assert alarm.vital_sign_id is None and alarm.entry_id is not None
    assert alarm.evidence == "secondary" and "SPRAVATO" in alarm.source
    call = db.scalar(select(PrescriberCall))
    assert call is not None
    assert (call.kind, call.rule_id, call.level, call.status, call.alarm_id) == (
        "session_alarm",
        "chest_pain",
        "stop",
        "open",
        alarm.id,
    )
    assert call.notified == ["prescriber"]
    actions = list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    tail = actions[actions.index("session.symptom.record") :]
    assert tail[:3] == [
        "session.symptom.record",
        "session.alarm.raise",
        "session.prescriber_call.raise",
    ]


def test_a_symptom_during_the_infusion_escalates_too(client: TestClient, db: Session) -> None:
    url, csrf = _running(client, db)
    client.post(url + "/symptoms", data={"csrf_token": csrf, "symptom_id": "seizure"})
    _fresh(db)
    alarm = db.scalar(select(SessionAlarm).where(SessionAlarm.parameter == "symptom"))
    assert alarm is not None and (alarm.rule_id, alarm.level, alarm.phase) == (
        "seizure",
        "stop",
        "infusion",
    )
    assert db.scalar(select(func.count()).select_from(PrescriberCall)) == 1


def test_a_symptom_before_dosing_is_refused_and_nothing_is_stored(
    client: TestClient, db: Session
) -> None:
    url, csrf = _open(client, db)
    _fresh(db)
    before = _counts(db)
    refused = client.post(
        url + "/symptoms", data={"csrf_token": csrf, "symptom_id": "severe_headache"}
    )
    assert refused.status_code == 409
    assert "Sudden severe headache: symptom alarms apply during infusion and recovery" in (
        refused.text
    )
    assert "call the prescriber for the go/no-go decision" in refused.text
    _fresh(db)
    assert _counts(db) == before


def test_an_unknown_symptom_is_a_form_error_and_nothing_is_stored(
    client: TestClient, db: Session
) -> None:
    url, csrf = _in_recovery(client, db)
    _fresh(db)
    before = _counts(db)
    bad = client.post(url + "/symptoms", data={"csrf_token": csrf, "symptom_id": "hiccups"})
    assert bad.status_code == 422
    assert "unknown symptom &#39;hiccups&#39;" in bad.text or "unknown symptom 'hiccups'" in (
        bad.text
    )
    empty = client.post(url + "/symptoms", data={"csrf_token": csrf, "symptom_id": ""})
    assert empty.status_code == 422
    _fresh(db)
    assert _counts(db) == before


def _api_session(client: TestClient, db: Session, *, recovery: bool = True) -> tuple[int, dict]:
    staff(db)
    patient = male_patient(db)
    iv_order(db, patient)
    db.commit()
    csrf = {"X-CSRF-Token": login(client, "nurse")}
    sid = client.post("/api/sessions", json={"patient_id": patient.id}, headers=csrf).json()["id"]
    client.post(f"/api/sessions/{sid}/checklist", json={"answers": CHECKLIST}, headers=csrf)
    reading = {k: int(v) for k, v in NORMAL.items()}
    assert client.post(f"/api/sessions/{sid}/vitals", json=reading, headers=csrf).status_code == 201
    assert (
        client.post(f"/api/sessions/{sid}/infusion", json={"kind": "start"}, headers=csrf)
    ).status_code == 201
    if recovery:
        stop = {"kind": "stop", "reason": "complete"}
        assert (
            client.post(f"/api/sessions/{sid}/infusion", json=stop, headers=csrf).status_code == 201
        )
    return sid, csrf


def test_the_api_charts_a_symptom_and_refuses_an_unknown_one(
    client: TestClient, db: Session
) -> None:
    sid, csrf = _api_session(client, db)
    unknown = client.post(
        f"/api/sessions/{sid}/symptoms", json={"symptom_id": "hiccups"}, headers=csrf
    )
    assert unknown.status_code == 422
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert unknown.json()["errors"] == {"symptom_id": "unknown"}
    assert "chest_pain" in unknown.json()["detail"]  # the ids an API client may send
    assert client.get(f"/api/sessions/{sid}").json()["alarms"] == []

    made = client.post(
        f"/api/sessions/{sid}/symptoms",
        json={"symptom_id": "shortness_of_breath", "note": "after standing"},
        headers=csrf,
    )
    assert made.status_code == 201, made.text
    assert (made.json()["kind"], made.json()["code"]) == ("symptom", "shortness_of_breath")
    body = client.get(f"/api/sessions/{sid}").json()
    [alarm] = body["alarms"]
    assert (alarm["rule_id"], alarm["level"], alarm["parameter"]) == (
        "shortness_of_breath",
        "stop",
        "symptom",
    )
    assert alarm["vital_sign_id"] is None and alarm["entry_id"] == made.json()["id"]
    assert body["waiting_for_prescriber"] is True
    assert [c["rule_id"] for c in body["prescriber_calls"]] == ["shortness_of_breath"]


def _moaas(client: TestClient, sid: int, csrf: dict, rating: int) -> dict:
    charted = client.post(
        f"/api/sessions/{sid}/scores",
        json={"instrument_id": "moaas", "answers": {"rating": rating}},
        headers=csrf,
    )
    assert charted.status_code == 201, charted.text
    return client.get(f"/api/sessions/{sid}").json()


def test_moaas_1_is_deep_sedation_and_calls_the_prescriber(client: TestClient, db: Session) -> None:
    sid, csrf = _api_session(client, db, recovery=False)
    body = _moaas(client, sid, csrf, 1)
    [alarm] = body["alarms"]
    assert (alarm["rule_id"], alarm["level"], alarm["parameter"]) == (
        "moaas_deep_sedation",
        "stop",
        "moaas",
    )
    assert "MOAA/S 1" in alarm["message"] and "support the airway" in alarm["action"]
    assert body["waiting_for_prescriber"] is True
    assert [(c["rule_id"], c["level"]) for c in body["prescriber_calls"]] == [
        ("moaas_deep_sedation", "stop")
    ]


@pytest.mark.parametrize(("rating", "level"), [(3, "warn"), (2, "warn")])
def test_moderate_sedation_asks_for_closer_watching_without_a_call(
    client: TestClient, db: Session, rating: int, level: str
) -> None:
    sid, csrf = _api_session(client, db)
    body = _moaas(client, sid, csrf, rating)
    [alarm] = body["alarms"]
    assert (alarm["rule_id"], alarm["level"]) == ("moaas_moderate_sedation", level)
    assert "Watch closely" in alarm["action"]
    assert body["prescriber_calls"] == [] and body["waiting_for_prescriber"] is False


def test_moaas_4_raises_nothing(client: TestClient, db: Session) -> None:
    sid, csrf = _api_session(client, db)
    body = _moaas(client, sid, csrf, 4)
    assert body["alarms"] == [] and body["prescriber_calls"] == []


def test_moaas_charted_on_the_page_raises_its_alarm(client: TestClient, db: Session) -> None:
    url, csrf = _in_recovery(client, db)
    client.post(
        url + "/scores", data={"csrf_token": csrf, "instrument_id": "moaas", "moaas_rating": "0"}
    )
    page = client.get(url).text
    assert "MOAA/S 0 at" in page and "Waiting for prescriber" in page


def test_the_medical_directors_threshold_reaches_the_chair(client: TestClient, db: Session) -> None:
    """The sedation rows are the clinic's table: with deep sedation set at MOAA/S <= 2,
    a rating of 2 (moderate, no call, by default) escalates and calls the prescriber."""
    director = accounts.actor_for(make_user(db, ["prescriber", "admin"], username="dr.chen"))
    configuration.override(
        db,
        actor=director,
        table_key="monitoring.sedation",
        target="moaas_deep_sedation",
        field="threshold",
        value="2",
        reason="our protocol calls at mild prodding",
    )
    db.commit()
    url, csrf = _in_recovery(client, db)
    client.post(
        url + "/scores", data={"csrf_token": csrf, "instrument_id": "moaas", "moaas_rating": "2"}
    )
    _fresh(db)
    alarm = db.scalar(select(SessionAlarm))
    assert alarm is not None and (alarm.rule_id, alarm.level) == ("moaas_deep_sedation", "stop")
    call = db.scalar(select(PrescriberCall))
    assert call is not None and call.alarm_id == alarm.id


def test_a_symptom_marked_in_error_no_longer_holds_its_alarm_open(
    client: TestClient, db: Session
) -> None:
    url, csrf = _running(client, db)
    client.post(url + "/symptoms", data={"csrf_token": csrf, "symptom_id": "seizure"})
    _fresh(db)
    entry = db.scalar(select(SessionEntry).where(SessionEntry.kind == "symptom"))
    assert entry is not None
    marked = client.post(
        f"{url}/entries/{entry.id}/error",
        data={"csrf_token": csrf, "reason": "charted on the wrong chair"},
    )
    assert marked.status_code == 200
    _fresh(db)
    alarm = db.scalar(select(SessionAlarm).where(SessionAlarm.entry_id == entry.id))
    assert alarm is not None and alarm.acknowledged_by == "nurse"
    assert alarm.acknowledgement_note == "entered in error: charted on the wrong chair"
    # The prescriber was called; the call stays for the prescriber to close.
    call = db.scalar(select(PrescriberCall))
    assert call is not None and call.answered_at is None
    assert db.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "session.alarm.acknowledge")
    )
