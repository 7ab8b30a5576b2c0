from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ketaclinic.platform.db import Base, UTCDateTime, utcnow


class Patient(Base):
    """The current version of a patient's demographics. Every change also writes a
    ``PatientVersion`` row, so the record's whole history survives."""

    __tablename__ = "patients"
    __table_args__ = (Index("ix_patients_family_given", "family_name", "given_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(String(40), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    # How the patient wants to hear from the clinic: "email", "text" or "both"; a text
    # message needs consent, recorded with when and by whom (None: no consent).
    contact_preference: Mapped[str] = mapped_column(
        String(10), default="email", server_default="email"
    )
    text_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    text_consent_by: Mapped[str | None] = mapped_column(String(80))
    address: Mapped[str | None] = mapped_column(Text)
    emergency_contact_name: Mapped[str | None] = mapped_column(String(200))
    emergency_contact_phone: Mapped[str | None] = mapped_column(String(40))
    emergency_contact_relation: Mapped[str | None] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    measurements: Mapped[list[BodyMeasurement]] = relationship(
        back_populates="patient", order_by="BodyMeasurement.measured_on"
    )

    @property
    def display_name(self) -> str:
        return f"{self.family_name}, {self.given_name}"


class PatientVersion(Base):
    __tablename__ = "patient_versions"
    __table_args__ = (Index("ix_patient_versions_patient_version", "patient_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text)


class BodyMeasurement(Base):
    """Weight and height on a date. A wrong entry is marked entered-in-error with who
    and why, never deleted, so that a dose computed from it can still be explained."""

    __tablename__ = "body_measurements"
    __table_args__ = (Index("ix_body_measurements_patient_on", "patient_id", "measured_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    measured_on: Mapped[date] = mapped_column(Date)
    weight_kg: Mapped[float | None] = mapped_column(Numeric(6, 2, asdecimal=False))
    height_cm: Mapped[float | None] = mapped_column(Numeric(5, 1, asdecimal=False))
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    entered_in_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    entered_in_error_by: Mapped[str | None] = mapped_column(String(80))
    error_reason: Mapped[str | None] = mapped_column(Text)

    patient: Mapped[Patient] = relationship(back_populates="measurements")
