from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text, event, inspect
from sqlalchemy.orm import Mapped, mapped_column

from ketaclinic.platform.db import Base, UTCDateTime, utcnow


class Course(Base):
    """One treatment course of a patient on one protocol: induction series, then
    continuation and boosters. Orders and planned sessions belong to a course."""

    __tablename__ = "courses"
    __table_args__ = (
        Index("ix_courses_patient_status", "patient_id", "status"),
        # The active courses (dashboard, scheduled work) and courses opened in a period
        # (clinic outcomes).
        Index("ix_courses_status", "status"),
        Index("ix_courses_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    protocol_id: Mapped[str] = mapped_column(String(60))
    indication: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20), default="active")  # active|completed|stopped
    series_sessions: Mapped[int] = mapped_column(Integer)
    started_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(Text)


class Order(Base):
    """A prescriber's order: what to give and how. Immutable once signed; a change is a
    new order whose ``supersedes_id`` names the old one, with the reason."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_course_status", "course_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    protocol_id: Mapped[str] = mapped_column(String(60))
    route: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft|signed|superseded
    # The dosing arithmetic exactly as computed by clinical.dosing.plan when drafted.
    dose_mg: Mapped[float] = mapped_column(Float)
    dose_mg_per_kg: Mapped[float | None] = mapped_column(Float)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    height_cm: Mapped[float | None] = mapped_column(Float)
    dose_weight_kg: Mapped[float | None] = mapped_column(Float)
    dose_weight_basis: Mapped[str | None] = mapped_column(String(20))
    concentration_mg_per_ml: Mapped[float | None] = mapped_column(Float)
    bag_volume_ml: Mapped[float | None] = mapped_column(Float)
    drug_volume_ml: Mapped[float | None] = mapped_column(Float)
    total_volume_ml: Mapped[float | None] = mapped_column(Float)
    rate_ml_per_h: Mapped[float | None] = mapped_column(Float)
    duration_min: Mapped[float | None] = mapped_column(Float)
    devices: Mapped[int | None] = mapped_column(Integer)
    plan_steps: Mapped[list[str]] = mapped_column(JSON, default=list)
    overrides: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    signed_by: Mapped[str | None] = mapped_column(String(80))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # 21 CFR 11.50: the printed name and the meaning of the signature beside who and when.
    signed_by_name: Mapped[str | None] = mapped_column(String(200))
    signature_meaning: Mapped[str | None] = mapped_column(String(200))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    change_reason: Mapped[str | None] = mapped_column(Text)


class PlannedSession(Base):
    """One session the course plans (induction series or a booster); scheduling books it
    and the infusion session completes it."""

    __tablename__ = "planned_sessions"
    __table_args__ = (Index("ix_planned_sessions_course_number", "course_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="induction")  # induction|booster
    status: Mapped[str] = mapped_column(String(20), default="planned")
    # planned|booked|completed|cancelled
    earliest_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SignedOrderChanged(Exception):
    """Raised when anything tries to change a signed or superseded order."""


@event.listens_for(Order, "before_update")
def _signed_orders_are_immutable(_mapper: Any, _connection: Any, target: Order) -> None:
    # The second wall behind the service: a signed order may only become superseded.
    state = inspect(target)
    history = state.attrs.status.history
    before = history.deleted[0] if history.deleted else target.status
    if before == "draft":
        return
    changed = [a.key for a in state.attrs if a.key != "status" and a.history.has_changes()]
    if changed or not (before == "signed" and target.status == "superseded"):
        raise SignedOrderChanged(
            f"order {target.id} is {before} and cannot change "
            f"({', '.join(changed) or 'status ' + str(target.status)})"
        )
