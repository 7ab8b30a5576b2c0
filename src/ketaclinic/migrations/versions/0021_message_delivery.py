"""messages that reach people: staff alert preferences, patients' contact preferences and
consent to text messages (when and by whom), retries with a next try, reminders

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 01:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "alert_preference", sa.String(length=10), nullable=False, server_default="email"
            )
        )
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "contact_preference", sa.String(length=10), nullable=False, server_default="email"
            )
        )
        batch_op.add_column(sa.Column("text_consent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("text_consent_by", sa.String(length=80), nullable=True))
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("remind", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("reminder_of_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("reminder_number", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("cancelled_by", sa.String(length=80), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_messages_reminder_of_id_outbox_messages"),
            "outbox_messages",
            ["reminder_of_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_messages_reminder_of_id"), ["reminder_of_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_messages_reminder_of_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_messages_reminder_of_id_outbox_messages"), type_="foreignkey"
        )
        batch_op.drop_column("cancelled_by")
        batch_op.drop_column("reminder_number")
        batch_op.drop_column("reminder_of_id")
        batch_op.drop_column("remind")
        batch_op.drop_column("next_attempt_at")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("text_consent_by")
        batch_op.drop_column("text_consent_at")
        batch_op.drop_column("contact_preference")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("alert_preference")
