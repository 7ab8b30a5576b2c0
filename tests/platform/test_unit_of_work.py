"""The request owns its unit of work: one commit per act that writes, none for a read,
nothing left behind by a refusal, and reads audited once per patient and purpose."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from ketaclinic.patients import service as patients
from ketaclinic.patients.models import Patient
from ketaclinic.platform.app import create_app
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.db import make_session_factory, transaction
from ketaclinic.platform.settings import Settings
from ketaclinic.sessions import service as sessions
from ketaclinic.sessions.models import InfusionSession
from tests.conftest import TEST_ACTOR, login, make_user
from tests.patients.factories import a_patient
from tests.sessions.conftest import T0, ready_iv_session
from tests.sessions.factories import Staff, appointment, iv_order, male_patient, staff


class Commits:
    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "commit", self._seen)

    def _seen(self, _conn: Any) -> None:
        self.count += 1


def fresh(db: Session) -> None:
    """Read what the other connections committed, not what this session remembers."""
    db.rollback()
    db.expire_all()


def _audit_rows(db: Session) -> int:
    fresh(db)
    return int(db.scalar(select(func.count()).select_from(AuditEvent)) or 0)


@pytest.fixture
def batched_app(settings: Settings) -> Iterator[FastAPI]:
    """The app as a clinic runs it: reads audited in batches after the page."""
    application = create_app(settings.model_copy(update={"read_audit_delay_seconds": 30}))
    yield application
    application.state.engine.dispose()


@pytest.mark.real_commits  # counts the commits the app makes
def test_a_chart_view_commits_nothing_and_is_audited_once_after_the_page(
    batched_app: FastAPI, db: Session
) -> None:
    patient = a_patient(db)
    make_user(db, "nurse")
    with TestClient(batched_app) as client:
        login(client, "nurse")
        before = _audit_rows(db)
        commits = Commits(batched_app.state.engine)
        page = client.get(f"/patients/{patient.id}")
        assert page.status_code == 200
        assert commits.count == 0
        assert _audit_rows(db) == before
        batched_app.state.later_writes.drain()
        fresh(db)
        rows = db.scalars(
            select(AuditEvent)
            .where(AuditEvent.patient_id == patient.id, AuditEvent.action != "patient.create")
            .order_by(AuditEvent.id)
        ).all()
    # One row for the chart, however many areas read the patient for it.
    assert [(r.action, r.actor) for r in rows] == [("patient.chart", "nurse")]


@pytest.mark.real_commits  # counts the commits the app makes
def test_reads_left_to_audit_are_written_when_the_app_stops(
    batched_app: FastAPI, db: Session
) -> None:
    patient = a_patient(db)
    make_user(db, "nurse")
    with TestClient(batched_app) as client:
        login(client, "nurse")
        client.get(f"/patients/{patient.id}")
    fresh(db)
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == patient.id)).all()
    assert "patient.chart" in actions


@pytest.mark.real_commits  # counts the commits the app makes
def test_a_write_request_commits_once_with_its_audit_row(client: TestClient, db: Session) -> None:
    make_user(db, "front_desk")
    csrf = login(client, "frontdesk")
    commits = Commits(client.app.state.engine)  # type: ignore[attr-defined]
    response = client.post(
        "/patients",
        data={
            "csrf_token": csrf,
            "given_name": "Ana",
            "family_name": "Reyes",
            "date_of_birth": "1984-02-03",
            "sex": "female",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert commits.count == 1
    fresh(db)
    created = db.scalar(select(Patient).where(Patient.family_name == "Reyes"))
    assert created is not None
    assert db.scalar(
        select(AuditEvent.action).where(
            AuditEvent.patient_id == created.id, AuditEvent.action == "patient.create"
        )
    )


def test_a_refused_form_leaves_nothing_behind(client: TestClient, db: Session) -> None:
    make_user(db, "front_desk")
    csrf = login(client, "frontdesk")
    before = _audit_rows(db)
    response = client.post(
        "/patients",
        data={"csrf_token": csrf, "given_name": "Ana", "family_name": "", "sex": "female"},
    )
    assert response.status_code == 422
    fresh(db)
    assert db.scalar(select(func.count()).select_from(Patient)) == 0
    assert _audit_rows(db) == before


def test_a_session_start_that_fails_half_way_leaves_no_session_behind(
    db: Session, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening the session of an appointment also checks the patient in, through the
    scheduling area: if that part fails, no session is left open either."""
    from ketaclinic.scheduling import service as scheduling

    team: Staff = staff(db)
    patient = male_patient(db)
    iv_order(db, patient)
    booked = appointment(db, patient, T0)

    def broken(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("scheduling is down")

    monkeypatch.setattr(scheduling, "mark_appointment", broken)
    with pytest.raises(RuntimeError), transaction(make_session_factory(engine)) as act:
        sessions.start_session_for_appointment(
            act, actor=team.nurse, appointment_id=booked.id, now=T0
        )
    fresh(db)
    assert db.scalar(select(func.count()).select_from(InfusionSession)) == 0


def test_starting_a_session_checks_the_patient_in_within_the_same_act(
    db: Session, engine: Engine
) -> None:
    from ketaclinic.scheduling.models import Appointment

    team: Staff = staff(db)
    patient = male_patient(db)
    iv_order(db, patient)
    booked = appointment(db, patient, T0)
    commits = Commits(engine)
    with transaction(make_session_factory(engine)) as act:
        sessions.start_session_for_appointment(
            act, actor=team.nurse, appointment_id=booked.id, now=T0
        )
    assert commits.count == 1
    fresh(db)
    assert db.get_one(Appointment, booked.id).status == "checked_in"


def test_a_read_on_sqlite_does_not_wait_for_a_writer(
    client: TestClient, db: Session, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's single write lock")
    patient = a_patient(db)
    make_user(db, "nurse")
    login(client, "nurse")
    writer = client.app.state.engine.raw_connection()  # type: ignore[attr-defined]
    try:
        writer.cursor().execute("BEGIN IMMEDIATE")
        page = client.get(f"/patients/{patient.id}")
        assert page.status_code == 200
    finally:
        writer.rollback()
        writer.close()


@pytest.mark.real_commits  # sixteen threads read at once
def test_sixteen_readers_at_once_all_get_their_page(client: TestClient, db: Session) -> None:
    team = staff(db)
    row = ready_iv_session(db, team)
    make_user(db, "prescriber", username="reader")
    login(client, "reader")
    barrier = threading.Barrier(16)

    def read(_: int) -> int:
        barrier.wait(timeout=30)
        return client.get(f"/patients/{row.patient_id}").status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(read, range(16)))
    assert statuses == [200] * 16


def test_a_job_or_command_commits_once_with_its_reads_audited(db: Session, engine: Engine) -> None:
    patient = a_patient(db)
    commits = Commits(engine)
    with transaction(make_session_factory(engine)) as act:
        for purpose in ("view", "view", "export"):
            patients.get_patient(act, actor=TEST_ACTOR, patient_id=patient.id, purpose=purpose)
    assert commits.count == 1
    fresh(db)
    rows = db.execute(
        select(AuditEvent.action, AuditEvent.detail).where(
            AuditEvent.patient_id == patient.id, AuditEvent.action != "patient.create"
        )
    ).all()
    # One row for the patient: the first read names the purpose, the rest are listed.
    assert [tuple(r) for r in rows] == [("patient.view", "also read: patient.export")]


@pytest.mark.real_commits  # counts the commits the app makes
def test_an_api_token_records_its_last_use_after_the_read(client: TestClient, db: Session) -> None:
    from ketaclinic.platform.accounts import service as accounts
    from ketaclinic.platform.accounts.models import ApiToken

    nurse = make_user(db, "nurse")
    token = accounts.create_api_token(db, actor=TEST_ACTOR, user_id=nurse.id, name="monitor")
    db.commit()
    commits = Commits(client.app.state.engine)  # type: ignore[attr-defined]
    response = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    fresh(db)
    assert db.scalars(select(ApiToken)).one().last_used_at is not None
    # The read itself committed nothing; the later writer committed the last use once.
    assert commits.count == 1
    client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert commits.count == 1  # used again within minutes: nothing to write


def test_a_refused_role_leaves_access_denied_after_the_refusal(
    client: TestClient, db: Session
) -> None:
    make_user(db, "nurse")
    csrf = login(client, "nurse")
    response = client.post("/admin/users", data={"csrf_token": csrf, "username": "x"})
    assert response.status_code == 403
    fresh(db)
    assert (
        db.scalar(select(AuditEvent.detail).where(AuditEvent.action == "access.denied"))
        == "POST /admin/users"
    )
