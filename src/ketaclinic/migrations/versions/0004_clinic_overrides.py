"""clinic overrides of clinical defaults

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ketaclinic.platform.db

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clinic_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_key", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=80), nullable=False),
        sa.Column("field", sa.String(length=80), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("default_value", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_by", sa.String(length=80), nullable=True),
        sa.Column("retired_at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("retire_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_overrides")),
    )
    with op.batch_alter_table("clinic_overrides", schema=None) as batch_op:
        batch_op.create_index(
            "ix_clinic_overrides_table_active", ["table_key", "retired_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("clinic_overrides", schema=None) as batch_op:
        batch_op.drop_index("ix_clinic_overrides_table_active")
    op.drop_table("clinic_overrides")
