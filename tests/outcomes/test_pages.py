"""Outcome pages and API: forms, the outcome page, the alert queue, roles."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from ketaclinic.outcomes import service
from ketaclinic.outcomes.models import QuestionnaireResponse, SuicidalityAlert
from ketaclinic.platform.accounts.models import LoginSession
from ketaclinic.platform.audit import chain
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.db import utcnow
from tests.conftest import login, make_user
from tests.outcomes.helpers import a_course, a_patient, given_sessions, phq9, staff


def test_a_nurse_enters_a_phq9_and_sees_it_on_the_outcome_page(
    client: TestClient, db: Session
) -> None:
    make_user(db, "nurse")
    patient = a_patient(db)
    db.commit()
    csrf = login(client, "nurse")
    form = client.get(f"/patients/{patient.id}/questionnaires/new?instrument=phq9&context=baseline")
    assert form.status_code == 200
    assert form.text.count('<fieldset class="q-item') == 9 and 'type="radio"' in form.text
    data = {"csrf_token": csrf, "context": "baseline", **{k: str(v) for k, v in phq9(16).items()}}
    done = client.post(
        f"/patients/{patient.id}/questionnaires/new?instrument=phq9",
        data=data,
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = client.get(f"/patients/{patient.id}/outcomes")
    assert page.status_code == 200
    assert "<svg" in page.text and "16 moderately severe" in page.text


def test_an_incomplete_form_names_the_question_keeps_the_answers_and_saves_nothing(
    client: TestClient, db: Session
) -> None:
    make_user(db, "nurse")
    patient = a_patient(db)
    db.commit()
    csrf = login(client, "nurse")
    answers = {k: str(v) for k, v in phq9(10).items()}
    del answers["item7"]
    response = client.post(
        f"/patients/{patient.id}/questionnaires/new?instrument=phq9",
        data={"csrf_token": csrf, **answers},
    )
    assert response.status_code == 422
    assert "question 7 (Concentration): choose an answer" in response.text
    assert 'id="a-item1-' in response.text and "checked" in response.text
    assert db.scalar(select(func.count()).select_from(QuestionnaireResponse)) == 0


def test_the_tablet_hand_over_opens_the_same_form_without_the_staff_menu(
    client: TestClient, db: Session
) -> None:
    make_user(db, "nurse")
    patient = a_patient(db)
    db.commit()
    csrf = login(client, "nurse")
    started = client.post(
        f"/patients/{patient.id}/questionnaires/tablet",
        data={"csrf_token": csrf, "instrument": "gad7", "context": "visit"},
        follow_redirects=False,
    )
    assert started.status_code == 303 and started.headers["location"].startswith("/q/")
    form = client.get(started.headers["location"])
    assert "GAD-7" in form.text and "Log out" not in form.text and "/patients" not in form.text
    done = client.post(started.headers["location"], data={f"item{n}": "0" for n in range(1, 8)})
    assert "hand the tablet back" in done.text


def test_the_handed_over_tablet_reaches_only_its_questionnaire_until_staff_log_in_again(
    client: TestClient, db: Session
) -> None:
    make_user(db, "nurse")
    patient = a_patient(db)
    db.commit()
    csrf = login(client, "nurse")
    started = client.post(
        f"/patients/{patient.id}/questionnaires/tablet",
        data={"csrf_token": csrf, "instrument": "gad7", "context": "visit"},
        follow_redirects=False,
    )
    form_url = started.headers["location"]
    assert "kc_session" not in client.cookies and client.cookies.get("kc_tablet")
    # Typed into the address bar of the handed-over tablet: back to the questionnaire.
    for elsewhere in (f"/patients/{patient.id}", "/", "/sessions/today", "/outcomes/alerts"):
        moved = client.get(elsewhere, follow_redirects=False)
        assert moved.status_code == 303 and moved.headers["location"] == form_url, elsewhere
    refused = client.get(f"/api/patients/{patient.id}")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert client.post("/logout", data={"csrf_token": csrf}).url.path == form_url
    # The nurse's session itself is over: its cookie, replayed, no longer opens the chart.
    db.commit()
    sessions = db.scalars(select(LoginSession)).all()
    assert sessions and all(s.ended_at is not None for s in sessions)
    ended = db.scalars(select(AuditEvent).where(AuditEvent.action == "questionnaire.tablet")).one()
    assert "staff session ended" in ended.detail

    assert "GAD-7" in client.get(form_url).text
    done = client.post(form_url, data={f"item{n}": "0" for n in range(1, 8)})
    assert "Staff: log in again" in done.text and 'href="/login"' in done.text
    assert not client.cookies.get("kc_tablet")
    chart = client.get(f"/patients/{patient.id}", follow_redirects=False)
    assert chart.status_code in (302, 303, 401) and "Patient" not in chart.text
    login(client, "nurse")
    assert client.get(f"/patients/{patient.id}").status_code == 200


def test_staff_who_log_in_on_a_locked_tablet_lift_the_lock(client: TestClient, db: Session) -> None:
    make_user(db, "nurse")
    patient = a_patient(db)
    db.commit()
    csrf = login(client, "nurse")
    client.post(
        f"/patients/{patient.id}/questionnaires/tablet",
        data={"csrf_token": csrf, "instrument": "gad7", "context": "visit"},
        follow_redirects=False,
    )
    assert client.get("/login").status_code == 200  # the way back stays open
    login(client, "nurse")
    assert not client.cookies.get("kc_tablet")
    assert client.get(f"/patients/{patient.id}").status_code == 200


def test_a_positive_item_9_shows_crisis_resources_and_the_alert_banner_to_clinicians(
    client: TestClient, db: Session
) -> None:
    make_user(db, "prescriber")
    make_user(db, "front_desk")
    patient = a_patient(db)
    db.commit()
    token = service.start_tablet(
        db, actor=staff(db, "nurse"), patient_id=patient.id, instrument_id="phq9"
    )
    db.commit()
    done = client.post(f"/q/{token}", data={k: str(v) for k, v in phq9(15, item9=1).items()})
    assert "988" in done.text and "911" in done.text
    login(client, "prescriber")
    home = client.get("/")
    assert "1 open suicidality alert" in home.text
    banner = client.get("/api/outcomes/alerts/banner").json()
    assert banner["open"] == 1 and banner["banners"][0]["href"] == "/outcomes/alerts"
    client.post(
        "/logout",
        data={"csrf_token": home.text.split('name="csrf_token" value="')[1].split('"')[0]},
    )
    login(client, "frontdesk")
    assert "suicidality alert" not in client.get("/").text


def test_a_prescriber_acknowledges_an_alert_from_the_queue(client: TestClient, db: Session) -> None:
    make_user(db, "prescriber")
    patient = a_patient(db)
    service.flag_by_clinician(
        db,
        actor=staff(db, "nurse"),
        patient_id=patient.id,
        note="said she has stopped eating and sleeping",
    )
    alert_id = db.scalar(select(SuicidalityAlert.id))
    db.commit()
    csrf = login(client, "prescriber")
    queue = client.get("/outcomes/alerts")
    assert "Lopez, Maria" in queue.text and "Safety plan reviewed" in queue.text
    done = client.post(
        f"/outcomes/alerts/{alert_id}/acknowledge",
        data={
            "csrf_token": csrf,
            "action": "safety_plan_reviewed",
            "note": "called her, plan reviewed",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "No open alert." in client.get("/outcomes/alerts").text


def test_the_alert_pages_name_the_staff_by_full_name(client: TestClient, db: Session) -> None:
    """Who raised an alert and who acknowledged it are shown by the names on their
    accounts (``make_user`` gives n.okoro the name "N.Okoro"), not by username."""
    make_user(db, "prescriber", username="dr.ames")
    patient = a_patient(db)
    service.flag_by_clinician(
        db, actor=staff(db, "nurse", "n.okoro"), patient_id=patient.id, note="hopeless, no plan"
    )
    alert_id = db.scalar(select(SuicidalityAlert.id))
    db.commit()
    csrf = login(client, "dr.ames")
    queue = client.get("/outcomes/alerts").text
    assert "by N.Okoro" in queue and "by n.okoro" not in queue
    client.post(
        f"/outcomes/alerts/{alert_id}/acknowledge",
        data={"csrf_token": csrf, "action": "safety_plan_reviewed", "note": "called her"},
    )
    assert "Dr.Ames, " in client.get("/outcomes/alerts").text
    chart = client.get(f"/patients/{patient.id}/outcomes").text
    assert "by N.Okoro" in chart and "Dr.Ames, " in chart and "dr.ames, " not in chart


def test_the_alert_queue_costs_the_same_statements_for_two_patients_or_six(
    client: TestClient, app: FastAPI, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The trail sealed before each page and not again during it (a seal at the end of
    # an act comes at most once a second, whenever that falls).
    monkeypatch.setattr(chain, "AUTO_SEAL_AFTER", timedelta(days=1))
    make_user(db, "prescriber")
    nurse = staff(db, "nurse")
    csrf = login(client, "prescriber")
    costs = []
    for count in (2, 6):
        while (n := db.scalar(select(func.count()).select_from(SuicidalityAlert)) or 0) < count:
            patient = a_patient(db, family_name=f"Queued{n}")
            service.flag_by_clinician(db, actor=nurse, patient_id=patient.id, note="no plan")
        chain.seal(db, wait=True)
        db.commit()
        seen = [0]

        def statement(*_: Any) -> None:
            seen[0] += 1

        event.listen(app.state.engine, "before_cursor_execute", statement)
        try:
            queue = client.get("/outcomes/alerts")
        finally:
            event.remove(app.state.engine, "before_cursor_execute", statement)
        assert queue.status_code == 200 and f"Queued{count - 1}" in queue.text
        costs.append(seen[0])
    assert csrf and costs[0] == costs[1], costs


def test_the_api_records_a_response_with_its_observations(client: TestClient, db: Session) -> None:
    make_user(db, "nurse")
    patient = a_patient(db)
    db.commit()
    csrf = login(client, "nurse")
    created = client.post(
        f"/api/outcomes/patients/{patient.id}/responses",
        headers={"X-CSRF-Token": csrf},
        json={
            "instrument_id": "gad7",
            "answers": {f"item{n}": 2 for n in range(1, 8)},
            "context": "weekly",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["total"] == 14 and body["observations"][0]["loinc"] == "70274-6"
    bad = client.post(
        f"/api/outcomes/patients/{patient.id}/responses",
        headers={"X-CSRF-Token": csrf},
        json={"instrument_id": "gad7", "answers": {"item1": 9}},
    )
    assert bad.status_code == 422 and "item1" in bad.json()["errors"]
    scores = client.get(f"/api/outcomes/patients/{patient.id}/scores").json()
    assert [s["total"] for s in scores] == [14]


def test_front_desk_cannot_open_outcomes_and_researchers_see_counts_only(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(db, "front_desk")
    make_user(db, "researcher")
    patient = a_patient(db)
    a_course(db, patient.id, created_at=utcnow() - timedelta(days=20))
    given_sessions(monkeypatch, {})
    db.commit()
    login(client, "frontdesk")
    assert client.get(f"/patients/{patient.id}/outcomes").status_code == 403
    client.cookies.clear()
    login(client, "researcher")
    page = client.get("/outcomes/clinic")
    assert page.status_code == 200 and "treatment-resistant depression" in page.text
    assert "Lopez" not in page.text
    # A researcher's counts come with small cells suppressed: one course is "<11".
    assert page.url.path == "/reports/research"
    assert "<td>&lt;11</td>" in page.text
    assert client.get("/outcomes/dashboard").status_code == 403


def test_the_patient_chart_has_an_outcomes_section(client: TestClient, db: Session) -> None:
    make_user(db, "prescriber")
    patient = a_patient(db)
    service.record_response(
        db,
        actor=staff(db, "nurse"),
        patient_id=patient.id,
        instrument_id="phq9",
        answers=phq9(17),
        context="baseline",
    )
    db.commit()
    login(client, "prescriber")
    chart = client.get(f"/patients/{patient.id}")
    assert 'data-region="outcomes"' in chart.text and "Latest scores" in chart.text


def test_an_admin_changes_the_crisis_text_with_a_reason(client: TestClient, db: Session) -> None:
    make_user(db, "admin")
    db.commit()
    csrf = login(client, "admin")
    missing = client.post(
        "/outcomes/settings",
        data={
            "csrf_token": csrf,
            "key": "crisis_text",
            "value": "Call 000 in Australia.",
            "reason": "",
        },
    )
    assert missing.status_code == 422
    saved = client.post(
        "/outcomes/settings",
        data={
            "csrf_token": csrf,
            "key": "crisis_text",
            "value": "Call 000 in Australia.",
            "reason": "clinic in Sydney",
        },
    )
    assert saved.status_code == 200 and "version 1 by admin" in saved.text


def test_the_course_dashboard_pages_with_links_between_its_pages(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ketaclinic.outcomes.service import progress

    monkeypatch.setattr(progress, "DASHBOARD_PAGE_SIZE", 1)
    make_user(db, "prescriber")
    for given in ("Ann", "Bob"):
        a_course(
            db,
            a_patient(db, given_name=given, family_name="Quill").id,
            created_at=utcnow() - timedelta(days=3),
        )
    db.commit()
    login(client, "prescriber")
    first = client.get("/outcomes/dashboard")
    assert first.status_code == 200
    assert "2 active courses, 0 needing attention." in first.text
    assert "Courses 1 to 1 of 2 (page 1 of 2)" in first.text
    assert "Quill, Ann" in first.text and "Quill, Bob" not in first.text
    assert 'href="/outcomes/dashboard?page=1" rel="next"' in first.text
    assert 'rel="prev"' not in first.text
    second = client.get("/outcomes/dashboard?page=1")
    assert "Courses 2 to 2 of 2 (page 2 of 2)" in second.text
    assert "Quill, Bob" in second.text and "Quill, Ann" not in second.text
    assert 'href="/outcomes/dashboard?page=0" rel="prev"' in second.text
    assert 'rel="next"' not in second.text
    for bad in ("-1", "x", "100001"):
        refused = client.get(f"/outcomes/dashboard?page={bad}")
        assert refused.status_code == 422, bad
