from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ketaclinic.platform.db import Base, UTCDateTime, utcnow


class Chair(Base):
    """A treatment chair or room."""

    __tablename__ = "chairs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="chair")  # chair|room
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    notes: Mapped[str | None] = mapped_column(Text)


class StaffAvailability(Base):
    """A span when a staff member (usually a nurse) is on duty."""

    __tablename__ = "staff_availability"
    __table_args__ = (Index("ix_staff_availability_user_start", "user_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Appointment(Base):
    """A booked visit: chair and nurse held from ``starts_at`` to ``ends_at`` (treatment
    plus recovery)."""

    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_chair_start", "chair_id", "starts_at"),
        Index("ix_appointments_nurse_start", "nurse_user_id", "starts_at"),
        Index("ix_appointments_patient_start", "patient_id", "starts_at"),
        # The day and week calendars of every chair and nurse.
        Index("ix_appointments_start", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("chairs.id"))
    nurse_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    planned_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("planned_sessions.id"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))  # infusion|esketamine|consultation
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    treatment_min: Mapped[int] = mapped_column(Integer)
    recovery_min: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="booked")
    # booked|checked_in|completed|cancelled|no_show
    booked_by: Mapped[str] = mapped_column(String(80))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancelled_by: Mapped[str | None] = mapped_column(String(80))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # Day-before confirmation: {"fasting": bool, "ride_home": bool,
    # "no_nasal_decongestant": bool | None, "note": str}
    confirmation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    confirmed_by: Mapped[str | None] = mapped_column(String(80))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notes: Mapped[str | None] = mapped_column(Text)
