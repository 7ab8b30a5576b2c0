"""The portal shows a patient their own record and nothing of anyone else's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ketaclinic.public import portal
from tests.conftest import login, make_user
from tests.patients.factories import a_patient


@dataclass
class Due:
    instrument_id: str
    name: str
    due_at: datetime
    fill_url: str


@dataclass
class Point:
    instrument_id: str
    total: int
    severity: str
    completed_at: datetime


@dataclass
class Visit:
    starts_at: datetime
    description: str


@dataclass
class Note:
    ended_at: datetime
    note: str


class FakeAreas:
    """Stand-ins for scheduling, outcomes and sessions: each item names its patient, and
    every call is recorded, so a leak shows up in the page."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        start = datetime(2026, 1, 5, 15, tzinfo=UTC)
        self.items: dict[str, Any] = {
            "upcoming": lambda pid: [Visit(start + timedelta(days=30), f"infusion-of-{pid}")],
            "due": lambda pid: [Due("PHQ-9", f"PHQ-9-of-{pid}", start, f"/q/fill/{pid}")],
            "scores": lambda pid: [
                Point("PHQ-9", 20, "severe", start),
                Point("PHQ-9", 9 + pid % 3, "mild", start + timedelta(days=14)),
            ],
            "notes": lambda pid: [Note(start, f"note-of-{pid}")],
        }

    def provider(self, key: str) -> Any:
        def call(db: Session, *, actor: Any, patient_id: int) -> Any:
            self.calls.append((key, patient_id))
            return self.items[key](patient_id)

        return call


@pytest.fixture
def two_patients(db: Session) -> tuple[int, int]:
    a = a_patient(db, given_name="Alice", family_name="Ames").id
    b = a_patient(db, given_name="Bruno", family_name="Baker").id
    make_user(db, "patient", username="alice", patient_id=a)
    make_user(db, "patient", username="bruno", patient_id=b)
    db.commit()
    return a, b


def test_a_patient_sees_only_their_own_portal(
    client: TestClient, two_patients: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = two_patients
    fake = FakeAreas()
    monkeypatch.setattr(portal, "provider", fake.provider)
    login(client, "alice")
    page = client.get(f"/portal?patient_id={b}")
    assert page.status_code == 200
    assert "Alice Ames" in page.text and "Bruno" not in page.text and "Baker" not in page.text
    for marker in (f"infusion-of-{a}", f"PHQ-9-of-{a}", f"note-of-{a}", f'href="/q/fill/{a}"'):
        assert marker in page.text
    for marker in (f"infusion-of-{b}", f"PHQ-9-of-{b}", f"note-of-{b}"):
        assert marker not in page.text
    assert "<svg" in page.text and "My questionnaire scores" in page.text
    api = client.get(f"/api/portal?patient_id={b}").json()
    assert api["family_name"] == "Ames"
    assert [d["name"] for d in api["questionnaires_due"]] == [f"PHQ-9-of-{a}"]
    assert {pid for _, pid in fake.calls} == {a}


def test_a_patient_cannot_reach_another_patient_through_any_route(
    client: TestClient, two_patients: tuple[int, int]
) -> None:
    a, b = two_patients
    login(client, "alice")
    assert client.get(f"/api/patients/{b}").status_code == 404
    assert client.get(f"/api/patients/{a}").status_code == 200
    for path in (f"/patients/{b}", f"/patients/{b}/edit", "/leads", "/leads/1", "/api/leads"):
        assert client.get(path).status_code == 403, path


def test_the_portal_says_nothing_yet_to_a_patient_with_no_history(
    client: TestClient, two_patients: tuple[int, int]
) -> None:
    login(client, "bruno")
    page = client.get("/portal")
    assert page.status_code == 200
    # sessions, questionnaires, scores, notes, and weights (none recorded yet)
    assert page.text.count("Nothing yet.") == 5
    assert "Bruno Baker" in page.text
    body = client.get("/api/portal").json()
    assert body["upcoming"] == [] and body["scores"] == []


def test_staff_have_no_portal(client: TestClient, db: Session) -> None:
    make_user(db, "nurse")
    db.commit()
    login(client, "nurse")
    assert client.get("/portal").status_code == 403
    assert client.get("/api/portal").status_code == 403


def test_each_portal_section_comes_from_its_own_areas_service() -> None:
    from ketaclinic.outcomes import service as outcomes
    from ketaclinic.scheduling import service as scheduling
    from ketaclinic.sessions import service as sessions

    assert portal.provider("upcoming") is scheduling.upcoming_for_patient
    assert portal.provider("due") is outcomes.due_questionnaires
    assert portal.provider("scores") is outcomes.score_history
    assert portal.provider("notes") is sessions.completed_sessions


def test_a_patient_consents_to_texts_in_the_portal_and_withdraws(
    client: TestClient, db: Session
) -> None:
    from ketaclinic.patients.models import Patient

    patient = a_patient(db, email="maria@example.org")
    db.commit()
    make_user(db, "patient", username="maria", patient_id=patient.id)
    csrf = login(client, "maria")
    assert "How you hear from the clinic" in client.get("/portal").text
    saved = client.post(
        "/portal/contact-preferences",
        data={"csrf_token": csrf, "contact_preference": "text", "text_consent": "yes"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    db.commit()  # end this session's read (a snapshot on SQLite) keeping the app's writes
    db.expire_all()
    stored = db.get(Patient, patient.id)
    assert stored is not None and stored.text_consent_by == "maria"
    assert stored.contact_preference == "text"
    withdrawn = client.post(
        "/portal/contact-preferences",
        data={"csrf_token": csrf, "contact_preference": "email"},
        follow_redirects=False,
    )
    assert withdrawn.status_code == 303
    db.commit()  # end this session's read (a snapshot on SQLite) keeping the app's writes
    db.expire_all()
    stored = db.get(Patient, patient.id)
    assert stored is not None and stored.text_consent_at is None
    assert stored.contact_preference == "email"
