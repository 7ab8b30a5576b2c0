"""A FHIR bulk export remembers its _since, how often it was tried, and when its files
expire

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 06:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ketaclinic.platform.db import UTCDateTime

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fhir_exports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("since", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_fhir_exports_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fhir_exports", schema=None) as batch_op:
        batch_op.drop_index("ix_fhir_exports_expires_at")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("since")
