"""A damaged database is refused at 'serve' and answered 503 at /readyz, never served."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from ketaclinic.cli import app as cli_app
from ketaclinic.platform import integrity
from ketaclinic.platform.app import create_app
from ketaclinic.platform.db import make_engine
from ketaclinic.platform.settings import Settings, get_settings


@pytest.fixture(autouse=True)
def _fresh_verdicts() -> Iterator[None]:
    integrity.forget_checks()
    yield
    integrity.forget_checks()


@pytest.fixture(scope="module")
def small_database(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> Path:
    """A migrated clinic with a few hundred pages of patients, checkpointed into one file."""
    path = tmp_path_factory.mktemp("small") / "ketaclinic.db"
    shutil.copy(_sqlite_template, path)
    conn = sqlite3.connect(path)
    conn.executemany(
        "INSERT INTO patients (mrn, given_name, family_name, date_of_birth, sex, version, "
        "created_at, updated_at) VALUES (?, 'Given', 'Family', '1980-01-01', 'female', 1, "
        "'2026-01-01 00:00:00', '2026-01-01 00:00:00')",
        [(f"MRN{n:06d}",) for n in range(3000)],
    )
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


def _zero_bytes(path: Path) -> None:
    path.write_bytes(b"")


def _truncated(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def _header_overwritten(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.write(b"this is not a database header" * 4)


def _page_damaged(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.seek(path.stat().st_size // 2)
        handle.write(b"\xde\xad\xbe\xef" * 1024)


def _root_page_damaged(path: Path, table: str) -> None:
    """Garbage over the table's root page: every read of the table meets it."""
    conn = sqlite3.connect(path)
    (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    conn.close()
    with path.open("r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\xde\xad\xbe\xef" * (page_size // 4))


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "zero bytes": (_zero_bytes, "is empty (0 bytes)"),
    "truncated": (_truncated, "is truncated"),
    "header overwritten": (_header_overwritten, "is not a SQLite database"),
    # Which check meets the garbage first (opening the schema, or quick_check walking a
    # b-tree) depends on what lies mid-file; either way the file is called damaged.
    "page damaged": (_page_damaged, "is damaged ("),
}


@pytest.fixture(params=list(DAMAGE))
def damaged(
    request: pytest.FixtureRequest, small_database: Path, tmp_path: Path
) -> tuple[Path, str]:
    damage, says = DAMAGE[request.param]
    path = tmp_path / "ketaclinic.db"
    shutil.copy(small_database, path)
    damage(path)
    return path, says


def _settings(path: Path) -> Settings:
    return Settings(
        mode="test",
        data_dir=path.parent,
        database_url=f"sqlite:///{path}",
        secret_key="test-secret",
        read_audit_delay_seconds=0,
    )


def test_the_undamaged_copy_passes_every_check(small_database: Path) -> None:
    assert integrity.check_sqlite_file(small_database, full=True) == integrity.Health(True)
    with TestClient(create_app(_settings(small_database))) as client:
        assert client.get("/readyz").json() == {"status": "ready"}


def test_a_damaged_file_is_503_at_readyz(damaged: tuple[Path, str]) -> None:
    path, says = damaged
    with TestClient(create_app(_settings(path))) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert says in response.json()["reason"]
    assert "ketaclinic restore" in response.json()["reason"]


def _serve(path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("KETACLINIC_DATA_DIR", str(path.parent))
    monkeypatch.setenv("KETACLINIC_DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    started: list[object] = []
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append(a))
    result = CliRunner().invoke(cli_app, ["serve", "--jobs-every", "0"])
    get_settings.cache_clear()
    assert not started, "serve started on a damaged database"
    return result


def test_serve_refuses_a_damaged_file_in_one_line(
    damaged: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, says = damaged
    size = path.stat().st_size
    result = _serve(path, monkeypatch)
    assert result.exit_code == 1  # type: ignore[attr-defined]
    (line,) = result.output.strip().splitlines()  # type: ignore[attr-defined]
    assert line.startswith("error: ") and says in line and "ketaclinic restore" in line
    assert path.stat().st_size == size  # left as it was found, for inspection


def test_serve_never_creates_a_missing_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "clinic" / "ketaclinic.db"
    result = _serve(path, monkeypatch)
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "there is no database at" in result.output  # type: ignore[attr-defined]
    assert "ketaclinic init" in result.output  # type: ignore[attr-defined]
    assert not path.exists()


def test_another_applications_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ketaclinic.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    conn.execute("PRAGMA application_id = 42")
    conn.commit()
    conn.close()
    health = integrity.check_sqlite_file(path)
    assert not health.ok
    assert "not a ketaclinic one (application id 42)" in (health.reason or "")


def test_a_migrated_database_carries_ketaclinics_application_id(_sqlite_template: Path) -> None:
    conn = sqlite3.connect(_sqlite_template)
    (found,) = conn.execute("PRAGMA application_id").fetchone()
    conn.close()
    assert found == integrity.APPLICATION_ID == 0x4B434C4E


def test_a_page_damaged_file_is_found_by_doctor(
    small_database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ketaclinic.db"
    shutil.copy(small_database, path)
    _page_damaged(path)
    monkeypatch.setenv("KETACLINIC_DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    result = CliRunner().invoke(cli_app, ["doctor"])
    get_settings.cache_clear()
    assert result.exit_code == 1
    assert "is damaged" in result.output and "Traceback" not in result.output


@pytest.mark.real_commits
def test_readyz_is_503_at_a_schema_revision_the_code_does_not_expect(
    database_url: str, settings: Settings
) -> None:
    engine = make_engine(database_url)
    (head,) = integrity.expected_heads()
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        application = create_app(settings)
        with TestClient(application) as client:
            response = client.get("/readyz")
        application.state.engine.dispose()
        assert response.status_code == 503
        assert "schema revision 0001" in response.json()["reason"]
        assert "run 'ketaclinic migrate'" in response.json()["reason"]
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
        engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_refuses_a_database_from_a_newer_version_in_one_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = integrity.sqlite_file(database_url)
    assert path is not None
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '0999'")
    conn.commit()
    conn.close()
    result = _serve(path, monkeypatch)
    assert result.exit_code == 1  # type: ignore[attr-defined]
    (line,) = result.output.strip().splitlines()  # type: ignore[attr-defined]
    assert "Can't locate revision identified by '0999'" in line
    assert "newer version of ketaclinic" in line
    with TestClient(create_app(_settings(path))) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "0999, which this version of ketaclinic does not know" in response.json()["reason"]


def test_a_request_that_meets_a_damaged_page_is_a_503_not_a_500(
    small_database: Path, tmp_path: Path
) -> None:
    from ketaclinic.platform.accounts import service as accounts
    from ketaclinic.platform.db import make_session_factory
    from tests.conftest import TEST_ACTOR, make_user

    path = tmp_path / "ketaclinic.db"
    shutil.copy(small_database, path)
    engine = make_engine(f"sqlite:///{path}")
    with make_session_factory(engine)() as db:
        desk = make_user(db, "front_desk", username="frank")
        token = accounts.create_api_token(db, actor=TEST_ACTOR, user_id=desk.id, name="bridge")
        db.commit()
    engine.dispose()
    _root_page_damaged(path, "patients")
    application = create_app(_settings(path))
    with TestClient(application) as client:
        response = client.get("/api/patients?q=given", headers={"Authorization": f"Bearer {token}"})
    application.state.engine.dispose()
    assert response.status_code == 503, response.text
    assert response.json()["title"] == "Database damaged"
    assert "ketaclinic doctor" in response.json()["detail"]


@pytest.mark.parametrize(
    "command",
    [
        ["user", "list"],
        ["audit", "verify", "--no-progress"],
        ["backup"],
        ["doctor"],
        ["migrate"],
        ["jobs", "run"],
        ["init", "--admin-username", "a", "--admin-name", "A", "--admin-password", "pw-long-12"],
        ["demo"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_every_command_refuses_a_damaged_file_in_one_line(
    command: list[str], damaged: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, says = damaged
    size = path.stat().st_size
    monkeypatch.setenv("KETACLINIC_DATA_DIR", str(path.parent))
    monkeypatch.setenv("KETACLINIC_DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    result = CliRunner().invoke(cli_app, command)
    get_settings.cache_clear()
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: ") and says in line
    assert path.stat().st_size == size  # a zero-byte file does not become a new clinic
