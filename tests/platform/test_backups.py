"""Backups: taken while the clinic works, refused when tampered with, restored whole."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy import inspect as sa_inspect

from ketaclinic.platform import backups, integrity
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import chain
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.db import make_engine, make_session_factory, transaction, utcnow
from ketaclinic.platform.settings import Settings
from ketaclinic.sessions.models import InfusionSession, VitalSign
from tests import databases, demo_clinic
from tests.conftest import BACKENDS, POSTGRES_URL

NURSE = Actor(user_id=None, username="writer")
# Every test here commits for real: backups are taken on other connections.
pytestmark = pytest.mark.real_commits


def clinic(url: str, data_dir: Path) -> Settings:
    return Settings(mode="test", data_dir=data_dir, database_url=url, secret_key="test-secret")


@pytest.fixture
def restored_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a restore goes: a new data directory (SQLite) or a new, empty database."""
    params = request.node.callspec.params
    backend = params.get("backend", params.get("database_url", "sqlite"))
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'restored' / 'ketaclinic.db'}"
    assert POSTGRES_URL
    base = request.getfixturevalue("_postgres_schema")
    name = databases.name(base) + "_restored"
    databases.admin(
        base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
    )
    return databases.with_database(base, name)


def target(url: str, tmp_path: Path) -> Settings:
    """The restored clinic's settings: its new data directory, and on PostgreSQL its
    new database."""
    return Settings(
        mode="test",
        data_dir=tmp_path / "restored",
        database_url=url if url.startswith("postgresql") else None,
        secret_key="test-secret",
    )


