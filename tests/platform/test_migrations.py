"""The migrations build exactly the tables the models declare, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, PrimaryKeyConstraint, UniqueConstraint

from ketaclinic.platform import migrate
from ketaclinic.platform.db import Base
from ketaclinic.platform.model_registry import load_all


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    return not (type_ == "table" and (name or "").startswith("procrastinate"))


def test_the_migration_history_is_one_straight_line() -> None:
    script = ScriptDirectory.from_config(migrate.config("sqlite://"))
    assert len(script.get_heads()) == 1
    assert all(not isinstance(r.down_revision, tuple) for r in script.walk_revisions())


def test_a_migrated_database_matches_the_models(engine: Engine) -> None:
    load_all()
    with engine.connect() as conn:
        # The job queue's tables (PostgreSQL only) are procrastinate's, not our models.
        context = MigrationContext.configure(
            conn, opts={"compare_type": False, "include_name": include_name}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_the_job_queue_schema_exists_on_postgresql_only(engine: Engine) -> None:
    from sqlalchemy import inspect

    tables = set(inspect(engine).get_table_names())
    assert "job_runs" in tables
    queue = {t for t in tables if t.startswith("procrastinate")}
    if engine.dialect.name == "postgresql":
        assert {"procrastinate_jobs", "procrastinate_periodic_defers"} <= queue
    else:
        assert queue == set()


def test_the_queue_schema_the_migration_carries_is_the_installed_procrastinates() -> None:
    """A procrastinate upgrade that changes its schema needs a migration of its own
    (applying procrastinate's SQL migrations); this test says when."""
    from procrastinate.schema import SchemaManager

    from ketaclinic.platform import job_queue

    assert job_queue.schema_sql() == SchemaManager.get_schema()


def test_every_foreign_key_leads_an_index() -> None:
    """A parent's read of its children, and every check of a delete, finds them by
    index rather than by scanning years of rows."""
    load_all()
    unindexed = []
    for table in Base.metadata.tables.values():
        leading = {next(iter(ix.columns)).name for ix in table.indexes}
        leading |= {
            next(iter(c.columns)).name
            for c in table.constraints
            if isinstance(c, (UniqueConstraint, PrimaryKeyConstraint)) and c.columns
        }
        leading |= {c.name for c in table.columns if c.unique}
        unindexed += [
            f"{table.name}.{fk.parent.name}"
            for fk in table.foreign_keys
            if fk.parent.name not in leading
        ]
    assert sorted(unindexed) == [], sorted(unindexed)
