"""Shared fixtures: every database test runs on SQLite and, when
KETACLINIC_TEST_POSTGRES_URL is set, on PostgreSQL too.

How a PostgreSQL test is undone
-------------------------------
By default a PostgreSQL test runs inside one transaction that is rolled back when it
ends (SQLAlchemy's "join an external transaction" recipe): one connection per test
begins an outer transaction, and the test's ``db`` session, the app's
``session_factory`` and its ``later_writes`` are all bound to that connection with
``join_transaction_mode="create_savepoint"``. Every ``commit()`` the app, a request or
a set-up factory does only releases a savepoint; the whole test vanishes at the
rollback, so nothing has to be emptied between tests.

Tests that need commits other connections see take the fallback instead: they commit
for real, and the tables are emptied (TRUNCATE) when they end. They are marked
``@pytest.mark.real_commits``; a test is marked by itself when it asks for

- ``engine`` (it opens sessions of its own: concurrent writers, outbox claims, jobs,
  commits counted on the engine),
- ``cli`` (commands run on an engine of their own, some in subprocesses), or
- ``database_url`` directly (it opens its own engine, "a new process").

Tests that count the app's commits on ``app.state.engine``, build an app of their own
or read from many threads at once carry the marker explicitly. Should a test commit
for real without it, the commit is noticed and the tables are emptied after it all the
same. SQLite keeps its per-test copy of a migrated file; demo tests their fresh copy
of the demo clinic.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from ketaclinic.platform import migrate, passwords
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.app import create_app
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import Base, make_engine, make_session_factory
from ketaclinic.platform.model_registry import load_all
from ketaclinic.platform.settings import Settings
from ketaclinic.platform.unit_of_work import LaterWrites
from tests import databases
from tests.demo_clinic import _demo_dir, demo_postgres, demo_sqlite  # noqa: F401 (fixtures)

POSTGRES_URL = os.environ.get("KETACLINIC_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
PASSWORD = "correct-horse-battery"
TEST_ACTOR = Actor(user_id=None, username="test")


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # argon2id all the same, with minimal cost so that tests creating users stay fast.
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture(autouse=True)
def _audit_key_and_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    # The audit trail's MAC key and checkpoint come from the settings: one test key, and
    # a data directory of each test's own, so that no test writes beside the sources.
    from ketaclinic.platform.settings import get_settings

    monkeypatch.setenv("KETACLINIC_AUDIT_KEY", "test-audit-key")
    monkeypatch.setenv("KETACLINIC_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "ketaclinic.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _postgres_schema() -> str | None:
    if not POSTGRES_URL:
        return None
    url = databases.for_this_worker(POSTGRES_URL)
    load_all()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(url)
    return url


# The job queue's own tables (migration 0009), emptied with ours so that no test sees a
# job, a queueing lock or a periodic tick left by another.
QUEUE_TABLES = [
    "procrastinate_periodic_defers",
    "procrastinate_events",
    "procrastinate_jobs",
    "procrastinate_workers",
]


def _truncate_postgres(engine: Engine) -> None:
    load_all()
    names = ", ".join(
        f'"{t}"' for t in [t.name for t in Base.metadata.sorted_tables] + QUEUE_TABLES
    )
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


# Fixtures whose test commits for real (see the module's docstring); ``database_url``
# only when the test itself asks for it, every test's closure holds it.
REAL_COMMIT_FIXTURES = frozenset({"engine", "cli"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        argnames = set(getattr(getattr(item, "_fixtureinfo", None), "argnames", ()))
        if fixtures & REAL_COMMIT_FIXTURES or "database_url" in argnames:
            item.add_marker(pytest.mark.real_commits)


def _real_commits(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("real_commits") is not None


class _RealCommits:
    """Whether any engine committed for real during the current test."""

    seen = False

    @staticmethod
    def note(_conn: Connection) -> None:
        _RealCommits.seen = True


event.listen(Engine, "commit", _RealCommits.note)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "ketaclinic.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("_postgres_schema")
    _RealCommits.seen = False
    yield url
    # A test rolled back leaves nothing; one that committed is emptied after itself, so
    # that the next test starts from the migrated, empty schema.
    if _real_commits(request) or _RealCommits.seen:
        engine = make_engine(url)
        _truncate_postgres(engine)
        engine.dispose()


def _joined(conn: Connection) -> sessionmaker[Session]:
    """Sessions inside the test's outer transaction: a commit releases a savepoint."""
    return sessionmaker(bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint")


@pytest.fixture
def _outer(database_url: str, request: pytest.FixtureRequest) -> Iterator[Connection | None]:
    """The test's connection and outer transaction, rolled back at the end; None where
    the test commits for real (SQLite, ``real_commits``)."""
    if not database_url.startswith("postgresql") or _real_commits(request):
        yield None
        return
    engine = make_engine(database_url)
    conn = engine.connect()
    outer = conn.begin()
    try:
        yield conn
    finally:
        if outer.is_active:
            outer.rollback()
        conn.close()
        engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        mode="test",
        data_dir=tmp_path,
        database_url=database_url,
        secret_key="test-secret",
        time_zone="America/New_York",
        # Reads audited as each request ends, so a test sees the rows at once.
        read_audit_delay_seconds=0,
    )


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(_outer: Connection | None, request: pytest.FixtureRequest) -> Iterator[Session]:
    if _outer is None:
        factory = make_session_factory(request.getfixturevalue("engine"))
    else:
        factory = _joined(_outer)
    with factory() as session:
        yield session


@pytest.fixture
def app(settings: Settings, _outer: Connection | None) -> Iterator[FastAPI]:
    application = create_app(settings)
    if _outer is not None:
        application.state.session_factory = _joined(_outer)
        application.state.later_writes = LaterWrites(
            application.state.session_factory, delay=settings.read_audit_delay_seconds
        )
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def counted(db: Session) -> Iterator[list[str]]:
    """The SQL statements run on ``db``'s connection inside the block (tests that say
    what an act costs, and that it does not grow with the records it reads)."""
    seen: list[str] = []
    bind = db.connection()

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(bind, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(bind, "before_cursor_execute", note)


def committed(factory: F) -> F:
    """Set-up built through the real services is committed, as the request that made it
    would have done, so that the app's own connections see it."""

    @functools.wraps(factory)
    def wrapper(db: Session, *args: Any, **kwargs: Any) -> Any:
        made = factory(db, *args, **kwargs)
        audit.flush_reads(db)
        db.commit()
        return made

    return wrapper  # type: ignore[return-value]


def make_user(
    db: Session,
    role: str | list[str],
    *,
    username: str | None = None,
    patient_id: int | None = None,
    email: str | None = "",
) -> Any:
    """A user with these roles; staff get an e-mail address for their alerts
    (``<username>@clinic.test``) unless ``email`` says otherwise (None: none)."""
    roles = [role] if isinstance(role, str) else role
    name = username or "-".join(roles).replace("_", "")
    if email == "":
        email = None if "patient" in roles else f"{name}@clinic.test"
    user = accounts.create_user(
        db,
        actor=TEST_ACTOR,
        username=name,
        full_name=name.title(),
        password=PASSWORD,
        roles=roles,
        patient_id=patient_id,
        email=email,
    )
    db.commit()  # set-up: the user must exist for the app's own connections
    return user


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the real form; returns the session's CSRF token."""
    page = client.get("/login")
    csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    home = client.get("/")
    return home.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
