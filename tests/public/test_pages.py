from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.patients.models import Patient
from ketaclinic.public.models import IntakeLead
from ketaclinic.public.schemas import Answer
from tests.conftest import login, make_user
from tests.patients.factories import a_patient
from tests.public.helpers import a_lead, answers, form_of, public_csrf

TOPICS = [
    "how-it-works",
    "who-may-benefit",
    "a-session",
    "how-many-sessions",
    "side-effects",
    "costs",
]


def test_strangers_read_the_welcome_page_and_every_topic(client: TestClient) -> None:
    welcome = client.get("/welcome")
    assert welcome.status_code == 200
    for slug in TOPICS:
        assert f'href="/learn/{slug}"' in welcome.text
        page = client.get(f"/learn/{slug}")
        assert page.status_code == 200, slug
        assert "Sources" in page.text and "not medical advice" in page.text
    assert client.get("/learn/nothing-here").status_code == 404


def test_the_pages_cite_their_sources(client: TestClient) -> None:
    assert "Fava 2020" in client.get("/learn/how-it-works").text
    session = client.get("/learn/a-session").text
    assert "Riva-Posse" in session and "at least 2 hours" in session
    assert "common practice" in client.get("/learn/how-many-sessions").text
    assert "Short 2018" in client.get("/learn/side-effects").text
    costs = client.get("/learn/costs").text
    assert "consumer sources" in costs and "96365" in costs and "J3490" in costs


def test_the_staff_home_still_needs_a_login(client: TestClient) -> None:
    assert client.get("/", follow_redirects=False).status_code == 401


def _screen(client: TestClient, values: dict[str, Answer]) -> str:
    csrf = public_csrf(client)
    response = client.post("/self-screen", data={"csrf_token": csrf, **form_of(values)})
    assert response.status_code == 200, response.text
    return response.text


def test_the_self_screen_says_a_consultation_makes_sense(client: TestClient) -> None:
    text = _screen(client, answers())
    assert "A consultation makes sense" in text
    assert "studied most" in text
    assert "Please do not wait" not in text


def test_the_self_screen_explains_an_absolute_contraindication(client: TestClient) -> None:
    text = _screen(client, answers(aneurysm_or_avm=True))
    assert "probably not the right choice" in text
    assert "Why not, from your answers" in text
    assert "not a diagnosis" in text


def test_the_self_screen_lists_what_to_clarify(client: TestClient) -> None:
    text = _screen(client, answers(pregnancy=None))
    assert "Some answers need clarifying" in text
    assert "Are you pregnant, or could you be?" in text


def test_suicidal_thoughts_show_crisis_resources_first(client: TestClient) -> None:
    text = _screen(client, answers(suicidal_ideation=True))
    crisis = text.index("Please do not wait for an appointment")
    assert crisis < text.index("verdict-title")
    assert 'href="tel:988"' in text and "call or text" in text.lower()
    assert 'href="tel:911"' in text


def test_the_self_screen_refuses_a_post_without_the_csrf_cookie_token(
    client: TestClient,
) -> None:
    response = client.post("/self-screen", data=form_of(answers()))
    assert response.status_code == 403
    response = client.post("/self-screen", data={"csrf_token": "forged", **form_of(answers())})
    assert response.status_code == 403


def test_malformed_answers_get_a_clear_error(client: TestClient) -> None:
    csrf = public_csrf(client)
    bad = {"csrf_token": csrf, "q_pregnancy": "maybe", "q_failed_antidepressant_trials": "-1"}
    response = client.post("/self-screen", data=bad)
    assert response.status_code == 422
    assert "answer yes, no or not sure" in response.text
    assert "a whole number from 0 to 30" in response.text
    response = client.post("/self-screen", data={"csrf_token": csrf, "q_made_up": "yes"})
    assert response.status_code == 422 and "q_made_up" in response.text
    response = client.post("/self-screen", data={"csrf_token": csrf, "route": "rectal"})
    assert response.status_code == 422


def test_an_abusive_size_or_a_non_form_body_is_refused(client: TestClient) -> None:
    csrf = public_csrf(client)
    response = client.post("/self-screen", data={"csrf_token": csrf, "message": "x" * 100_000})
    assert response.status_code == 413 and "nothing was saved" in response.text
    response = client.post("/self-screen", json={"csrf_token": csrf})
    assert response.status_code == 422


def _send(client: TestClient, csrf: str, **contact: str) -> object:
    data = {"csrf_token": csrf, "route": "intravenous", **form_of(answers()), **contact}
    return client.post("/self-screen/send", data=data, follow_redirects=False)