def _write_vitals(url: str, data_dir: Path, stop: threading.Event, written: list[int]) -> None:
    """A nurse's monitor: a reading and its audit record, one commit each, until stopped."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    factory.configure(info=chain.session_info(clinic(url, data_dir)))
    try:
        with factory() as db:
            sessions = db.execute(select(InfusionSession.id, InfusionSession.patient_id)).all()
        i = 0
        while not stop.is_set():
            session_id, patient_id = sessions[i % len(sessions)]
            with transaction(factory) as db:
                reading = VitalSign(
                    session_id=session_id,
                    taken_at=utcnow(),
                    heart_rate=70 + i % 20,
                    systolic_bp=120,
                    diastolic_bp=80,
                    spo2=98,
                    respiratory_rate=14,
                )
                db.add(reading)
                db.flush()
                audit.record(
                    db,
                    actor=NURSE,
                    action="vitals.record",
                    patient_id=patient_id,
                    object_type="vital_signs",
                    object_id=reading.id,
                )
            written.append(reading.id)
            i += 1
    finally:
        engine.dispose()


@pytest.mark.real_commits
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_backup_taken_while_a_writer_inserts_vital_signs_restores_to_its_manifest(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, restored_url: str
) -> None:
    url = demo_clinic.copy(request, backend, tmp_path)
    conf = clinic(url, tmp_path)
    stop, written = threading.Event(), []
    writer = threading.Thread(target=_write_vitals, args=(url, tmp_path, stop, written))
    writer.start()
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=30)
        while len(written) < 20 and datetime.now(UTC) < deadline:
            stop.wait(0.05)
        before = len(written)
        made = backups.take(conf, to=tmp_path / "backups")
        after = len(written)
        stop.wait(0.3)  # and the writer goes on after the snapshot
    finally:
        stop.set()
        writer.join()
    assert before >= 20, "the writer never got going"
    assert len(written) > after, "the writer stopped during the backup"
    engine = make_engine(url)
    with engine.connect() as conn:
        live = conn.scalar(select(func.count()).select_from(VitalSign))
    engine.dispose()
    in_backup = made.manifest["tables"]["vital_signs"]
    # The backup is one moment: later readings are not in it, and none is half there.
    assert in_backup < live
    assert made.manifest["tables"]["audit_events"] >= in_backup

    checked = backups.restore(made.path, conf, target(restored_url, tmp_path))

    engine = make_engine(restored_url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(VitalSign)) == in_backup
    engine.dispose()
    assert checked.rows == sum(made.manifest["tables"].values())
    assert checked.audit_records == made.manifest["audit"]["records"]


@pytest.fixture
def small_clinic(database_url: str, tmp_path: Path) -> Settings:
    conf = clinic(database_url, tmp_path)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    factory.configure(info=chain.session_info(conf))
    for n in range(3):
        with transaction(factory) as db:
            audit.record(db, actor=NURSE, action="test.write", detail=f"write {n}")
    with transaction(factory) as db:
        audit.seal(db, wait=True, sweep=True)
    engine.dispose()
    return conf


def test_a_backup_verifies_and_restores_with_the_trail_intact(
    small_clinic: Settings, tmp_path: Path, restored_url: str
) -> None:
    made = backups.take(small_clinic, to=tmp_path / "backups")
    assert made.path.name.startswith("ketaclinic-")
    assert {made.manifest["schema_revision"]} == integrity.expected_heads()
    assert made.manifest["audit"]["records"] == 3
    assert backups.verify(made.path, small_clinic).rows == sum(made.manifest["tables"].values())
    # The clinic's trail names the backup (after the copy, so not inside it).
    engine = make_engine(small_clinic.effective_database_url)
    with make_session_factory(engine)() as db:
        taken = db.execute(
            select(AuditEvent.actor, AuditEvent.detail).where(AuditEvent.action == "backup.take")
        ).all()
    engine.dispose()
    assert [(actor, detail.split(":")[0]) for actor, detail in taken] == [
        ("backup", made.path.name)
    ]

    into = target(restored_url, tmp_path)
    checked = backups.restore(made.path, small_clinic, into)
    assert checked.audit_records == 3
    if restored_url.startswith("postgresql"):
        # A dump carries no column statistics; the restore analyzes what it loaded.
        engine = make_engine(restored_url)
        with engine.connect() as conn:
            columns = conn.scalar(
                text("SELECT count(*) FROM pg_stats WHERE tablename = 'audit_events'")
            )
        engine.dispose()
        assert columns
    with pytest.raises(backups.BackupError, match="already holds"):
        backups.restore(made.path, small_clinic, into)
    backups.restore(made.path, small_clinic, into, force=True)


def test_a_tampered_backup_is_refused(small_clinic: Settings, tmp_path: Path) -> None:
    made = backups.take(small_clinic, to=tmp_path / "backups")
    (stored,) = made.manifest["files"]
    data = made.path / stored
    original = data.read_bytes()
    middle = len(original) // 2
    data.write_bytes(original[:middle] + bytes([original[middle] ^ 0xFF]) + original[middle + 1 :])
    with pytest.raises(backups.BackupError, match="does not match its checksum"):
        backups.verify(made.path, small_clinic)
    with pytest.raises(backups.BackupError, match="does not match its checksum"):
        backups.restore(made.path, small_clinic, target("sqlite://", tmp_path))

    # Counts and checksums rewritten together: the signature no longer holds.
    data.write_bytes(original)
    manifest = json.loads((made.path / backups.MANIFEST).read_text())
    manifest["tables"]["audit_events"] += 1
    (made.path / backups.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(backups.BackupError, match="manifest .* was altered"):
        backups.verify(made.path, small_clinic)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_encrypted_backup_needs_its_own_key(small_clinic: Settings, tmp_path: Path) -> None:
    key, other = tmp_path / "backup.key", tmp_path / "other.key"
    backups.new_key_file(key)
    backups.new_key_file(other)
    assert key.stat().st_mode & 0o777 == 0o600
    made = backups.take(small_clinic, to=tmp_path / "backups", key_file=key)
    (stored,) = made.manifest["files"]
    assert stored.endswith(".fernet")
    assert b"SQLite format 3" not in (made.path / stored).read_bytes()
    with pytest.raises(backups.BackupError, match="encrypted: give its key"):
        backups.verify(made.path, small_clinic)
    with pytest.raises(backups.BackupError, match="is not the key"):
        backups.verify(made.path, small_clinic, key_file=other)
    assert backups.verify(made.path, small_clinic, key_file=key).audit_records == 3
    with pytest.raises(FileExistsError):
        backups.new_key_file(key)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_backup_signed_with_another_audit_key_is_refused(
    small_clinic: Settings, tmp_path: Path
) -> None:
    made = backups.take(small_clinic, to=tmp_path / "backups")
    stranger = small_clinic.model_copy(update={"audit_key": "another clinic's key"})
    with pytest.raises(backups.BackupError, match="signed with another audit key"):
        backups.verify(made.path, stranger)


def test_no_pg_dump_on_the_machine_is_a_clear_refusal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(backups.shutil, "which", lambda _name: None)
    conf = clinic("postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path)
    with pytest.raises(backups.BackupError, match="pg_dump is not on this machine's PATH"):
        backups.take(conf, to=tmp_path / "backups")
    assert not list((tmp_path / "backups").iterdir())  # no half-made backup left


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day + "T02:00:00+00:00")


def test_retention_keeps_seven_daily_four_weekly_and_twelve_monthly() -> None:
    # One backup a day for 400 days, ending Tuesday 1 December 2026.
    last = _at("2026-12-01")
    times = [last - timedelta(days=n) for n in range(400)]
    kept = backups.to_keep(times)
    daily = {_at(d) for d in ["2026-12-01", "2026-11-30", "2026-11-29", "2026-11-28"]} | {
        _at(d) for d in ["2026-11-27", "2026-11-26", "2026-11-25"]
    }
    # The newest of each ISO week: this week's (its Tuesday), then the Sundays before.
    weekly = {_at(d) for d in ["2026-12-01", "2026-11-29", "2026-11-22", "2026-11-15"]}
    # The newest of each month: December's 1st, then the last day of each month before.
    monthly = {_at("2026-12-01")} | {
        _at(d)
        for d in [
            "2026-11-30",
            "2026-10-31",
            "2026-09-30",
            "2026-08-31",
            "2026-07-31",
            "2026-06-30",
            "2026-05-31",
            "2026-04-30",
            "2026-03-31",
            "2026-02-28",
            "2026-01-31",
        ]
    }
    assert kept == daily | weekly | monthly
    assert len(kept) == 7 + 2 + 10  # shared: 1 Dec (all three), 29 Nov, 30 Nov


def test_prune_removes_what_the_retention_does_not_keep(
    small_clinic: Settings, tmp_path: Path
) -> None:
    where = tmp_path / "scheduled"
    start = datetime(2026, 12, 1, 2, tzinfo=UTC)
    for n in range(10):
        backups.take(small_clinic, to=where, now=start - timedelta(days=n))
    removed = backups.prune(where, daily=3, weekly=1, monthly=1)
    left = sorted(b.manifest["created_at"][:10] for b in backups.listed(where))
    assert left == ["2026-11-29", "2026-11-30", "2026-12-01"]
    assert len(removed) == 7


@pytest.mark.skipif(not POSTGRES_URL, reason="a PostgreSQL dump")
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_postgresql_dump_is_checked_in_a_scratch_database_left_empty(
    small_clinic: Settings, tmp_path: Path, restored_url: str
) -> None:
    made = backups.take(small_clinic, to=tmp_path / "backups")
    plain = backups.verify(made.path, small_clinic)
    assert plain.audit_records == 0 and "pg_restore --list" in plain.notes[0]
    checked = backups.verify(made.path, small_clinic, scratch_database_url=restored_url)
    assert checked.audit_records == 3 and checked.notes == []
    engine = make_engine(restored_url)
    with engine.connect() as conn:
        assert sa_inspect(conn).get_table_names() == []
    engine.dispose()


@pytest.mark.skipif(not POSTGRES_URL, reason="a PostgreSQL restore")
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_postgresql_restore_works_through_one_engine_disposed_once(
    small_clinic: Settings, tmp_path: Path, restored_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = backups.take(small_clinic, to=tmp_path / "backups")
    opened: list[str] = []
    disposed: list[str] = []

    def engine_for(url: str, **options: object) -> object:
        engine = make_engine(url, **options)  # type: ignore[arg-type]
        dispose = engine.dispose
        opened.append(url)

        def counted(close: bool = True) -> None:
            disposed.append(url)
            dispose(close)

        engine.dispose = counted  # type: ignore[method-assign]
        return engine

    monkeypatch.setattr(backups, "make_engine", engine_for)
    for force in (False, True):  # into the empty database, then over what it holds
        backups._restore_postgres(
            backups.read(made.path), restored_url, force=force, key_file=None, progress=None
        )
        assert (opened, disposed) == ([restored_url], [restored_url])
        opened.clear()
        disposed.clear()
    with pytest.raises(backups.BackupError, match="already holds"):
        backups._restore_postgres(
            backups.read(made.path), restored_url, force=False, key_file=None, progress=None
        )
    assert (opened, disposed) == ([restored_url], [restored_url])
