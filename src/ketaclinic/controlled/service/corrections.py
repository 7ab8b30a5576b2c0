"""Correcting a wrong ledger entry by a reversing entry (the wrong one never changes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.controlled.models import LedgerEntry
from ketaclinic.controlled.service.common import (
    LICENSED,
    SUPERVISORS,
    _entry,
    _require,
    _text,
    lot_by_id,
)
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.errors import Conflict, NotFound


def correct(
    db: Session, *, actor: Actor, entry_id: int, reason: str, now: datetime | None = None
) -> LedgerEntry:
    """A wrong entry is never changed: a correction reverses its effect on the balance,
    naming it, with who and why; the right entry is then recorded as usual."""
    _require(actor, LICENSED | SUPERVISORS, "correct the ledger")
    wrong = db.get(LedgerEntry, entry_id)
    if wrong is None:
        raise NotFound(f"no ledger entry {entry_id}")
    if wrong.kind in ("correction", "adjustment"):
        raise Conflict("a correction or a reconciliation is not corrected: record a new entry")
    if db.scalar(
        select(LedgerEntry.id).where(
            LedgerEntry.refers_to_id == wrong.id, LedgerEntry.kind == "correction"
        )
    ):
        raise Conflict("this entry is already corrected")
    lot = lot_by_id(db, wrong.lot_id)
    entry = _entry(
        db,
        actor,
        lot,
        "correction",
        -wrong.units_milli,
        at=now,
        mg=wrong.mg,
        refers_to_id=wrong.id,
        patient_id=wrong.patient_id,
        session_id=wrong.session_id,
        reason=_text(reason, "why the entry was wrong", field="reason", minimum=5),
    )
    audit.record(
        db,
        actor=actor,
        action="controlled.correct",
        patient_id=wrong.patient_id,
        object_type="controlled_entry",
        object_id=entry.id,
        detail=f"corrects entry {wrong.id}",
    )
    return entry
