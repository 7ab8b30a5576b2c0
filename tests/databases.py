"""PostgreSQL databases for the tests: one per xdist worker, created when missing."""

from __future__ import annotations

import os

from sqlalchemy import text
from sqlalchemy.engine import make_url

from ketaclinic.platform.db import make_engine


def name(url: str) -> str:
    return make_url(url).database or "test"


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def admin(url: str, *statements: str) -> None:
    """Runs statements that cannot run in a transaction (CREATE/DROP DATABASE)."""
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def exists(url: str, database: str) -> bool:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": database}
            ).first()
    finally:
        engine.dispose()
    return found is not None


def for_this_worker(url: str) -> str:
    """``url`` itself in a plain run; under pytest-xdist ``<database>_<worker id>``
    (created if missing), so that workers never truncate each other's tables."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    database = f"{name(url)}_{worker}"
    if not exists(url, database):
        admin(url, f'CREATE DATABASE "{database}"')
    return with_database(url, database)
