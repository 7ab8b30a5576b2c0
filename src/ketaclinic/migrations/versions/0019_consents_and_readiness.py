"""consent documents (versioned texts), patients' signatures on them, and the
day-before readiness checks patients answer by link

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 01:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ketaclinic.platform.db

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = ketaclinic.platform.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "consent_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("needs_witness", sa.Boolean(), nullable=False),
        sa.Column("typed_name_suffices", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "version", name="uq_consent_documents_version"),
    )
    op.create_table(
        "consent_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("document_kind", sa.String(length=40), nullable=False),
        sa.Column("document_version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("typed_name", sa.String(length=200), nullable=False),
        sa.Column("signature_png", sa.LargeBinary(), nullable=True),
        sa.Column("signed_at", _TIME, nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("witness_username", sa.String(length=80), nullable=True),
        sa.Column("witness_name", sa.String(length=200), nullable=True),
        sa.Column("witnessed_at", _TIME, nullable=True),
        sa.Column("revoked_at", _TIME, nullable=True),
        sa.Column("revoked_by", sa.String(length=80), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["consent_documents.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_consent_signatures_document", "consent_signatures", ["document_id"], unique=False
    )
    op.create_index(
        "ix_consent_signatures_patient_kind",
        "consent_signatures",
        ["patient_id", "document_kind"],
        unique=False,
    )
    op.create_table(
        "readiness_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("route", sa.String(length=20), nullable=False),
        sa.Column("starts_at", _TIME, nullable=False),
        sa.Column("outbox_message_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("link_expires_at", _TIME, nullable=True),
        sa.Column("answers", sa.JSON(), nullable=True),
        sa.Column("answered_at", _TIME, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointments.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("appointment_id", name="uq_readiness_checks_appointment"),
    )
    op.create_index("ix_readiness_checks_patient", "readiness_checks", ["patient_id"], unique=False)
    op.create_index("ix_readiness_checks_starts", "readiness_checks", ["starts_at"], unique=False)
    op.create_index("ix_readiness_checks_token", "readiness_checks", ["token_hash"], unique=False)
    op.create_table(
        "consent_tablet_handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("used_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["consent_documents.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_consent_tablet_handovers_document",
        "consent_tablet_handovers",
        ["document_id"],
        unique=False,
    )
    op.create_index(
        "ix_consent_tablet_handovers_patient",
        "consent_tablet_handovers",
        ["patient_id"],
        unique=False,
    )
    op.create_index(
        "ix_consent_tablet_handovers_token",
        "consent_tablet_handovers",
        ["token_hash"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_consent_tablet_handovers_token", table_name="consent_tablet_handovers")
    op.drop_index("ix_consent_tablet_handovers_patient", table_name="consent_tablet_handovers")
    op.drop_index("ix_consent_tablet_handovers_document", table_name="consent_tablet_handovers")
    op.drop_table("consent_tablet_handovers")
    op.drop_index("ix_readiness_checks_token", table_name="readiness_checks")
    op.drop_index("ix_readiness_checks_starts", table_name="readiness_checks")
    op.drop_index("ix_readiness_checks_patient", table_name="readiness_checks")
    op.drop_table("readiness_checks")
    op.drop_index("ix_consent_signatures_patient_kind", table_name="consent_signatures")
    op.drop_index("ix_consent_signatures_document", table_name="consent_signatures")
    op.drop_table("consent_signatures")
    op.drop_table("consent_documents")
