from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ketaclinic.platform.db import Base, UTCDateTime, utcnow


class ClinicOverride(Base):
    """A clinic's replacement of one field of one default row of a clinical table."""

    __tablename__ = "clinic_overrides"
    __table_args__ = (Index("ix_clinic_overrides_table_active", "table_key", "retired_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    table_key: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(80))
    field: Mapped[str] = mapped_column(String(80))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    default_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_by: Mapped[str | None] = mapped_column(String(80))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retire_reason: Mapped[str | None] = mapped_column(Text)
