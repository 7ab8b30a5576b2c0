"""public: intake leads and their handling events

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 06:21:41.784901
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ketaclinic.platform.db

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intake_leads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("preferred_contact", sa.String(length=10), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("consent_to_contact", sa.Boolean(), nullable=False),
        sa.Column("route", sa.String(length=20), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("verdict", sa.String(length=40), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("handled_by", sa.String(length=80), nullable=True),
        sa.Column("handled_at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_intake_leads_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_leads")),
    )
    with op.batch_alter_table("intake_leads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_leads_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            "ix_intake_leads_status_created", ["status", "created_at"], unique=False
        )

    op.create_table(
        "intake_lead_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=80), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["intake_leads.id"],
            name=op.f("fk_intake_lead_events_lead_id_intake_leads"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_lead_events")),
    )
    with op.batch_alter_table("intake_lead_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_lead_events_lead_id"), ["lead_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("intake_lead_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_lead_events_lead_id"))
    op.drop_table("intake_lead_events")
    with op.batch_alter_table("intake_leads", schema=None) as batch_op:
        batch_op.drop_index("ix_intake_leads_status_created")
        batch_op.drop_index(batch_op.f("ix_intake_leads_patient_id"))
    op.drop_table("intake_leads")
