"""API tokens may be scoped (FHIR read, FHIR write, bulk export) and bound to one
patient, for the FHIR interface

Revision ID: 0019
Revises: 0014
Create Date: 2026-12-02 01:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scopes", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("patient_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_api_tokens_patient_id_patients"), "patients", ["patient_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_api_tokens_patient_id"), ["patient_id"], unique=False)


def downgrade() -> None:
    # A scoped token would become an unscoped one: revoke them rather than widen them.
    op.execute(
        sa.text(
            "UPDATE api_tokens SET revoked_at = CURRENT_TIMESTAMP "
            "WHERE (scopes IS NOT NULL OR patient_id IS NOT NULL) AND revoked_at IS NULL"
        )
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_patient_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_api_tokens_patient_id_patients"), type_="foreignkey"
        )
        batch_op.drop_column("patient_id")
        batch_op.drop_column("scopes")
