"""Background jobs from the command line: ``jobs run`` in-process with a claim, and on
PostgreSQL ``worker`` processes beside several web processes, each sending every link once."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, make_url, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ketaclinic.cli import app
from ketaclinic.outcomes.models import OutboxMessage, SuicidalityAlert
from ketaclinic.outcomes.service import alerts
from ketaclinic.platform import migrate
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.db import make_engine, make_session_factory, transaction, utcnow
from ketaclinic.platform.settings import Settings, get_settings
from tests.conftest import POSTGRES_URL, TEST_ACTOR, make_user
from tests.outcomes.helpers import a_course, a_patient, phq9

KETACLINIC = str(Path(sys.executable).parent / "ketaclinic")
LINK_SUBJECT = "A questionnaire from your clinic"


def _due_courses(db: Session, patients: int) -> None:
    """Patients whose baseline PHQ-9 and GAD-7 are due: two links each."""
    for n in range(patients):
        patient = a_patient(db, given_name=f"P{n}", email=f"patient{n}@example.org")
        a_course(db, patient.id, created_at=utcnow() - timedelta(hours=2))


def _sent(data_dir: Path) -> list[dict[str, str]]:
    path = data_dir / "outbox" / "messages.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _links(messages: list[dict[str, str]]) -> Counter[tuple[str, str]]:
    """How often each (patient, link) went out: a message sent twice mints a second
    link, so two patients' baseline PHQ-9 and GAD-7 sent once each are four entries of
    one. (The message names no questionnaire: that is clinical content.)"""
    return Counter(
        (m["to"], m["body"].rsplit("/q/", 1)[-1].split()[0])
        for m in messages
        if m["subject"] == LINK_SUBJECT
    )


def _environment(url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETACLINIC_")}
    env.update(
        KETACLINIC_DATABASE_URL=url,
        KETACLINIC_DATA_DIR=str(data_dir),
        # The key the test process writes its audit records with (tests/conftest.py).
        KETACLINIC_AUDIT_KEY="test-audit-key",
        KETACLINIC_SECRET_KEY="test-secret",
        KETACLINIC_MODE="test",
        KETACLINIC_READ_AUDIT_DELAY_SECONDS="0",
    )
    return env


def _wait_for(check: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def test_jobs_run_does_the_scheduled_work_and_a_second_run_finds_nothing(
    cli: CliRunner, db: Session, settings: Settings
) -> None:
    _due_courses(db, patients=2)
    first = cli.invoke(app, ["jobs", "run"])
    assert first.exit_code == 0, first.output
    assert "make_due_requests: 4 questionnaire request(s) made" in first.output
    assert "deliver_outbox: messages: 4 sent" in first.output
    second = cli.invoke(app, ["jobs", "run"])
    assert second.exit_code == 0, second.output
    assert "0 questionnaire request(s) made" in second.output
    assert "no message to send" in second.output
    assert sorted(_links(_sent(settings.data_dir)).values()) == [1, 1, 1, 1]


def test_jobs_list_names_every_declared_job_with_its_schedule(cli: CliRunner) -> None:
    result = cli.invoke(app, ["jobs", "list"])
    assert result.exit_code == 0, result.output
    assert "outcomes.make_due_requests  (every 60 s; key outcomes.make_due_requests)" in (
        result.output
    )
    assert (
        "outcomes.deliver_message  (when enqueued; key outcomes.deliver_message:<message_id>)"
        in (result.output)
    )


def test_several_web_processes_on_sqlite_are_refused_in_one_line(
    cli: CliRunner, settings: Settings
) -> None:
    if not settings.effective_database_url.startswith("sqlite"):
        pytest.skip("SQLite's refusal")
    result = cli.invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: several web processes need PostgreSQL: SQLite has one writer at a time; set "
        "KETACLINIC_DATABASE_URL=postgresql+psycopg://... or serve with --workers 1"
    ]


def test_a_worker_on_sqlite_is_refused_in_one_line(cli: CliRunner, settings: Settings) -> None:
    if not settings.effective_database_url.startswith("sqlite"):
        pytest.skip("SQLite's refusal")
    result = cli.invoke(app, ["worker"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the job queue needs PostgreSQL")


def test_two_jobs_run_at_once_on_sqlite_send_each_due_link_exactly_once(
    db: Session, settings: Settings
) -> None:
    url = settings.effective_database_url
    if not url.startswith("sqlite"):
        pytest.skip("SQLite's in-process jobs")
    _due_courses(db, patients=4)
    env = _environment(url, settings.data_dir)
    runs = [
        subprocess.Popen(
            [KETACLINIC, "jobs", "run"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=180)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    links = _links(_sent(settings.data_dir))
    assert len(links) == 8 and set(links.values()) == {1}, links
    db.rollback()
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 8


# --- PostgreSQL: two worker processes and two web processes -------------------------------


@pytest.fixture
def own_postgres() -> Iterator[str]:
    """A database of its own: the processes below would see other tests' data."""
    if not POSTGRES_URL:
        pytest.skip("needs KETACLINIC_TEST_POSTGRES_URL")
    base = make_url(POSTGRES_URL)
    name = f"{base.database}_procs"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:  # noqa: S310 - loopback
            return int(reply.status)
    except OSError:
        return 0


