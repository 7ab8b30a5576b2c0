"""bedside monitors: session device bindings, HL7 messages charted and dead letters

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-01 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ketaclinic.platform.db

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = ketaclinic.platform.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "session_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=120), nullable=False),
        sa.Column("bound_by", sa.String(length=80), nullable=False),
        sa.Column("bound_at", _TIME, nullable=False),
        sa.Column("unbound_by", sa.String(length=80), nullable=True),
        sa.Column("unbound_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["infusion_sessions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_session_devices_device", "session_devices", ["device_id", "unbound_at"], unique=False
    )
    op.create_index(
        "ix_session_devices_session_id", "session_devices", ["session_id"], unique=False
    )
    op.create_table(
        "hl7_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=180), nullable=False),
        sa.Column("control_id", sa.String(length=199), nullable=False),
        sa.Column("device_id", sa.String(length=120), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("readings", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("received_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["infusion_sessions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender", "control_id", name="uq_hl7_messages_sender_control"),
    )
    op.create_index("ix_hl7_messages_session", "hl7_messages", ["session_id"], unique=False)
    op.create_table(
        "hl7_dead_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("ack_code", sa.String(length=2), nullable=False),
        sa.Column("error_code", sa.String(length=4), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("sender", sa.String(length=180), nullable=True),
        sa.Column("control_id", sa.String(length=199), nullable=True),
        sa.Column("device_id", sa.String(length=120), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("peer", sa.String(length=80), nullable=True),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=80), nullable=True),
        sa.Column("reviewed_at", _TIME, nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_hl7_dead_letters_reviewed",
        "hl7_dead_letters",
        ["reviewed_at", "received_at"],
        unique=False,
    )
    op.create_index(
        "ix_hl7_dead_letters_patient_id", "hl7_dead_letters", ["patient_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_hl7_dead_letters_reviewed", table_name="hl7_dead_letters")
    op.drop_table("hl7_dead_letters")
    op.drop_index("ix_hl7_messages_session", table_name="hl7_messages")
    op.drop_table("hl7_messages")
    op.drop_index("ix_session_devices_device", table_name="session_devices")
    op.drop_table("session_devices")
