"""Shared fixtures: every database test runs on SQLite and, when
KETACLINIC_TEST_POSTGRES_URL is set, on PostgreSQL too."""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from ketaclinic.platform import migrate, passwords
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.app import create_app
from ketaclinic.platform.db import Base, make_engine, make_session_factory
from ketaclinic.platform.model_registry import load_all
from ketaclinic.platform.settings import Settings

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


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "ketaclinic.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _postgres_schema() -> str | None:
    if not POSTGRES_URL:
        return None
    load_all()
    engine = make_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(POSTGRES_URL)
    return POSTGRES_URL


def _truncate_postgres(engine: Engine) -> None:
    load_all()
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "ketaclinic.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("_postgres_schema")
    engine = make_engine(url)
    _truncate_postgres(engine)
    engine.dispose()
    yield url


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
def db(engine: Engine) -> Iterator[Session]:
    with make_session_factory(engine)() as session:
        yield session


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


F = TypeVar("F", bound=Callable[..., Any])


def committed(factory: F) -> F:
    """Set-up built through the real services is committed, as the request that made it
    would have done, so that the app's own connections see it."""

    @functools.wraps(factory)
    def wrapper(db: Session, *args: Any, **kwargs: Any) -> Any:
        made = factory(db, *args, **kwargs)
        db.commit()
        return made

    return wrapper  # type: ignore[return-value]


def make_user(
    db: Session,
    role: str | list[str],
    *,
    username: str | None = None,
    patient_id: int | None = None,
) -> Any:
    roles = [role] if isinstance(role, str) else role
    name = username or "-".join(roles).replace("_", "")
    user = accounts.create_user(
        db,
        actor=TEST_ACTOR,
        username=name,
        full_name=name.title(),
        password=PASSWORD,
        roles=roles,
        patient_id=patient_id,
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
