"""Alembic environment: the URL comes from the config set by ketaclinic.platform.migrate."""

from __future__ import annotations

from alembic import context

from ketaclinic.platform.db import Base, make_engine
from ketaclinic.platform.model_registry import load_all

load_all()
target_metadata = Base.metadata
url = context.config.get_main_option("sqlalchemy.url") or ""


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """The job queue's own tables (procrastinate, PostgreSQL only) are not our models."""
    return not (type_ == "table" and (name or "").startswith("procrastinate"))


def run_migrations_offline() -> None:
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
