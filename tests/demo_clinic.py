"""The demo clinic for tests: built once per test run and backend, copied for each test.

A build takes the better part of a minute, so it happens once: into a SQLite file and
into a PostgreSQL template database, each test getting a copy of its own (a file copy,
``CREATE DATABASE ... TEMPLATE``). Under pytest-xdist the workers share one build of each:
it is made in the run's common temporary directory under a file lock, and the workers
build the two backends side by side rather than one waiting for the other.
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest
from filelock import FileLock, Timeout

from ketaclinic import demo
from ketaclinic.platform import migrate
from ketaclinic.platform.audit import chain
from ketaclinic.platform.db import make_engine, make_session_factory, transaction
from ketaclinic.platform.model_registry import load_all
from tests import databases

SEED = 7
POSTGRES_URL = os.environ.get("KETACLINIC_TEST_POSTGRES_URL")


def _checkpoint(demo_dir: Path, backend: str) -> Path:
    """Each build's audit checkpoint, kept beside it: a clinic's checkpoint belongs to
    its one database, and the two builds may run in one process."""
    return demo_dir / f"{backend}.{chain.CHECKPOINT_NAME}"


def _build(url: str, checkpoint: Path) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    factory.configure(info={chain.INFO_CHECKPOINT: str(checkpoint)})
    with transaction(factory) as db:
        demo.build(db, seed=SEED, today=date.today())
    engine.dispose()


@pytest.fixture(scope="session")
def _demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this run's demo builds live: shared by every xdist worker of the run (their
    base temporary directories have one parent per run), private to a plain run."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = tmp_path_factory.getbasetemp().parent / "demo-clinic"
        shared.mkdir(exist_ok=True)
        return shared
    return tmp_path_factory.mktemp("demo-clinic")


def _build_sqlite(demo_dir: Path, empty: Path) -> None:
    path = demo_dir / "ketaclinic.db"
    shutil.copy(empty, path)
    _build(f"sqlite:///{path}", _checkpoint(demo_dir, "sqlite"))


def _build_postgres(demo_dir: Path, empty: Path) -> None:
    assert POSTGRES_URL
    template = _template_name(POSTGRES_URL)
    databases.admin(
        POSTGRES_URL,
        f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)',
        f'CREATE DATABASE "{template}"',
    )
    url = databases.with_database(POSTGRES_URL, template)
    load_all()
    migrate.upgrade(url)
    _build(url, _checkpoint(demo_dir, "postgresql"))


def _template_name(url: str) -> str:
    return databases.name(url) + "_demo_template"


BUILDERS = {"sqlite": _build_sqlite, "postgresql": _build_postgres}


def _lock(demo_dir: Path, backend: str) -> FileLock:
    return FileLock(demo_dir / f"{backend}.lock")


def _build_unless_done(demo_dir: Path, empty: Path, backend: str) -> None:
    """Call holding ``backend``'s lock."""
    done = demo_dir / f"{backend}.done"
    if not done.exists():
        BUILDERS[backend](demo_dir, empty)
        done.touch()


def _ensure(demo_dir: Path, empty: Path, backend: str) -> None:
    """Builds ``backend``'s demo clinic unless this run already has it.

    A worker that finds another worker building the one it needs builds, meanwhile, one
    that nobody has started, rather than wait idle: the builds run side by side."""
    lock = _lock(demo_dir, backend)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        others = [b for b in BUILDERS if b != backend and (b == "sqlite" or POSTGRES_URL)]
        for other in others:
            other_lock = _lock(demo_dir, other)
            try:
                other_lock.acquire(timeout=0)
            except Timeout:
                continue
            try:
                _build_unless_done(demo_dir, empty, other)
            finally:
                other_lock.release()
        lock.acquire()  # waits for the build another worker is doing
    try:
        _build_unless_done(demo_dir, empty, backend)
    finally:
        lock.release()


@pytest.fixture(scope="session")
def demo_sqlite(_sqlite_template: Path, _demo_dir: Path) -> Path:
    """A SQLite file holding the demo clinic (copy it; never open it)."""
    _ensure(_demo_dir, _sqlite_template, "sqlite")
    return _demo_dir / "ketaclinic.db"


@pytest.fixture(scope="session")
def demo_postgres(_sqlite_template: Path, _demo_dir: Path) -> str | None:
    """The name of a PostgreSQL template database holding the demo clinic."""
    if not POSTGRES_URL:
        return None
    _ensure(_demo_dir, _sqlite_template, "postgresql")
    return _template_name(POSTGRES_URL)


def copy(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """The URL of a fresh copy of the demo clinic for one test, its audit checkpoint in
    the test's data directory."""
    demo_dir = request.getfixturevalue("_demo_dir")
    request.getfixturevalue("demo_sqlite" if backend == "sqlite" else "demo_postgres")
    built = _checkpoint(demo_dir, backend)
    if built.exists():
        shutil.copy(built, tmp_path / chain.CHECKPOINT_NAME)
    if backend == "sqlite":
        path = tmp_path / "ketaclinic.db"
        shutil.copy(request.getfixturevalue("demo_sqlite"), path)
        return f"sqlite:///{path}"
    template = request.getfixturevalue("demo_postgres")
    base = request.getfixturevalue("_postgres_schema")  # this worker's database
    target = databases.name(base) + "_demo_run"
    # Copying needs the template to itself: one copy at a time across the workers.
    with _lock(request.getfixturevalue("_demo_dir"), "postgresql"):
        databases.admin(
            base,
            f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)',
            f'CREATE DATABASE "{target}" TEMPLATE "{template}"',
        )
    return databases.with_database(base, target)
