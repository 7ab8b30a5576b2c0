"""The append-only audit trail of every read and write of patient data, and its seals.

Each ``AuditEvent`` carries its own MAC (keyed, over its own fields and id); each
``AuditSeal`` chains a set of events into a keyed chain. Database triggers refuse updates
and deletes on both tables; ``service`` explains why the design is split this way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from ketaclinic.platform.db import Base, UTCDateTime


class AuditEvent(Base):
    """One audited act: who, what, which patient, why, from where, in which request.

    Rows written before keyed MACs (``mac`` is NULL) are legacy rows: their unkeyed
    ``prev_hash``/``hash`` chain is checked the old way until a seal covers them."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_patient_at", "patient_id", "at"),
        # The trail by time (the audit page's period) and one user's acts over time.
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(80), index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    object_type: Mapped[str | None] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(60))
    detail: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str | None] = mapped_column(String(64))
    # Why: the purpose of a read or the reason given for an act, where there is one.
    reason: Mapped[str | None] = mapped_column(Text)
    # The request or job that did it (set by the request from its correlation id).
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    # The detail carries clinical text: shown only to clinical roles.
    sensitive: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The keyed MAC (hex) over this row's id and fields, in the format ``mac_version``
    # names (``chain.MAC_VERSION``; NULL: version 1, rows written before migration 0018).
    mac: Mapped[str | None] = mapped_column(String(64))
    mac_version: Mapped[int | None] = mapped_column(SmallInteger)
    # Legacy unkeyed SHA-256 chain, kept for rows written before keyed MACs.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditSeal(Base):
    """A keyed link of the chain: it lists the events it covers (ids that exist; gaps in
    between are ids never committed) and its MAC covers the previous seal's MAC and every
    listed event's MAC, so a sealed event cannot be deleted, altered or reordered."""

    __tablename__ = "audit_seals"

    id: Mapped[int] = mapped_column(primary_key=True)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_id: Mapped[int]
    last_id: Mapped[int] = mapped_column(index=True)
    count: Mapped[int]
    total: Mapped[int]  # events sealed by this seal and every seal before it
    ids: Mapped[str] = mapped_column(Text)  # runs of event ids: "1-40,42,45-50"
    prev_mac: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))
