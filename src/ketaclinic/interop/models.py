"""Messages from bedside monitors: those charted (one row each, so a repeat is known)
and those refused or held (dead letters, kept for staff to review, never dropped)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ketaclinic.platform.db import Base, UTCDateTime, utcnow


class Hl7Message(Base):
    """An ORU^R01 message whose readings were charted: its control id (MSH-10) per
    sender (MSH-3) is stored once, so a repeat is acknowledged without charting twice."""

    __tablename__ = "hl7_messages"
    __table_args__ = (
        UniqueConstraint("control_id", "sender", name="uq_hl7_messages_control_sender"),
        Index("ix_hl7_messages_session", "session_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(String(180))
    control_id: Mapped[str] = mapped_column(String(199))
    device_id: Mapped[str] = mapped_column(String(120))
    session_id: Mapped[int] = mapped_column(ForeignKey("infusion_sessions.id"))
    readings: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Hl7DeadLetter(Base):
    """A message refused (malformed, not ORU^R01, unknown patient or device) or held
    (no session in progress): the raw text, why, and who reviewed it."""

    __tablename__ = "hl7_dead_letters"
    __table_args__ = (Index("ix_hl7_dead_letters_reviewed", "reviewed_at", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(10))  # refused|held
    ack_code: Mapped[str] = mapped_column(String(2))  # AE|AR
    error_code: Mapped[str] = mapped_column(String(4))  # HL7 table 0357
    reason: Mapped[str] = mapped_column(Text)
    sender: Mapped[str | None] = mapped_column(String(180))
    control_id: Mapped[str | None] = mapped_column(String(199))
    device_id: Mapped[str | None] = mapped_column(String(120))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    peer: Mapped[str | None] = mapped_column(String(80))
    raw: Mapped[str] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(80))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str | None] = mapped_column(Text)


class FhirImport(Base):
    """One FHIR Bundle imported into a patient's record: from where, by whom, and how
    many of its entries were kept, matched or skipped."""

    __tablename__ = "fhir_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    source: Mapped[str] = mapped_column(String(200))
    bundle_type: Mapped[str] = mapped_column(String(20))  # transaction|collection
    created: Mapped[int] = mapped_column(Integer)
    matched: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(80))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ImportedFact(Base):
    """A fact another system sent (a diagnosis, a medication, an allergy, a vital sign),
    kept apart from what the clinic charted and marked with its source, so the intake
    can offer it for the clinician to confirm rather than trust it silently."""

    __tablename__ = "fhir_imported_facts"
    __table_args__ = (Index("ix_fhir_imported_facts_patient_kind", "patient_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("fhir_imports.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    kind: Mapped[str] = mapped_column(String(20))  # condition|medication|allergy|vital
    text: Mapped[str] = mapped_column(Text)
    system: Mapped[str | None] = mapped_column(String(200))
    code: Mapped[str | None] = mapped_column(String(60))
    value: Mapped[float | None] = mapped_column(Float)
    second_value: Mapped[float | None] = mapped_column(Float)  # diastolic, for a BP
    unit: Mapped[str | None] = mapped_column(String(30))
    effective: Mapped[str | None] = mapped_column(String(40))  # the sender's date/dateTime
    source_entry: Mapped[str] = mapped_column(String(200))  # fullUrl or Type/id sent


class FhirExport(Base):
    """A FHIR Bulk Data export asked for by one client: what, for whom, its state, and
    whether it is de-identified (a researcher's always is)."""

    __tablename__ = "fhir_exports"
    __table_args__ = (Index("ix_fhir_exports_status", "status", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(
        String(16), default="accepted"
    )  # accepted|complete|failed|deleted|expired
    level: Mapped[str] = mapped_column(String(10))  # system|patient|group
    group_id: Mapped[str | None] = mapped_column(String(64))
    types: Mapped[str] = mapped_column(String(400))  # space-separated resource types
    deidentified: Mapped[bool] = mapped_column(Boolean, default=False)
    request_url: Mapped[str] = mapped_column(Text)
    # The client: the same user (and, for a token, the same token) fetches the files.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    username: Mapped[str] = mapped_column(String(80))
    roles: Mapped[str] = mapped_column(String(200))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"), index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    #: ``_since``: only resources changed after it (their ``meta.lastUpdated``).
    since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Runs tried; a failing export is tried the clinic's number of times, then failed.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: When the files go (the clinic's retention after completion); 410 Gone after.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class FhirExportFile(Base):
    """One NDJSON file of an export: every resource of one type, one per line."""

    __tablename__ = "fhir_export_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("fhir_exports.id"), index=True)
    resource_type: Mapped[str] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(Integer)
    ndjson: Mapped[str] = mapped_column(Text)