def _post_json(url: str, body: object, token: str) -> int:
    request = urllib.request.Request(  # noqa: S310 - loopback
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - loopback
        return int(reply.status)


def test_two_workers_and_two_web_processes_send_each_link_once_and_escalate_once(
    own_postgres: str, tmp_path: Path
) -> None:
    url = own_postgres
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as db:
        make_user(db, "prescriber", username="dr.rivera")
        make_user(db, ["prescriber", "admin"], username="dr.chen")
        nurse = make_user(db, "nurse", username="nurse.okafor")
        token = accounts.create_api_token(db, actor=TEST_ACTOR, user_id=nurse.id, name="test")
        db.commit()
        _due_courses(db, patients=3)  # six links
        web_patients = [a_patient(db, given_name=f"W{n}").id for n in range(2)]
        flagged = a_patient(db, given_name="Alert").id
    # An alert raised two hours ago and never acknowledged: its escalation check is due.
    with transaction(factory) as tx:
        alert_id = alerts.raise_alert(
            tx,
            actor=TEST_ACTOR,
            patient_id=flagged,
            source="clinician",
            detail="Clinician's concern: test",
            response_id=None,
            now=utcnow() - timedelta(hours=2),
        ).id

    env = _environment(url, tmp_path)
    port = _free_port()
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str, log: str) -> None:
        handle = (tmp_path / log).open("wb")
        started.append(subprocess.Popen([KETACLINIC, *args], env=env, stdout=handle, stderr=handle))

    try:
        start("worker", "--name", "worker-1", log="worker-1.log")
        start("worker", "--name", "worker-2", log="worker-2.log")
        start("serve", "--workers", "2", "--port", str(port), log="serve.log")
        _wait_for(lambda: _get(f"http://127.0.0.1:{port}/readyz") == 200, timeout=120, what="serve")
        # Two alerts raised through the web: their notices are enqueued by the request.
        for patient_id in web_patients:
            status = _post_json(
                f"http://127.0.0.1:{port}/api/outcomes/patients/{patient_id}/responses",
                {"instrument_id": "phq9", "answers": phq9(14, item9=2)},
                token,
            )
            assert status == 201
        expected = 6 + 2 + 2 + 4  # links, old alert's notices and escalations, new notices
        _wait_for(lambda: len(_sent(tmp_path)) >= expected, timeout=150, what="every message sent")
        time.sleep(3)  # a duplicate would show up now
        messages = _sent(tmp_path)
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
    logs = {p.name: p.read_text(errors="replace")[-3000:] for p in tmp_path.glob("*.log")}
    assert len(messages) == expected, logs
    links = _links(messages)
    assert len(links) == 6 and set(links.values()) == {1}, links
    escalations = [m["to"] for m in messages if m["subject"].startswith("ESCALATED")]
    assert sorted(escalations) == ["dr.chen@clinic.test", "dr.rivera@clinic.test"]
    with factory() as db:
        alert = db.get(SuicidalityAlert, alert_id)
        assert alert is not None and alert.escalated_at is not None
        assert (
            db.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "alert.escalate")
            )
            == 1
        )
        assert set(db.scalars(select(OutboxMessage.status))) == {"sent"}
        failed = db.scalar(text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'"))
        assert failed == 0, logs
    engine.dispose()


def test_jobs_run_in_production_without_a_public_address_refuses_with_one_line(
    served_clinic: tuple[pytest.MonkeyPatch, list[dict[str, object]]],
) -> None:
    from typer.testing import CliRunner

    from ketaclinic.cli import app

    env, _ = served_clinic
    env.setenv("KETACLINIC_MODE", "production")
    env.setenv("KETACLINIC_AUDIT_KEY", "test-audit-key")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["jobs", "run"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: KETACLINIC_PUBLIC_URL must be set")
