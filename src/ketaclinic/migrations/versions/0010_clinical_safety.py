"""clinical safety: prescriber calls, alerts for a self-screen lead, signature meaning

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 21:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ketaclinic.platform.db

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = ketaclinic.platform.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "prescriber_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=True),
        sa.Column("vital_sign_id", _BIG_ID, nullable=True),
        sa.Column("rule_id", sa.String(length=60), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("prescriber", sa.String(length=80), nullable=True),
        sa.Column("notified", sa.JSON(), nullable=False),
        sa.Column("raised_at", _TIME, nullable=False),
        sa.Column("raised_by", sa.String(length=80), nullable=False),
        sa.Column("respond_within_min", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answered_at", _TIME, nullable=True),
        sa.Column("answered_by", sa.String(length=80), nullable=True),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.Column("response_note", sa.Text(), nullable=True),
        sa.Column("escalated_at", _TIME, nullable=True),
        sa.Column("escalated_to", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alarm_id"],
            ["session_alarms.id"],
            name=op.f("fk_prescriber_calls_alarm_id_session_alarms"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_prescriber_calls_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["infusion_sessions.id"],
            name=op.f("fk_prescriber_calls_session_id_infusion_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["vital_sign_id"],
            ["vital_signs.id"],
            name=op.f("fk_prescriber_calls_vital_sign_id_vital_signs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescriber_calls")),
        sa.UniqueConstraint("alarm_id", name=op.f("uq_prescriber_calls_alarm_id")),
        sa.UniqueConstraint(
            "session_id", "vital_sign_id", "rule_id", name=op.f("uq_prescriber_calls_session_id")
        ),
    )
    with op.batch_alter_table("prescriber_calls", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prescriber_calls_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_prescriber_calls_session_id"), ["session_id"], unique=False
        )
        batch_op.create_index(
            "ix_prescriber_calls_status_raised", ["status", "raised_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_prescriber_calls_vital_sign_id"), ["vital_sign_id"], unique=False
        )

    # A self-screen lead who reports suicidal thoughts gets an alert before being a patient.
    with op.batch_alter_table("suicidality_alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lead_id", sa.Integer(), nullable=True))
        batch_op.alter_column("patient_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_suicidality_alerts_lead_id_intake_leads"),
            "intake_leads",
            ["lead_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_suicidality_alerts_lead_id"), ["lead_id"], unique=False
        )

    # 21 CFR 11.50: a signature shows the printed name, the time and its meaning.
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signed_by_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("signature_meaning", sa.String(length=200), nullable=True))
    with op.batch_alter_table("session_notes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signature_meaning", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("cosignature_meaning", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("session_notes", schema=None) as batch_op:
        batch_op.drop_column("cosignature_meaning")
        batch_op.drop_column("signature_meaning")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("signature_meaning")
        batch_op.drop_column("signed_by_name")
    op.execute(
        "DELETE FROM outbox_messages WHERE alert_id IN "
        "(SELECT id FROM suicidality_alerts WHERE patient_id IS NULL)"
    )
    op.execute("DELETE FROM suicidality_alerts WHERE patient_id IS NULL")
    with op.batch_alter_table("suicidality_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suicidality_alerts_lead_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_suicidality_alerts_lead_id_intake_leads"), type_="foreignkey"
        )
        batch_op.alter_column("patient_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("lead_id")
    with op.batch_alter_table("prescriber_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_prescriber_calls_status_raised")
        batch_op.drop_index(batch_op.f("ix_prescriber_calls_session_id"))
        batch_op.drop_index(batch_op.f("ix_prescriber_calls_patient_id"))
    op.drop_table("prescriber_calls")
