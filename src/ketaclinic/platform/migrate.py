"""Alembic, driven from code so that the installed package carries its migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the schema to ``revision``. An existing database that moved on gets the rows
    its new tables keep about the records made before them (the kept summaries), derived
    from those records in one transaction of their own."""
    parsed = make_url(url)
    memory = parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")
    if parsed.get_backend_name() == "sqlite" and not memory:
        Path(parsed.database or "").parent.mkdir(parents=True, exist_ok=True)
    before = set() if memory else _heads(url)
    command.upgrade(config(url), revision)
    # The derivation is today's code: it runs on today's schema only.
    after = _heads(url) if before else set()
    if (
        before
        and after != before
        and after == set(ScriptDirectory.from_config(config(url)).get_heads())
    ):
        _derive_kept_rows(url)


def _heads(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()


def _derive_kept_rows(url: str) -> None:
    from ketaclinic.platform import ports
    from ketaclinic.platform.db import make_engine, make_session_factory

    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as db:
            ports.derive_missing_summaries(db)
            db.commit()
    finally:
        engine.dispose()


def is_current(engine: Engine, url: str) -> bool:
    heads = set(ScriptDirectory.from_config(config(url)).get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current == heads
