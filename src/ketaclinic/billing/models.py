"""The clinic's money: price list, packages, charges, payments, adjustments, estimates.

Every amount is an integer number of cents. A patient's balance is always
``sum(charges) - sum(payments) - sum(adjustments)``: refunds are payments with a
negative amount, discounts and write-offs are adjustments with a reason, and nothing
is ever updated in place to change money (a correction is a new row)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ketaclinic.platform.db import Base, UTCDateTime, utcnow

SERVICE_KINDS = ("consultation", "iv_infusion", "esketamine", "booster", "integration", "other")
PAYMENT_METHODS = ("cash", "card", "cheque", "financing")
Cents = BigInteger().with_variant(Integer(), "sqlite")


class PricedService(Base):
    """One service on the price list; its price is the latest ``ServicePrice`` in force."""

    __tablename__ = "billing_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    # The treatment protocol whose sessions this service charges (None: charged by hand).
    protocol_id: Mapped[str | None] = mapped_column(String(60))
    codes: Mapped[list[str]] = mapped_column(JSON, default=list)  # billing.codes ids
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ServicePrice(Base):
    """A price from a day on: a session is charged at the price of its day."""

    __tablename__ = "billing_service_prices"
    __table_args__ = (
        Index("ix_billing_service_prices_service_from", "service_id", "effective_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("billing_services.id"))
    amount_cents: Mapped[int] = mapped_column(Cents)
    effective_from: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    set_by: Mapped[str] = mapped_column(String(80))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PackagePlan(Base):
    """A package (a series of N sessions at one price) or a membership (N sessions a
    month at a monthly price) the clinic sells."""

    __tablename__ = "billing_package_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12))  # package|membership
    service_id: Mapped[int] = mapped_column(ForeignKey("billing_services.id"), index=True)
    sessions: Mapped[int] = mapped_column(Integer)
    price_cents: Mapped[int] = mapped_column(Cents)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PatientPackage(Base):
    """A package (or one month of a membership) a patient bought: its price is charged
    once, and each session drawn from it is charged nothing more."""

    __tablename__ = "billing_patient_packages"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("billing_package_plans.id"), index=True)
    sessions: Mapped[int] = mapped_column(Integer)
    price_cents: Mapped[int] = mapped_column(Cents)
    bought_on: Mapped[date] = mapped_column(Date)
    sold_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Charge(Base):
    """What the patient owes for one thing: a session given, a package bought, a service
    charged by hand. ``amount_cents`` counts towards the balance; ``billed_cents`` is what
    the superbill and the claim show for it (a session drawn from a package owes nothing
    more, but is billed at its share of the package)."""

    __tablename__ = "billing_charges"
    __table_args__ = (Index("ix_billing_charges_patient_on", "patient_id", "service_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("billing_services.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("infusion_sessions.id"), unique=True)
    package_id: Mapped[int | None] = mapped_column(
        ForeignKey("billing_patient_packages.id"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))  # session|package|service
    description: Mapped[str] = mapped_column(String(300))
    service_on: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(Cents)
    billed_cents: Mapped[int] = mapped_column(Cents)
    # [{"code": "96365", "units": 1, "modifiers": [], "note": null, "system": "CPT"}]
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    diagnoses: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Payment(Base):
    """Money received (or, negative, refunded). The card itself is charged outside
    ketaclinic: ``reference`` holds the terminal's receipt number or the cheque's."""

    __tablename__ = "billing_payments"
    __table_args__ = (Index("ix_billing_payments_patient_on", "patient_id", "received_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    charge_id: Mapped[int | None] = mapped_column(ForeignKey("billing_charges.id"), index=True)
    package_id: Mapped[int | None] = mapped_column(
        ForeignKey("billing_patient_packages.id"), index=True
    )
    refund_of_id: Mapped[int | None] = mapped_column(ForeignKey("billing_payments.id"), index=True)
    method: Mapped[str] = mapped_column(String(12))
    amount_cents: Mapped[int] = mapped_column(Cents)
    received_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
    received_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Adjustment(Base):
    """A discount, write-off or correction: lowers (or, negative, raises) the balance,
    always with its reason."""

    __tablename__ = "billing_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    charge_id: Mapped[int | None] = mapped_column(ForeignKey("billing_charges.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # discount|write_off|correction
    amount_cents: Mapped[int] = mapped_column(Cents)
    reason: Mapped[str] = mapped_column(Text)
    made_on: Mapped[date] = mapped_column(Date)
    made_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Coverage(Base):
    """The insurer a patient's claims go to (Spravato and clinics that bill infusions)."""

    __tablename__ = "billing_coverages"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    payer_name: Mapped[str] = mapped_column(String(120))
    payer_id: Mapped[str] = mapped_column(String(80))
    member_id: Mapped[str] = mapped_column(String(80))
    group_number: Mapped[str | None] = mapped_column(String(50))
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Estimate(Base):
    """A good-faith estimate: asked for (by a lead or a patient) or owed because a
    service was scheduled; issued once, with its items frozen."""

    __tablename__ = "billing_estimates"
    __table_args__ = (Index("ix_billing_estimates_status_due", "status", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("intake_leads.id"), index=True)
    recipient_name: Mapped[str] = mapped_column(String(200))
    recipient_email: Mapped[str | None] = mapped_column(String(254))
    # The person who asked on the public page reads it back by a secret link: only the
    # token's SHA-256 is kept.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    service_key: Mapped[str | None] = mapped_column(String(60))
    requested: Mapped[bool] = mapped_column(Boolean)
    asked_on: Mapped[date] = mapped_column(Date)
    service_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    due_reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="due")  # due|issued
    # [{"description", "codes": [...], "quantity", "unit_cents", "total_cents"}]
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    total_cents: Mapped[int] = mapped_column(Cents, default=0)
    diagnoses: Mapped[list[str]] = mapped_column(JSON, default=list)
    issued_by: Mapped[str | None] = mapped_column(String(80))
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
