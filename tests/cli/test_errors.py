"""Every command meets a bad database URL, an unusable data directory and a locked
database with one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner, Result

from ketaclinic.cli import app
from ketaclinic.platform import db
from ketaclinic.platform.settings import Settings, get_settings
from tests.conftest import POSTGRES_URL

COMMANDS = [
    ["init", "--admin-username", "ada", "--admin-name", "Ada", "--admin-password", "pw-long-1"],
    ["demo"],
    ["migrate"],
    ["serve", "--jobs-every", "0"],
    ["user", "list"],
    ["user", "add", "bo", "--name", "Bo", "--role", "nurse", "--password", "a-long-pw1"],
    ["audit", "verify", "--no-progress"],
    ["audit", "seal"],
    ["backup"],
    ["doctor"],
    ["jobs", "run"],
]
IDS = [" ".join(c[:2]) for c in COMMANDS]


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    import uvicorn

    def started(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("serve started despite the failure")

    monkeypatch.setattr(uvicorn, "run", started)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _one_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    # An exception that escaped would be here instead of the clean exit.
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a database url", "bad KETACLINIC_DATABASE_URL: not a database URL"),
        ("mysql://clinic@db/clinic", "bad KETACLINIC_DATABASE_URL: 'mysql' is not a database"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", "cannot use the database"),
    ],
    ids=["unparseable", "other-database", "unreachable"],
)
def test_a_bad_database_url(
    command: list[str], url: str, says: str, environment: pytest.MonkeyPatch
) -> None:
    environment.setenv("KETACLINIC_DATABASE_URL", url)
    assert says in _one_line(CliRunner().invoke(app, command))


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_data_directory_that_is_a_file(
    command: list[str], environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    not_a_dir = tmp_path / "data"
    not_a_dir.write_text("a file where the data directory should be")
    environment.setenv("KETACLINIC_DATA_DIR", str(not_a_dir))
    environment.delenv("KETACLINIC_DATABASE_URL", raising=False)
    line = _one_line(CliRunner().invoke(app, command))
    assert line == f"error: the data directory {not_a_dir} is not a directory (KETACLINIC_DATA_DIR)"


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_data_directory_that_cannot_be_created(
    command: list[str], environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    environment.setenv("KETACLINIC_DATA_DIR", str(blocker / "data"))
    environment.delenv("KETACLINIC_DATABASE_URL", raising=False)
    line = _one_line(CliRunner().invoke(app, command))
    assert line.startswith(f"error: cannot create the data directory {blocker / 'data'}: ")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_data_directory(environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    locked = tmp_path / "data"
    locked.mkdir(mode=0o500)
    environment.setenv("KETACLINIC_DATA_DIR", str(locked))
    environment.delenv("KETACLINIC_DATABASE_URL", raising=False)
    line = _one_line(CliRunner().invoke(app, ["user", "list"]))
    assert "is not writable" in line


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_locked_database(
    command: list[str], environment: pytest.MonkeyPatch, settings: Settings
) -> None:
    environment.setenv("KETACLINIC_DATABASE_URL", settings.effective_database_url)
    environment.setenv("KETACLINIC_DATA_DIR", str(settings.data_dir))
    environment.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 100)
    path = settings.effective_database_url.removeprefix("sqlite:///")
    # Another program holds the file exclusively (a sqlite3 shell in the middle of a write).
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE holding (id INTEGER)")
    try:
        line = _one_line(CliRunner().invoke(app, command))
    finally:
        holder.rollback()
        holder.close()
    assert "locked" in line


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL's row and table locks")
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("command", [["user", "list"], ["audit", "seal"]], ids=["user", "audit"])
def test_a_locked_postgresql_table_is_one_line_not_a_wait_for_ever(
    command: list[str], environment: pytest.MonkeyPatch, settings: Settings, database_url: str
) -> None:
    from ketaclinic.cli import common

    environment.setenv("KETACLINIC_DATABASE_URL", database_url)
    environment.setenv("KETACLINIC_DATA_DIR", str(settings.data_dir))
    environment.setattr(common, "POSTGRES_LOCK_TIMEOUT_MS", 200)
    engine = db.make_engine(database_url)
    holder = engine.connect()
    # Another session holds the tables these commands read (a migration or a psql shell
    # in the middle of a change).
    holding = holder.begin()
    holder.execute(text("LOCK TABLE users, audit_events IN ACCESS EXCLUSIVE MODE"))
    try:
        line = _one_line(CliRunner().invoke(app, command))
    finally:
        holding.rollback()
        holder.close()
        engine.dispose()
    assert "locked" in line


def test_the_installed_command_answers_in_one_line_too(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "KETACLINIC_DATABASE_URL": "sqlite+nonsense://x",
        "KETACLINIC_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [str(Path(sys.executable).with_name("ketaclinic")), "user", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: bad KETACLINIC_DATABASE_URL: Can't load plugin: sqlalchemy.dialects:sqlite.nonsense"
    ]
