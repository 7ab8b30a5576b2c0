"""The controlled-substance ledger's tables.

Quantities are whole thousandths of the unit a nurse counts (``*_milli``: 2500 is 2.5 mL
or 2.5 vials), so that a balance adds up exactly and "never below zero" is a plain
integer comparison in one conditional UPDATE.

``controlled_ledger_entries``, ``controlled_counts`` and ``controlled_inventories`` are
append-only: database triggers (migration 0015) refuse UPDATE and DELETE on both
backends, as for the audit trail. A correction is a new entry naming the wrong one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ketaclinic.platform.db import Base, UTCDateTime, utcnow

MILLI = 1000


class ControlledLocation(Base):
    """A clinic location holding stock; each has its own DEA registration (21 CFR
    1301.12(a): a separate registration for each principal place of business)."""

    __tablename__ = "controlled_locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    dea_number: Mapped[str] = mapped_column(String(9))
    address: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ControlledProduct(Base):
    """A stocked product: a racemic ketamine vial (strength and volume) or an esketamine
    nasal device. ``count_unit`` is what a nurse counts (vial, mL, device) and
    ``mg_per_unit`` the drug in one of them."""

    __tablename__ = "controlled_products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    substance: Mapped[str] = mapped_column(String(20))  # ketamine | esketamine
    strength_mg_per_ml: Mapped[float | None] = mapped_column(Float)
    volume_ml: Mapped[float | None] = mapped_column(Float)
    mg_per_unit: Mapped[float] = mapped_column(Float)
    count_unit: Mapped[str] = mapped_column(String(10))  # vial | mL | device
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ControlledLot(Base):
    """One lot of one product at one location, with its running balance (the one row a
    draw updates, conditionally, so two draws of the last unit cannot both succeed)."""

    __tablename__ = "controlled_lots"
    __table_args__ = (
        UniqueConstraint("location_id", "product_id", "lot_number", name="uq_controlled_lots"),
        Index("ix_controlled_lots_product_id", "product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("controlled_locations.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("controlled_products.id"))
    lot_number: Mapped[str] = mapped_column(String(40))
    expires_on: Mapped[date] = mapped_column(Date)
    balance_milli: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LedgerEntry(Base):
    """One act on a lot: receive, draw, administer, waste, destroy, return, transfer in
    or out, loss, adjustment (a resolved discrepancy), correction. Never changed."""

    __tablename__ = "controlled_ledger_entries"
    __table_args__ = (
        Index("ix_controlled_ledger_entries_location_at", "location_id", "at"),
        Index("ix_controlled_ledger_entries_lot_at", "lot_id", "at"),
        Index("ix_controlled_ledger_entries_session_id", "session_id"),
        Index("ix_controlled_ledger_entries_patient_id", "patient_id"),
        Index("ix_controlled_ledger_entries_refers_to_id", "refers_to_id"),
        Index("ix_controlled_ledger_entries_counterpart_location_id", "counterpart_location_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("controlled_locations.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("controlled_lots.id"))
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_by_name: Mapped[str] = mapped_column(String(200))
    # Signed change of the lot's balance, and the balance it left.
    units_milli: Mapped[int] = mapped_column(Integer, default=0)
    balance_after_milli: Mapped[int] = mapped_column(Integer)
    mg: Mapped[float | None] = mapped_column(Float)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("infusion_sessions.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    # Receipts and returns (21 CFR 1304.22(a)(2)(iv) and (c)): the other party.
    supplier: Mapped[str | None] = mapped_column(String(200))
    supplier_dea_number: Mapped[str | None] = mapped_column(String(9))
    reference: Mapped[str | None] = mapped_column(String(80))  # invoice / order form no.
    counterpart_location_id: Mapped[int | None] = mapped_column(
        ForeignKey("controlled_locations.id")
    )
    # The draw a waste empties, the entry a correction reverses, the transfer's other side.
    refers_to_id: Mapped[int | None] = mapped_column(ForeignKey("controlled_ledger_entries.id"))
    witnesses: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    method: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)


class StockCount(Base):
    """A count of one lot: who counted, what they found, what the balance said."""

    __tablename__ = "controlled_counts"
    __table_args__ = (
        Index("ix_controlled_counts_lot_at", "lot_id", "at"),
        Index("ix_controlled_counts_location_at", "location_id", "at"),
        Index("ix_controlled_counts_inventory_id", "inventory_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("controlled_locations.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("controlled_lots.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    occasion: Mapped[str] = mapped_column(String(20))  # shift_change|end_of_day|inventory
    counted_by: Mapped[str] = mapped_column(String(80))
    counted_by_name: Mapped[str] = mapped_column(String(200))
    expected_milli: Mapped[int] = mapped_column(Integer)
    found_milli: Mapped[int] = mapped_column(Integer)
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    inventory_id: Mapped[int | None] = mapped_column(ForeignKey("controlled_inventories.id"))
    note: Mapped[str | None] = mapped_column(Text)


class Discrepancy(Base):
    """A count that differed from the balance: open until a prescriber or admin resolves
    it with a reason (the resolution's adjustment entry brings the balance to the count)."""

    __tablename__ = "controlled_discrepancies"
    __table_args__ = (
        Index("ix_controlled_discrepancies_status", "status"),
        Index("ix_controlled_discrepancies_lot_id", "lot_id"),
        Index("ix_controlled_discrepancies_location_id", "location_id"),
        Index("ix_controlled_discrepancies_adjustment_id", "adjustment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    count_id: Mapped[int] = mapped_column(ForeignKey("controlled_counts.id"), unique=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("controlled_lots.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("controlled_locations.id"))
    difference_milli: Mapped[int] = mapped_column(Integer)  # found - expected
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | resolved
    resolved_by: Mapped[str | None] = mapped_column(String(80))
    resolved_by_name: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)
    adjustment_id: Mapped[int | None] = mapped_column(ForeignKey("controlled_ledger_entries.id"))


class Inventory(Base):
    """An initial or biennial inventory (21 CFR 1304.11): a guided count of every lot of
    a location, signed, with its printed text frozen."""

    __tablename__ = "controlled_inventories"
    __table_args__ = (Index("ix_controlled_inventories_location_taken", "location_id", "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("controlled_locations.id"))
    kind: Mapped[str] = mapped_column(String(20))  # initial | biennial
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    business_hours: Mapped[str] = mapped_column(String(10))  # opening | close
    taken_by: Mapped[str] = mapped_column(String(80))
    signed_by_name: Mapped[str] = mapped_column(String(200))
    signature_meaning: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str] = mapped_column(Text)


class LossReport(Base):
    """A theft or significant loss: the data of DEA Form 106 and the one-business-day
    written notice to the Field Division (21 CFR 1301.76(b))."""

    __tablename__ = "controlled_loss_reports"
    __table_args__ = (Index("ix_controlled_loss_reports_location_id", "location_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("controlled_locations.id"))
    kind: Mapped[str] = mapped_column(String(20))  # theft | significant_loss
    discovered_on: Mapped[date] = mapped_column(Date)
    notice_due_on: Mapped[date] = mapped_column(Date)
    circumstances: Mapped[str] = mapped_column(Text)
    police_report: Mapped[str | None] = mapped_column(String(120))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    reported_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notified_by: Mapped[str | None] = mapped_column(String(80))
    notice_reference: Mapped[str | None] = mapped_column(String(120))


APPEND_ONLY = ("controlled_ledger_entries", "controlled_counts", "controlled_inventories")
