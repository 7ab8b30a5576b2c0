"""a reading keeps the mean non-invasive blood pressure and the body temperature a
bedside monitor sends (MDC 150023 and 150344)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 01:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable columns with no default: instant on PostgreSQL whatever the table's size.
    with op.batch_alter_table("vital_signs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mean_bp", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("temperature", sa.Numeric(4, 1), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vital_signs", schema=None) as batch_op:
        batch_op.drop_column("temperature")
        batch_op.drop_column("mean_bp")
