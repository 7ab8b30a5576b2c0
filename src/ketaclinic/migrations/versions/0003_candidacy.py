"""intakes and candidacy decisions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 06:19:40.203030
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ketaclinic.platform.db

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intakes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("correction_reason", sa.Text(), nullable=True),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("route", sa.String(length=30), nullable=False),
        sa.Column("protocol_id", sa.String(length=60), nullable=True),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("medications", sa.JSON(), nullable=False),
        sa.Column("allergies", sa.JSON(), nullable=False),
        sa.Column("vitals", sa.JSON(), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=True),
        sa.Column("height_cm", sa.Float(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_intakes_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["intakes.id"], name=op.f("fk_intakes_supersedes_id_intakes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intakes")),
    )
    with op.batch_alter_table("intakes", schema=None) as batch_op:
        batch_op.create_index("ix_intakes_patient_id_desc", ["patient_id", "id"], unique=False)

    op.create_table(
        "candidacy_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("intake_id", sa.Integer(), nullable=False),
        sa.Column("route", sa.String(length=30), nullable=False),
        sa.Column("computed_verdict", sa.String(length=40), nullable=False),
        sa.Column("final_verdict", sa.String(length=40), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("rule_ids", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=False),
        sa.Column("decided_at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["intake_id"], ["intakes.id"], name=op.f("fk_candidacy_decisions_intake_id_intakes")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_candidacy_decisions_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidacy_decisions")),
    )
    with op.batch_alter_table("candidacy_decisions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_candidacy_decisions_patient_id_desc", ["patient_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("candidacy_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_candidacy_decisions_patient_id_desc")

    op.drop_table("candidacy_decisions")
    with op.batch_alter_table("intakes", schema=None) as batch_op:
        batch_op.drop_index("ix_intakes_patient_id_desc")

    op.drop_table("intakes")
