from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ketaclinic.platform.db import Base, UTCDateTime, utcnow

LEAD_STATUSES = ("new", "contacted", "converted", "closed")


class IntakeLead(Base):
    """Someone who took the self-screen and asked the clinic to contact them.

    The answers are kept exactly as given (rule id -> yes/no/not sure/number) with the
    verdict they produced at the time; handling is appended as ``LeadEvent`` rows, so the
    lead's whole history survives."""

    __tablename__ = "intake_leads"
    __table_args__ = (Index("ix_intake_leads_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    preferred_contact: Mapped[str] = mapped_column(String(10))
    message: Mapped[str | None] = mapped_column(Text)
    consent_to_contact: Mapped[bool] = mapped_column(Boolean)
    route: Mapped[str] = mapped_column(String(20))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    verdict: Mapped[str] = mapped_column(String(40))
    # Reported current suicidal thoughts: staff see these first, marked urgent.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="new")
    handled_by: Mapped[str | None] = mapped_column(String(80))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)

    events: Mapped[list[LeadEvent]] = relationship(
        back_populates="lead", order_by="LeadEvent.at, LeadEvent.id"
    )


class LeadEvent(Base):
    """One step in handling a lead: who moved it from which status to which, and why."""

    __tablename__ = "intake_lead_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("intake_leads.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    by: Mapped[str] = mapped_column(String(80))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")

    lead: Mapped[IntakeLead] = relationship(back_populates="events")
