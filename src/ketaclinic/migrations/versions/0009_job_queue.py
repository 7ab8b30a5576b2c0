"""job queue: leases of in-process jobs, outbox claims, procrastinate's schema on PostgreSQL

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 18:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

import ketaclinic.platform.db

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# procrastinate 3.10's schema, kept beside this migration so that a fresh clinic gets the
# same queue whatever procrastinate is installed; a later procrastinate that changes it
# comes with SQL migrations of its own, applied by a later migration.
QUEUE_SCHEMA = Path(__file__).with_name("0009_procrastinate.sql")


def _psycopg(bind: sa.Connection) -> Any:
    """The psycopg connection under Alembic's, in the same transaction."""
    driver = bind.connection.driver_connection
    assert driver is not None
    return driver


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("lease_owner", sa.String(length=120), nullable=True),
        sa.Column("lease_until", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "last_started_at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "last_finished_at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_result", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_runs")),
    )
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=120), nullable=True))
        batch.add_column(
            sa.Column(
                "claimed_at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=True
            )
        )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Through psycopg itself: the schema is many statements with dollar-quoted bodies.
        _psycopg(bind).execute(QUEUE_SCHEMA.read_text(encoding="utf-8"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _psycopg(bind).execute(
            """
            DO $$
            DECLARE thing record;
            BEGIN
                FOR thing IN SELECT tablename FROM pg_tables
                    WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate%'
                LOOP
                    EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', thing.tablename);
                END LOOP;
                FOR thing IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                    JOIN pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%'
                LOOP
                    EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', thing.signature);
                END LOOP;
                FOR thing IN SELECT t.typname FROM pg_type t
                    JOIN pg_namespace n ON n.oid = t.typnamespace
                    WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate%'
                        AND t.typtype IN ('e', 'c')
                LOOP
                    EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', thing.typname);
                END LOOP;
            END $$;
            """
        )
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("claimed_by")
    op.drop_table("job_runs")
