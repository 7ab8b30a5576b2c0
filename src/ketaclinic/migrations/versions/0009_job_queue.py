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
QUEUE_DROP = Path(__file__).with_name("0009_procrastinate_drop.sql")


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
        _psycopg(bind).execute(QUEUE_DROP.read_text())
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("claimed_by")
    op.drop_table("job_runs")
