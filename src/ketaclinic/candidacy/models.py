from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ketaclinic.platform.db import Base, UTCDateTime, utcnow


class Intake(Base):
    """One version of a patient's intake. A correction is a new row naming the row it
    corrects (``supersedes_id``) with who, when and why; no row is ever changed."""

    __tablename__ = "intakes"
    __table_args__ = (Index("ix_intakes_patient_id_desc", "patient_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("intakes.id"), index=True)
    correction_reason: Mapped[str | None] = mapped_column(Text)
    taken_on: Mapped[date] = mapped_column(Date)
    route: Mapped[str] = mapped_column(String(30))
    protocol_id: Mapped[str | None] = mapped_column(String(60))
    # {"episodes": int | None, "trials": [{"drug", "dose", "duration_weeks", "adequate"}]}
    history: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Answers keyed by screening rule id: true / false / number / null (unknown).
    findings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    medications: Mapped[list[str]] = mapped_column(JSON, default=list)
    allergies: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {"heart_rate": int, "bp_systolic": int, "bp_diastolic": int, "spo2": int}
    vitals: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    height_cm: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str | None] = mapped_column(Text)
    lead_id: Mapped[int | None] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CandidacyDecision(Base):
    """A prescriber's confirmation or override of the computed verdict for one intake
    version, with the evaluation exactly as it was shown."""

    __tablename__ = "candidacy_decisions"
    __table_args__ = (Index("ix_candidacy_decisions_patient_id_desc", "patient_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id"), index=True)
    route: Mapped[str] = mapped_column(String(30))
    computed_verdict: Mapped[str] = mapped_column(String(40))
    final_verdict: Mapped[str] = mapped_column(String(40))
    decision: Mapped[str] = mapped_column(String(20))  # confirmed|overridden
    reason: Mapped[str | None] = mapped_column(Text)
    # verdict, reasons, workup, unknown, medication findings, unknown medications
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSON)
    findings: Mapped[dict[str, Any]] = mapped_column(JSON)
    rule_ids: Mapped[list[str]] = mapped_column(JSON)
    decided_by: Mapped[str] = mapped_column(String(80))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
