"""Tables of consents and readiness.

A consent document's version is never edited: a new text is a new version. A signature
keeps the exact text the patient saw (and its SHA-256), so the signed copy can always be
printed as it was; revoking it is recorded on the signature (who, when, why), never by
deleting it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ketaclinic.platform.db import Base, UTCDateTime, utcnow


class ConsentDocument(Base):
    """One version of one consent text the clinic wrote."""

    __tablename__ = "consent_documents"
    __table_args__ = (UniqueConstraint("kind", "version", name="uq_consent_documents_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    # A staff member witnesses the signature (then it is signed at the clinic).
    needs_witness: Mapped[bool] = mapped_column(Boolean, default=False)
    # The typed name alone may sign (no drawn mark): for patients who cannot draw.
    typed_name_suffices: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConsentSignature(Base):
    """A patient's signature on one document version."""

    __tablename__ = "consent_signatures"
    __table_args__ = (
        Index("ix_consent_signatures_patient_kind", "patient_id", "document_kind"),
        Index("ix_consent_signatures_document", "document_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("consent_documents.id"))
    document_kind: Mapped[str] = mapped_column(String(40))
    document_version: Mapped[int] = mapped_column(Integer)
    # The exact text shown and signed, and its SHA-256 (checked against the version's).
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    typed_name: Mapped[str] = mapped_column(String(200))
    signature_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    channel: Mapped[str] = mapped_column(String(20))  # portal | clinic
    recorded_by: Mapped[str] = mapped_column(String(80))  # the account the screen was on
    witness_username: Mapped[str | None] = mapped_column(String(80))
    witness_name: Mapped[str | None] = mapped_column(String(200))
    witnessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(80))
    revoke_reason: Mapped[str | None] = mapped_column(Text)


class ReadinessCheck(Base):
    """The day-before questions of one appointment, asked by link, and the patient's own
    answers (the latest kept in ``answers``, earlier ones in ``answers['earlier']``)."""

    __tablename__ = "readiness_checks"
    __table_args__ = (
        UniqueConstraint("appointment_id", name="uq_readiness_checks_appointment"),
        Index("ix_readiness_checks_patient", "patient_id"),
        Index("ix_readiness_checks_token", "token_hash"),
        Index("ix_readiness_checks_starts", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    route: Mapped[str] = mapped_column(String(20))  # iv | esketamine_nasal
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outbox_message_id: Mapped[int | None] = mapped_column(Integer)
    token_hash: Mapped[str | None] = mapped_column(String(64))
    link_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TabletHandover(Base):
    """A clinic tablet handed to a patient to sign one document: a short-lived token
    (only its hash kept), used once."""

    __tablename__ = "consent_tablet_handovers"
    __table_args__ = (
        Index("ix_consent_tablet_handovers_patient", "patient_id"),
        Index("ix_consent_tablet_handovers_document", "document_id"),
        Index("ix_consent_tablet_handovers_token", "token_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("consent_documents.id"))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
