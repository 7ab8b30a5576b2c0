"""money: price list and prices by date, packages and memberships, charges, payments and
refunds, adjustments, insurers, good-faith estimates

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 01:06:21.491413
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ketaclinic.platform.db

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "billing_services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("protocol_id", sa.String(length=60), nullable=True),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_services")),
        sa.UniqueConstraint("key", name=op.f("uq_billing_services_key")),
    )
    op.create_table(
        "billing_coverages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("payer_name", sa.String(length=120), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("member_id", sa.String(length=80), nullable=False),
        sa.Column("group_number", sa.String(length=50), nullable=True),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_billing_coverages_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_coverages")),
    )
    with op.batch_alter_table("billing_coverages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_billing_coverages_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "billing_package_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column(
            "price_cents", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["billing_services.id"],
            name=op.f("fk_billing_package_plans_service_id_billing_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_package_plans")),
    )
    with op.batch_alter_table("billing_package_plans", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_billing_package_plans_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "billing_service_prices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column(
            "amount_cents", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=80), nullable=False),
        sa.Column("set_at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["billing_services.id"],
            name=op.f("fk_billing_service_prices_service_id_billing_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_service_prices")),
    )
    with op.batch_alter_table("billing_service_prices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_billing_service_prices_service_from", ["service_id", "effective_from"], unique=False
        )

    op.create_table(
        "billing_estimates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("recipient_name", sa.String(length=200), nullable=False),
        sa.Column("recipient_email", sa.String(length=254), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("service_key", sa.String(length=60), nullable=True),
        sa.Column("requested", sa.Boolean(), nullable=False),
        sa.Column("asked_on", sa.Date(), nullable=False),
        sa.Column("service_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("due_reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column(
            "total_cents", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("diagnoses", sa.JSON(), nullable=False),
        sa.Column("issued_by", sa.String(length=80), nullable=True),
        sa.Column("issued_at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["intake_leads.id"], name=op.f("fk_billing_estimates_lead_id_intake_leads")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_billing_estimates_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_estimates")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_billing_estimates_token_hash")),
    )
    with op.batch_alter_table("billing_estimates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_billing_estimates_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_billing_estimates_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index("ix_billing_estimates_status_due", ["status", "due_on"], unique=False)

    op.create_table(
        "billing_patient_packages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column(
            "price_cents", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("bought_on", sa.Date(), nullable=False),
        sa.Column("sold_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_billing_patient_packages_patient_id_patients"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["billing_package_plans.id"],
            name=op.f("fk_billing_patient_packages_plan_id_billing_package_plans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_patient_packages")),
    )
    with op.batch_alter_table("billing_patient_packages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_billing_patient_packages_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_billing_patient_packages_plan_id"), ["plan_id"], unique=False
        )

    op.create_table(
        "billing_charges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("package_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("service_on", sa.Date(), nullable=False),
        sa.Column(
            "amount_cents", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "billed_cents", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("diagnoses", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["billing_patient_packages.id"],
            name=op.f("fk_billing_charges_package_id_billing_patient_packages"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_billing_charges_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["billing_services.id"],
            name=op.f("fk_billing_charges_service_id_billing_services"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["infusion_sessions.id"],
            name=op.f("fk_billing_charges_session_id_infusion_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_charges")),
        sa.UniqueConstraint("session_id", name=op.f("uq_billing_charges_session_id")),
    )
    with op.batch_alter_table("billing_charges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_billing_charges_package_id"), ["package_id"], unique=False
        )
        batch_op.create_index(
            "ix_billing_charges_patient_on", ["patient_id", "service_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_billing_charges_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "billing_adjustments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("charge_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column(
            "amount_cents", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("made_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_id"],
            ["billing_charges.id"],
            name=op.f("fk_billing_adjustments_charge_id_billing_charges"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_billing_adjustments_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_adjustments")),
    )
    with op.batch_alter_table("billing_adjustments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_billing_adjustments_charge_id"), ["charge_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_billing_adjustments_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "billing_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("charge_id", sa.Integer(), nullable=True),
        sa.Column("package_id", sa.Integer(), nullable=True),
        sa.Column("refund_of_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=12), nullable=False),
        sa.Column(
            "amount_cents", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("received_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_id"],
            ["billing_charges.id"],
            name=op.f("fk_billing_payments_charge_id_billing_charges"),
        ),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["billing_patient_packages.id"],
            name=op.f("fk_billing_payments_package_id_billing_patient_packages"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_billing_payments_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["refund_of_id"],
            ["billing_payments.id"],
            name=op.f("fk_billing_payments_refund_of_id_billing_payments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_payments")),
    )
    with op.batch_alter_table("billing_payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_billing_payments_charge_id"), ["charge_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_billing_payments_package_id"), ["package_id"], unique=False
        )
        batch_op.create_index(
            "ix_billing_payments_patient_on", ["patient_id", "received_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_billing_payments_refund_of_id"), ["refund_of_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("billing_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_billing_payments_refund_of_id"))
        batch_op.drop_index("ix_billing_payments_patient_on")
        batch_op.drop_index(batch_op.f("ix_billing_payments_package_id"))
        batch_op.drop_index(batch_op.f("ix_billing_payments_charge_id"))

    op.drop_table("billing_payments")
    with op.batch_alter_table("billing_adjustments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_billing_adjustments_patient_id"))
        batch_op.drop_index(batch_op.f("ix_billing_adjustments_charge_id"))

    op.drop_table("billing_adjustments")
    with op.batch_alter_table("billing_charges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_billing_charges_service_id"))
        batch_op.drop_index("ix_billing_charges_patient_on")
        batch_op.drop_index(batch_op.f("ix_billing_charges_package_id"))

    op.drop_table("billing_charges")
    with op.batch_alter_table("billing_patient_packages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_billing_patient_packages_plan_id"))
        batch_op.drop_index(batch_op.f("ix_billing_patient_packages_patient_id"))

    op.drop_table("billing_patient_packages")
    with op.batch_alter_table("billing_estimates", schema=None) as batch_op:
        batch_op.drop_index("ix_billing_estimates_status_due")
        batch_op.drop_index(batch_op.f("ix_billing_estimates_patient_id"))
        batch_op.drop_index(batch_op.f("ix_billing_estimates_lead_id"))

    op.drop_table("billing_estimates")
    with op.batch_alter_table("billing_service_prices", schema=None) as batch_op:
        batch_op.drop_index("ix_billing_service_prices_service_from")

    op.drop_table("billing_service_prices")
    with op.batch_alter_table("billing_package_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_billing_package_plans_service_id"))

    op.drop_table("billing_package_plans")
    with op.batch_alter_table("billing_coverages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_billing_coverages_patient_id"))

    op.drop_table("billing_coverages")
    op.drop_table("billing_services")
