"""Scheduled requests, single-use links and the outbox."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.outcomes import service
from ketaclinic.outcomes.models import (
    OutboxMessage,
    QuestionnaireLink,
    QuestionnaireRequest,
    QuestionnaireResponse,
)
from ketaclinic.outcomes.service import MemoryTransport, links
from ketaclinic.platform.db import utcnow
from tests.outcomes.helpers import a_course, a_patient, given_sessions, phq9

TOKEN = re.compile(r"/q/([A-Za-z0-9_\-]+)")


def _due_links(db: Session, monkeypatch: pytest.MonkeyPatch) -> tuple[MemoryTransport, int]:
    given_sessions(monkeypatch, {})
    patient = a_patient(db, email="maria@example.org")
    a_course(db, patient.id, created_at=utcnow() - timedelta(hours=2))
    transport = MemoryTransport()
    report = service.run_due_work(db, now=utcnow(), transport=transport)
    assert report.requests_created == 2  # PHQ-9 and GAD-7 baseline
    return transport, patient.id


def test_the_scheduled_work_sends_each_due_questionnaire_once(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport, _ = _due_links(db, monkeypatch)
    assert [m["to"] for m in transport.sent] == ["maria@example.org"] * 2
    assert all(TOKEN.search(m["body"]) for m in transport.sent)
    again = service.run_due_work(db, now=utcnow(), transport=transport)
    assert again.requests_created == 0 and len(transport.sent) == 2


def test_the_outbox_keeps_no_token_only_the_links_hash(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport, _ = _due_links(db, monkeypatch)
    token = TOKEN.search(transport.sent[0]["body"]).group(1)  # type: ignore[union-attr]
    bodies = [m.body for m in db.scalars(select(OutboxMessage))]
    assert all(token not in b for b in bodies)
    assert all(m.status == "sent" for m in db.scalars(select(OutboxMessage)))
    hashes = [lk.token_hash for lk in db.scalars(select(QuestionnaireLink))]
    assert links.token_hash(token) in hashes and token not in hashes


def test_a_link_opens_its_questionnaire_once_and_a_used_link_is_refused(
    db: Session, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport, patient_id = _due_links(db, monkeypatch)
    body = next(m["body"] for m in transport.sent)
    token = TOKEN.search(body).group(1)  # type: ignore[union-attr]
    db.commit()
    page = client.get(f"/q/{token}")
    assert page.status_code == 200
    title = "PHQ-9" if "PHQ-9" in page.text else "GAD-7"
    answers = phq9(9) if title == "PHQ-9" else {f"item{n}": 1 for n in range(1, 8)}
    done = client.post(f"/q/{token}", data={k: str(v) for k, v in answers.items()})
    assert done.status_code == 200 and "Thank you" in done.text
    again = client.get(f"/q/{token}")
    assert again.status_code == 410 and "already been used" in again.text
    resubmit = client.post(f"/q/{token}", data={k: str(v) for k, v in answers.items()})
    assert resubmit.status_code == 410
    db.expire_all()
    saved = db.scalars(select(QuestionnaireResponse)).all()
    assert len(saved) == 1 and saved[0].entered_via == "link" and saved[0].patient_id == patient_id


def test_an_expired_link_is_refused(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    transport, _ = _due_links(db, monkeypatch)
    token = TOKEN.search(transport.sent[0]["body"]).group(1)  # type: ignore[union-attr]
    later = utcnow() + timedelta(hours=73)  # past the 72-hour default validity
    with pytest.raises(links.LinkUnusable) as caught:
        service.submit_by_link(db, token=token, answers=phq9(3), now=later)
    assert caught.value.reason == "expired"


def test_a_link_token_opens_nothing_else(
    db: Session, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport, patient_id = _due_links(db, monkeypatch)
    token = TOKEN.search(transport.sent[0]["body"]).group(1)  # type: ignore[union-attr]
    db.commit()
    page = client.get(f"/q/{token}")
    assert "/patients" not in page.text and "Log out" not in page.text
    assert client.get(f"/patients/{patient_id}/outcomes", follow_redirects=False).status_code == 401
    assert (
        client.get(
            f"/api/outcomes/patients/{patient_id}/scores",
            headers={"Authorization": f"Bearer {token}"},
        ).status_code
        == 401
    )
    assert client.get("/my/questionnaires", follow_redirects=False).status_code == 401
    assert client.get("/q/not-a-real-token").status_code == 404


def test_a_failing_transport_is_recorded_and_retried(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    given_sessions(monkeypatch, {})
    patient = a_patient(db, email="maria@example.org")
    a_course(db, patient.id, created_at=utcnow() - timedelta(hours=1))

    class Down:
        name = "down"

        def send(self, **_: str) -> None:
            raise ConnectionError("gateway unreachable")

    report = service.run_due_work(db, now=utcnow(), transport=Down())
    assert report.delivery is not None and report.delivery.failed == 2
    rows = db.scalars(select(OutboxMessage)).all()
    assert all(m.status == "queued" and "gateway unreachable" in (m.error or "") for m in rows)
    # Tried again after the backoff (one minute after a first refusal), not before.
    transport = MemoryTransport()
    service.run_due_work(db, now=utcnow(), transport=transport)
    assert transport.sent == []
    service.run_due_work(db, now=utcnow() + timedelta(minutes=1, seconds=5), transport=transport)
    assert len(transport.sent) == 2


def test_the_portal_fills_a_due_questionnaire_of_the_patients_own_only(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ketaclinic.platform.accounts import service as accounts
    from ketaclinic.platform.errors import NotFound
    from tests.conftest import make_user

    _, patient_id = _due_links(db, monkeypatch)
    me = accounts.actor_for(make_user(db, "patient", patient_id=patient_id))
    due = service.due_questionnaires(db, actor=me, patient_id=patient_id)
    assert sorted(d.instrument_id for d in due) == ["gad7", "phq9"]
    phq = next(d for d in due if d.instrument_id == "phq9")
    assert phq.fill_url == f"/my/questionnaires/{phq.request_id}"
    service.submit_for_request(db, actor=me, request_id=phq.request_id, answers=phq9(6))
    assert db.get(QuestionnaireRequest, phq.request_id).status == "completed"  # type: ignore[union-attr]
    other = a_patient(db, given_name="Olu")
    stranger = accounts.actor_for(make_user(db, "patient", username="p2", patient_id=other.id))
    gad = next(d for d in due if d.instrument_id == "gad7")
    with pytest.raises(NotFound):
        service.submit_for_request(db, actor=stranger, request_id=gad.request_id, answers=[0] * 7)


def test_a_questionnaire_already_filled_in_its_window_is_not_asked_again(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.outcomes.helpers import staff

    given_sessions(monkeypatch, {})
    patient = a_patient(db, email="maria@example.org")
    a_course(db, patient.id, created_at=utcnow() - timedelta(hours=3))
    service.record_response(
        db,
        actor=staff(db, "nurse"),
        patient_id=patient.id,
        instrument_id="phq9",
        answers=phq9(18),
        context="baseline",
    )
    report = service.run_due_work(db, now=utcnow(), transport=MemoryTransport())
    assert report.requests_created == 1
    asked = db.scalars(select(QuestionnaireRequest.instrument_id)).all()
    assert asked == ["gad7"]