def test_a_stranger_sends_a_lead_with_consent(client: TestClient, db: Session) -> None:
    csrf = public_csrf(client)
    response = _send(
        client, csrf, name="Sam Doe", phone="+1 555 123 4567", consent="yes", message="hi"
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == "/self-screen/sent"  # type: ignore[attr-defined]
    lead = db.scalars(select(IntakeLead)).one()
    assert lead.name == "Sam Doe" and lead.consent_to_contact
    assert lead.answers["treatment_resistant_depression"] is True
    assert lead.verdict == "eligible"
    assert client.get("/self-screen/sent").status_code == 200


def test_a_lead_without_consent_or_contact_is_not_stored(client: TestClient, db: Session) -> None:
    csrf = public_csrf(client)
    response = _send(client, csrf, name="Sam Doe", phone="+1 555 123 4567")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "tick the box" in response.text  # type: ignore[attr-defined]
    response = _send(client, csrf, name="Sam Doe", consent="yes")
    assert "give a phone number or an email address" in response.text  # type: ignore[attr-defined]
    response = _send(client, csrf, name="Sam", phone="+1 555 123 4567", consent="yes", email="no")
    assert "not an email address" in response.text  # type: ignore[attr-defined]
    assert db.scalars(select(IntakeLead)).all() == []


def test_sending_a_lead_needs_the_csrf_token(client: TestClient, db: Session) -> None:
    public_csrf(client)
    response = _send(client, "forged", name="Sam Doe", phone="+1 555 123 4567", consent="yes")
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert db.scalars(select(IntakeLead)).all() == []


def test_front_desk_handles_a_lead_and_converts_it(client: TestClient, db: Session) -> None:
    lead_id = a_lead(db, name="Robin Vale", suicidal_ideation=True).id
    make_user(db, "front_desk")
    db.commit()
    csrf = login(client, "frontdesk")
    listing = client.get("/leads")
    assert listing.status_code == 200
    assert "Robin Vale" in listing.text and "urgent" in listing.text
    page = client.get(f"/leads/{lead_id}")
    assert "Reported current suicidal thoughts" in page.text
    assert 'value="Robin"' in page.text and 'value="Vale"' in page.text
    response = client.post(
        f"/leads/{lead_id}/status",
        data={"csrf_token": csrf, "status": "contacted", "note": "phoned, booked"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    response = client.post(
        f"/leads/{lead_id}/status",
        data={"csrf_token": csrf, "status": "contacted", "note": ""},
    )
    assert response.status_code == 422 and "short note" in response.text
    response = client.post(
        f"/leads/{lead_id}/convert",
        data={"csrf_token": csrf, "given_name": "Robin", "family_name": "Vale", "sex": "female"},
    )
    assert response.status_code == 422 and "this is required" in response.text
    response = client.post(
        f"/leads/{lead_id}/convert",
        data={
            "csrf_token": csrf,
            "given_name": "Robin",
            "family_name": "Vale",
            "date_of_birth": "1985-03-02",
            "sex": "female",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get(f"/leads/{lead_id}")
    patient_id = db.scalar(select(Patient.id).where(Patient.family_name == "Vale"))
    db.rollback()
    assert f'href="/patients/{patient_id}/edit"' in page.text
    assert "phoned, booked" in page.text
    assert "Robin Vale" not in client.get("/leads").text  # no longer open
    assert "Robin Vale" in client.get("/leads?status=converted").text


def test_the_leads_api_reads_marks_and_converts(client: TestClient, db: Session) -> None:
    lead_id = a_lead(db, hypertension=None).id
    make_user(db, "prescriber")
    db.commit()
    csrf = login(client, "prescriber")
    headers = {"X-CSRF-Token": csrf}
    body = client.get(f"/api/leads/{lead_id}").json()
    assert body["answers"]["hypertension"] is None
    assert body["answers"]["failed_antidepressant_trials"] == 3
    assert [s["id"] for s in client.get("/api/leads").json()] == [lead_id]
    response = client.post(
        f"/api/leads/{lead_id}/status", json={"status": "closed", "note": ""}, headers=headers
    )
    assert response.status_code == 422
    response = client.post(
        f"/api/leads/{lead_id}/convert",
        json={
            "patient": {
                "given_name": "Robin",
                "family_name": "Vale",
                "date_of_birth": "1985-03-02",
                "sex": "female",
            }
        },
        headers=headers,
    )
    assert response.status_code == 200 and response.json()["status"] == "converted"
    assert response.json()["patient_id"] is not None
    assert client.get("/api/leads/99999").status_code == 404


@pytest.mark.parametrize("role", ["patient", "researcher", "admin"])
def test_other_roles_cannot_see_leads(client: TestClient, db: Session, role: str) -> None:
    lead_id = a_lead(db).id
    make_user(db, role, patient_id=a_patient(db).id if role == "patient" else None)
    db.commit()
    login(client, role)
    assert client.get("/leads").status_code == 403
    assert client.get(f"/leads/{lead_id}").status_code == 403
    assert client.get(f"/api/leads/{lead_id}").status_code == 403


def test_the_public_self_screen_api_evaluates_without_storing(
    client: TestClient, db: Session
) -> None:
    response = client.post(
        "/api/public/self-screen", json={"answers": answers(active_psychosis=True)}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["verdict"] == "not_eligible" and body["consultation"] == "not_now"
    assert any(r["rule_id"] == "active_psychosis" and r["source"] for r in body["reasons"])
    bad = client.post("/api/public/self-screen", json={"answers": {"pregnancy": "yes"}})
    assert bad.status_code == 422
    bad = client.post("/api/public/self-screen", json={"answers": {"nope": True}})
    assert bad.status_code == 422 and "unknown question" in bad.text
    bad = client.post(
        "/api/public/self-screen", json={"answers": {"failed_antidepressant_trials": 1e9}}
    )
    assert bad.status_code == 422
    assert db.scalars(select(IntakeLead)).all() == []
    questions = client.get("/api/public/questions").json()
    assert any(re.search("pregnant", q["ask"]) for q in questions)
