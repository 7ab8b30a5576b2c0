"""The platform's scheduled jobs: the daily backup, its retention, its failures."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ketaclinic.outcomes.models import OutboxMessage
from ketaclinic.platform import backups, jobs
from ketaclinic.platform.db import make_session_factory
from ketaclinic.platform.settings import get_settings
from tests.conftest import login, make_user


def test_the_daily_backup_is_declared_for_two_in_the_morning() -> None:
    job = jobs.get("platform.backup")
    assert job.cron == "0 2 * * *"
    assert not job.runs_when_forced


def test_the_scheduled_backup_keeps_its_copy_verified_and_its_schedule(
    engine: Engine, tmp_path: Path
) -> None:
    factory = make_session_factory(engine)
    (ran,) = jobs.run_scheduled(factory, names={"platform.backup"})
    assert ran.ran and not ran.failed, ran.summary
    assert "verified" in ran.summary
    (made,) = backups.listed(get_settings().effective_backup_dir)
    assert made.path.parent == tmp_path / "backups"
    # Run by hand with every other job, it still waits for tomorrow.
    (again,) = jobs.run_scheduled(factory, force=True, names={"platform.backup"})
    assert not again.ran


def test_a_failed_backup_alerts_every_administrator(
    engine: Engine, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(db, "admin", username="ada")
    make_user(db, "nurse", username="nina")

    def no_room(*_args: object, **_kwargs: object) -> backups.Backup:
        raise backups.BackupError("no space left on /backups")

    monkeypatch.setattr(backups, "take", no_room)
    (ran,) = jobs.run_scheduled(make_session_factory(engine), names={"platform.backup"})
    assert ran.failed
    db.rollback()
    (message,) = db.scalars(select(OutboxMessage))
    assert message.kind == jobs.BACKUP_FAILED
    assert message.recipient_username == "ada"
    assert "no space left on /backups" in message.body
    assert message.patient_id is None
    run = db.get(jobs.JobRun, "platform.backup")
    assert run is not None and run.last_result == "failed: BackupError"


def test_the_admin_sees_the_last_backup_and_what_is_kept(
    engine: Engine, db: Session, client: TestClient, app: FastAPI
) -> None:
    make_user(db, "admin", username="ada")
    make_user(db, "nurse", username="nina")
    jobs.run_scheduled(make_session_factory(engine), names={"platform.backup"})
    login(client, "ada")
    page = client.get("/admin/backups")
    assert page.status_code == 200
    assert "Last scheduled backup" in page.text and "verified" in page.text
    (made,) = backups.listed(get_settings().effective_backup_dir)
    assert made.path.name in page.text
    with TestClient(app) as nurse:
        login(nurse, "nina")
        assert nurse.get("/admin/backups").status_code == 403
