"""ketaclinic backup, backup verify, restore, doctor and migrate's backup, as typed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from ketaclinic.cli import app
from ketaclinic.platform import integrity, migrate
from ketaclinic.platform.db import make_engine
from ketaclinic.platform.settings import Settings, get_settings


def _init(cli: CliRunner) -> None:
    made = cli.invoke(
        app,
        [
            "init",
            "--admin-username",
            "ada",
            "--admin-name",
            "Ada",
            "--admin-password",
            "a-long-pw1",
        ],
    )
    assert made.exit_code == 0, made.output


def _only(path: Path) -> Path:
    (found,) = [p for p in path.iterdir() if p.name.startswith("ketaclinic-")]
    return found


def test_backup_verify_and_restore_drill(
    cli: CliRunner, settings: Settings, tmp_path: Path
) -> None:
    _init(cli)
    taken = cli.invoke(app, ["backup", "--to", str(tmp_path / "backups")])
    assert taken.exit_code == 0, taken.output
    assert "backup written to" in taken.output
    backup = _only(tmp_path / "backups")

    checked = cli.invoke(app, ["backup", "verify", str(backup)])
    assert checked.exit_code == 0, checked.output
    assert f"backup {backup} holds:" in checked.output

    if settings.effective_database_url.startswith("postgresql"):
        return  # restoring PostgreSQL into a new database: tests/platform/test_backups.py
    new = tmp_path / "new-clinic"
    restored = cli.invoke(app, ["restore", str(backup), "--data-dir", str(new)])
    assert restored.exit_code == 0, restored.output
    assert "audit trail intact" in restored.output
    assert (new / "ketaclinic.db").exists()
    again = cli.invoke(app, ["restore", str(backup), "--data-dir", str(new)])
    assert again.exit_code == 1
    assert "already holds a database" in again.output
    assert "Traceback" not in again.output


def test_an_encrypted_backup_from_the_command_line(cli: CliRunner, tmp_path: Path) -> None:
    key = tmp_path / "backup.key"
    assert cli.invoke(app, ["backup", "new-key", str(key)]).exit_code == 0
    again = cli.invoke(app, ["backup", "new-key", str(key)])
    assert again.exit_code == 1 and "never overwritten" in again.output
    taken = cli.invoke(app, ["backup", "--to", str(tmp_path / "b"), "--encrypt-key-file", str(key)])
    assert taken.exit_code == 0, taken.output
    assert "encrypted" in taken.output
    backup = _only(tmp_path / "b")
    refused = cli.invoke(app, ["backup", "verify", str(backup)])
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines()[-1] == (
        f"error: {backup} is encrypted: give its key with --key-file"
    )
    assert cli.invoke(app, ["backup", "verify", str(backup), "--key-file", str(key)]).exit_code == 0


def test_a_tampered_backup_is_refused_in_one_line(cli: CliRunner, tmp_path: Path) -> None:
    assert cli.invoke(app, ["backup", "--to", str(tmp_path / "b")]).exit_code == 0
    backup = _only(tmp_path / "b")
    stored = next(p for p in backup.iterdir() if p.name != "manifest.json")
    with stored.open("r+b") as handle:
        handle.seek(stored.stat().st_size // 2)
        handle.write(b"tampered")
    result = cli.invoke(app, ["backup", "verify", str(backup)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: {stored.name} in {backup} does not match its checksum (altered or damaged): "
        "refused"
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_migrate_takes_a_backup_first_unless_told_not_to(
    cli: CliRunner, database_url: str, settings: Settings
) -> None:
    # A clinic still at the first revision.
    path = integrity.sqlite_file(database_url)
    assert path is not None
    path.unlink()
    migrate.upgrade(database_url, "0001")
    result = cli.invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "backup before migrating" in result.output
    backup = _only(settings.effective_backup_dir)
    assert '"schema_revision": "0001"' in (backup / "manifest.json").read_text()
    # Recorded in the trail once the schema could hold the record.
    engine = make_engine(database_url)
    with engine.connect() as conn:
        details = conn.execute(
            text("SELECT detail FROM audit_events WHERE action = 'backup.take'")
        ).scalars()
        assert [d.split(":")[0] for d in details] == [backup.name]
    engine.dispose()

    quiet = cli.invoke(app, ["migrate"])  # nothing to migrate: no backup
    assert quiet.exit_code == 0 and "backup" not in quiet.output
    assert cli.invoke(app, ["migrate", "--no-backup"]).exit_code == 0


def test_doctor_checks_the_whole_database(cli: CliRunner) -> None:
    result = cli.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "database intact" in result.output
    get_settings.cache_clear()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_migrate_without_a_backup_migrates_nothing(
    cli: CliRunner, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ketaclinic.platform import backups

    path = integrity.sqlite_file(database_url)
    assert path is not None
    path.unlink()
    migrate.upgrade(database_url, "0001")

    def no_tool(*_args: object, **_kwargs: object) -> backups.Backup:
        raise backups.BackupError("pg_dump is not on this machine's PATH")

    monkeypatch.setattr(backups, "take", no_tool)
    result = cli.invoke(app, ["migrate"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: pg_dump is not on this machine's PATH; nothing was migrated "
        "(or migrate with --no-backup)"
    ]
    assert _revision(database_url) == "0001"


def _revision(url: str) -> str:
    import sqlite3

    path = integrity.sqlite_file(url)
    conn = sqlite3.connect(str(path))
    (found,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    conn.close()
    return str(found)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_restore_refuses_the_clinics_own_data_directory_and_with_force_sets_its_checkpoint_aside(
    cli: CliRunner, settings: Settings, tmp_path: Path
) -> None:
    _init(cli)
    assert cli.invoke(app, ["backup", "--to", str(tmp_path / "b")]).exit_code == 0
    backup = _only(tmp_path / "b")
    assert cli.invoke(app, ["audit", "seal"]).exit_code == 0
    own = cli.invoke(app, ["restore", str(backup), "--data-dir", str(settings.data_dir)])
    assert own.exit_code == 1
    assert "is this clinic's own data directory" in own.output
    forced = cli.invoke(
        app, ["restore", str(backup), "--data-dir", str(settings.data_dir), "--force"]
    )
    assert forced.exit_code == 0, forced.output
    assert list(settings.data_dir.glob("audit-checkpoint.json.before-restore-*"))
    verified = cli.invoke(app, ["audit", "verify", "--no-progress"])
    assert verified.exit_code == 0, verified.output
