"""Appending to and verifying the hash-chained audit trail."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.db import utcnow

GENESIS = "0" * 64
# Any fixed number works: it names the lock that serialises appends on PostgreSQL.
_PG_AUDIT_LOCK = 7_420_001


def _digest(event: AuditEvent) -> str:
    payload = json.dumps(
        [
            event.at.isoformat(),
            event.actor_id,
            event.actor,
            event.action,
            event.patient_id,
            event.object_type,
            event.object_id,
            event.detail,
            event.ip,
            event.prev_hash,
        ],
        separators=(",", ":"),
        sort_keys=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def record(
    db: Session,
    *,
    actor: Actor,
    action: str,
    patient_id: int | None = None,
    object_type: str | None = None,
    object_id: object | None = None,
    detail: str = "",
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event inside the caller's transaction (so it commits or rolls back with
    the act it describes)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
    last = db.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    moment = (at or utcnow()).astimezone(UTC)
    event = AuditEvent(
        at=moment,
        actor_id=actor.user_id,
        actor=actor.username,
        action=action,
        patient_id=patient_id,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        detail=detail,
        ip=actor.ip,
        prev_hash=last or GENESIS,
    )
    event.hash = _digest(event)
    db.add(event)
    db.flush()
    return event


_READS = "ketaclinic.audit.reads"


def note_read(
    db: Session,
    *,
    actor: Actor,
    action: str,
    patient_id: int | None = None,
    object_type: str | None = None,
    object_id: object | None = None,
    detail: str = "",
) -> None:
    """Remember that ``actor`` read patient data; the unit of work writes one row per
    actor, patient and purpose when the act ends (a chart view reads a dozen things and
    is one act of reading, not a dozen)."""
    reads: dict[tuple[Any, ...], dict[str, Any]] = db.info.setdefault(_READS, {})
    key = (actor.user_id, actor.username, action, patient_id)
    found = reads.get(key)
    if found is None:
        reads[key] = {
            "actor": actor,
            "action": action,
            "patient_id": patient_id,
            "object_type": object_type,
            "object_id": None if object_id is None else str(object_id),
            "detail": detail,
            "count": 1,
            "at": utcnow(),
        }
    else:
        found["count"] += 1


def take_reads(db: Session) -> list[dict[str, Any]]:
    """The reads noted in ``db`` since the last take, removed from it."""
    reads: dict[tuple[Any, ...], dict[str, Any]] = db.info.pop(_READS, {})
    return list(reads.values())


def write_reads(db: Session, reads: list[dict[str, Any]]) -> int:
    """Append the rows for reads taken from a unit of work (in this session's
    transaction)."""
    for read in reads:
        detail = read["detail"]
        if read["count"] > 1:
            detail = f"{detail}; {read['count']} reads" if detail else f"{read['count']} reads"
        record(
            db,
            actor=read["actor"],
            action=read["action"],
            patient_id=read["patient_id"],
            object_type=read["object_type"],
            object_id=read["object_id"],
            detail=detail,
            at=read["at"],
        )
    return len(reads)


def flush_reads(db: Session) -> int:
    """Write the reads noted in ``db`` into its own transaction."""
    return write_reads(db, take_reads(db))


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_broken_id: int | None = None
    problem: str | None = None


def _events(db: Session, batch: int = 5000) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        rows = db.scalars(
            select(AuditEvent)
            .where(AuditEvent.id > last_id)
            .order_by(AuditEvent.id)
            .limit(batch)
            # Read what the database holds now, never a copy this session kept.
            .execution_options(populate_existing=True)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        db.expunge_all()


def verify(db: Session) -> Verification:
    """Walk the chain in order; report the first row whose hash or link does not hold."""
    previous = GENESIS
    checked = 0
    for event in _events(db):
        if event.prev_hash != previous:
            return Verification(False, checked, event.id, "link to the previous record broken")
        if _digest(event) != event.hash:
            return Verification(False, checked, event.id, "record altered after it was written")
        previous = event.hash
        checked += 1
    return Verification(True, checked)


def for_patient(db: Session, patient_id: int, *, limit: int = 200) -> list[AuditEvent]:
    return list(
        db.scalars(
            select(AuditEvent)
            .where(AuditEvent.patient_id == patient_id)
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )


def recent(db: Session, *, limit: int = 200, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    return list(db.scalars(query))
