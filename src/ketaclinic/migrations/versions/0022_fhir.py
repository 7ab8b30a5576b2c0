"""API tokens may be scoped (FHIR read, FHIR write, bulk export) and bound to one
patient, for the FHIR interface; FHIR Bundles imported, and the facts they brought

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 01:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ketaclinic.platform.db import UTCDateTime

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
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
    op.create_table(
        "fhir_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("bundle_type", sa.String(length=20), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(length=80), nullable=False),
        sa.Column("imported_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_fhir_imports_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_imports")),
    )
    op.create_index(op.f("ix_fhir_imports_patient_id"), "fhir_imports", ["patient_id"])
    op.create_table(
        "fhir_imported_facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("system", sa.String(length=200), nullable=True),
        sa.Column("code", sa.String(length=60), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("second_value", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=30), nullable=True),
        sa.Column("effective", sa.String(length=40), nullable=True),
        sa.Column("source_entry", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["fhir_imports.id"],
            name=op.f("fk_fhir_imported_facts_import_id_fhir_imports"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_fhir_imported_facts_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_imported_facts")),
    )
    op.create_index(op.f("ix_fhir_imported_facts_import_id"), "fhir_imported_facts", ["import_id"])
    op.create_index(
        "ix_fhir_imported_facts_patient_kind", "fhir_imported_facts", ["patient_id", "kind"]
    )

    _TIME = UTCDateTime(timezone=True)
    op.create_table(
        "fhir_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=True),
        sa.Column("types", sa.String(length=400), nullable=False),
        sa.Column("deidentified", sa.Boolean(), nullable=False),
        sa.Column("request_url", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("roles", sa.String(length=200), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", _TIME, nullable=False),
        sa.Column("completed_at", _TIME, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_fhir_exports_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"], name=op.f("fk_fhir_exports_token_id_api_tokens")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_fhir_exports_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_exports")),
    )
    op.create_index("ix_fhir_exports_status", "fhir_exports", ["status", "requested_at"])
    op.create_index(op.f("ix_fhir_exports_user_id"), "fhir_exports", ["user_id"])
    op.create_index(op.f("ix_fhir_exports_token_id"), "fhir_exports", ["token_id"])
    op.create_index(op.f("ix_fhir_exports_patient_id"), "fhir_exports", ["patient_id"])
    op.create_table(
        "fhir_export_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("resource_type", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("ndjson", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["export_id"],
            ["fhir_exports.id"],
            name=op.f("fk_fhir_export_files_export_id_fhir_exports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_export_files")),
    )
    op.create_index(op.f("ix_fhir_export_files_export_id"), "fhir_export_files", ["export_id"])


def downgrade() -> None:
    op.drop_table("fhir_export_files")
    op.drop_table("fhir_exports")
    op.drop_table("fhir_imported_facts")
    op.drop_table("fhir_imports")
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
