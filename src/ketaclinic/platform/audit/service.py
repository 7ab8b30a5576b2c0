"""Writing and reading the audit trail: who did what, to which patient, why, from where.

``record`` appends one keyed row inside the caller's transaction (it adds and flushes,
never commits). Reads of patient data are buffered with ``note_read`` and written by
``flush_reads``: one row per actor, patient and purpose per request. How rows are sealed
and verified is in ``chain``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import chain
from ketaclinic.platform.audit.chain import (
    GENESIS,
    Checkpoint,
    CheckpointState,
    SealOutcome,
    Verification,
    audit_key,
    checkpoint_path,
    legacy_digest,
    load_checkpoint,
    row_mac,
    seal,
    seal_job,
    verify,
)
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.db import new_ids, utcnow
from ketaclinic.platform.errors import Invalid
from ketaclinic.platform.roles import CLINICAL

log = logging.getLogger("ketaclinic.audit")

# Areas whose audit detail may carry clinical text (answers, scores, vitals, doses,
# suicidality notes, override reasons): such rows are written ``sensitive`` and their
# detail is shown only to clinical roles. A caller may still pass ``sensitive=``.
SENSITIVE_ACTIONS: dict[str, str] = {
    "alert.": "suicidality and safety alerts: what triggered them, acknowledgement notes",
    "candidacy.": "evaluation verdicts, the prescriber's decision and reasons",
    "course.": "course decisions",
    "intake.": "intake answers and corrections",
    "lead.": "self-screen verdicts and crisis flags",
    "measurement.": "weights, heights and why one was entered in error",
    "order.": "doses, protocols and revisions",
    "outcomes.": "scores and responses",
    "planned_session.": "the planned course",
    "questionnaire.": "answers and scores",
    "session.": "vitals, side effects, interventions, checklist overrides",
    "therapy.": "therapy notes",
}
WITHHELD = "(clinical detail withheld)"
_READS = "ketaclinic.audit.reads"


def is_sensitive(action: str) -> bool:
    return action.startswith(tuple(SENSITIVE_ACTIONS))


def _next_id(db: Session) -> int:
    """The new row's id, known before the insert so that its MAC can cover it."""
    return new_ids(db, AuditEvent, 1)[0]


@dataclass(frozen=True)
class Event:
    """One event of ``record_many``: the arguments of ``record``."""

    actor: Actor
    action: str
    patient_id: int | None = None
    object_type: str | None = None
    object_id: object | None = None
    detail: str = ""
    reason: str | None = None
    sensitive: bool | None = None


def _values(db: Session, key: bytes, event_id: int, entry: Event, at: datetime) -> dict[str, Any]:
    """The columns of one event's row, its MAC included."""
    correlation = db.info.get("correlation_id")
    values: dict[str, Any] = {
        "id": event_id,
        "at": at.astimezone(UTC),
        "actor_id": entry.actor.user_id,
        "actor": entry.actor.username,
        "action": entry.action,
        "patient_id": entry.patient_id,
        "object_type": entry.object_type,
        "object_id": None if entry.object_id is None else str(entry.object_id),
        "detail": entry.detail,
        "ip": entry.actor.ip,
        "reason": entry.reason,
        "correlation_id": None if correlation is None else str(correlation)[:64],
        "sensitive": is_sensitive(entry.action) if entry.sensitive is None else entry.sensitive,
    }
    values["mac"] = row_mac(key, SimpleNamespace(**values))
    values["mac_version"] = chain.MAC_VERSION
    return values


def _event(db: Session, key: bytes, event_id: int, entry: Event, at: datetime) -> AuditEvent:
    return AuditEvent(**_values(db, key, event_id, entry, at))


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
    reason: str | None = None,
    sensitive: bool | None = None,
) -> AuditEvent:
    """Append one event inside the caller's transaction (so it commits or rolls back with
    the act it describes). No other row is read and no lock is taken.

    ``reason`` is why (a read's purpose, an override's reason); ``sensitive`` marks a
    detail with clinical text (default: by ``SENSITIVE_ACTIONS``). The request's
    correlation id is taken from ``db.info['correlation_id']`` when it is there."""
    entry = Event(actor, action, patient_id, object_type, object_id, detail, reason, sensitive)
    event = _event(db, audit_key(db), _next_id(db), entry, at or utcnow())
    db.add(event)
    db.flush()
    chain.mark_written(db)
    return event


def record_many(db: Session, entries: list[Event], *, at: datetime | None = None) -> int:
    """``record`` for several events of one act (a group of monitor messages, one event
    per patient): their ids taken with one statement, the rows written with one
    statement. Returns how many were written."""
    moment = at or utcnow()
    return _insert_events(db, [(entry, moment) for entry in entries])


def _insert_events(db: Session, entries: list[tuple[Event, datetime]]) -> int:
    """Events, each at its own time, as plain rows: ids with one statement, one
    ``executemany``, never tracked by the session."""
    if not entries:
        return 0
    key = audit_key(db)
    rows = [
        _values(db, key, event_id, entry, moment)
        for event_id, (entry, moment) in zip(
            new_ids(db, AuditEvent, len(entries)), entries, strict=True
        )
    ]
    db.execute(insert(cast(Table, AuditEvent.__table__)), rows)
    chain.mark_written(db)
    return len(rows)


# --- reads, batched per act -------------------------------------------------------------


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
    reader and patient when the act ends. A chart view reads a dozen things through
    several areas and is one act of reading: the first read names its purpose
    (``patient.chart``), the row lists what else was read for it."""
    reads: dict[tuple[Any, ...], dict[str, Any]] = db.info.setdefault(_READS, {})
    key = (actor.user_id, actor.username, patient_id if patient_id is not None else action)
    found = reads.get(key)
    if found is None:
        reads[key] = {
            "actor": actor,
            "action": action,
            "patient_id": patient_id,
            "object_type": object_type,
            "object_id": None if object_id is None else str(object_id),
            "detail": detail,
            "also": [],
            "at": utcnow(),
        }
    elif action != found["action"] and action not in found["also"]:
        found["also"].append(action)


class HeldReads:
    """Reads noted inside ``held_reads``: audited only if ``keep()`` is called."""

    def __init__(self) -> None:
        self.kept = False

    def keep(self) -> None:
        self.kept = True


@contextmanager
def held_reads(db: Session) -> Iterator[HeldReads]:
    """Reads noted inside the block are audited only if the block calls ``keep()``: a
    job that looks at a patient's record and then does nothing for that patient (most
    rounds of the scheduled work) leaves no trace, and one that acts audits what it read
    to decide. Reads noted before the block are kept as they were."""
    earlier: dict[tuple[Any, ...], dict[str, Any]] = db.info.pop(_READS, {})
    held = HeldReads()
    try:
        yield held
    finally:
        inside: dict[tuple[Any, ...], dict[str, Any]] = db.info.pop(_READS, {})
        if held.kept:
            for key, read in inside.items():
                if key not in earlier:
                    earlier[key] = read
                    continue
                kept = earlier[key]
                for action in [read["action"], *read["also"]]:
                    if action != kept["action"] and action not in kept["also"]:
                        kept["also"].append(action)
        db.info[_READS] = earlier


def take_reads(db: Session) -> list[dict[str, Any]]:
    """The reads noted in ``db`` since the last take, removed from it."""
    reads: dict[tuple[Any, ...], dict[str, Any]] = db.info.pop(_READS, {})
    return list(reads.values())


def write_reads(db: Session, reads: list[dict[str, Any]]) -> int:
    """Append the rows for reads taken from a unit of work (in this session's
    transaction): all of them with one insert (a page that shows fifty patients costs
    the statements of one), or, should one name a patient who is not on record, each in
    a savepoint of its own so that the others are kept as they are."""
    if not reads:
        return 0
    details = [_read_detail(read) for read in reads]
    entries = [
        (_read_event(read, read["patient_id"], detail), read["at"])
        for read, detail in zip(reads, details, strict=True)
    ]
    try:
        with db.begin_nested():
            _insert_events(db, entries)
        return len(reads)
    except IntegrityError:
        pass
    for read, detail in zip(reads, details, strict=True):
        try:
            with db.begin_nested():
                _insert_events(db, [(_read_event(read, read["patient_id"], detail), read["at"])])
        except IntegrityError:
            # A read of a patient who is not on record (a mistyped id, a race with a
            # merge): the attempt is kept, with the id it asked for.
            asked = f"patient id {read['patient_id']} not on record"
            kept = f"{detail}; {asked}" if detail else asked
            _insert_events(db, [(_read_event(read, None, kept), read["at"])])
    return len(reads)


def _read_detail(read: dict[str, Any]) -> str:
    detail: str = read["detail"]
    if read["also"]:
        also = "also read: " + ", ".join(read["also"])
        detail = f"{detail}; {also}" if detail else also
    return detail


def _read_event(read: dict[str, Any], patient_id: int | None, detail: str) -> Event:
    return Event(
        read["actor"],
        read["action"],
        patient_id,
        read["object_type"],
        read["object_id"],
        detail,
        sensitive=False,
    )


def flush_reads(db: Session) -> int:
    """Write the reads noted in ``db`` into its own transaction."""
    return write_reads(db, take_reads(db))


def discard_reads(db: Session) -> None:
    """Forget noted reads (the act failed before anything was shown)."""
    db.info.pop(_READS, None)


# --- refusals that leave a trace ----------------------------------------------------------

_REFUSALS = "ketaclinic.audit.refusals"


def record_refusal(
    db: Session,
    *,
    actor: Actor,
    action: str,
    patient_id: int | None = None,
    object_type: str | None = None,
    object_id: object | None = None,
    detail: str = "",
) -> None:
    """A refused attempt that must be audited although its act rolls back (a signature
    with the wrong password): kept in ``db`` and written by the unit of work after the
    refused transaction has ended (``take_refusals``), never inside it."""
    db.info.setdefault(_REFUSALS, []).append(
        {
            "actor": actor,
            "action": action,
            "patient_id": patient_id,
            "object_type": object_type,
            "object_id": None if object_id is None else str(object_id),
            "detail": detail,
            "at": utcnow(),
        }
    )


def take_refusals(db: Session) -> list[dict[str, Any]]:
    """The refusals noted in ``db``, removed from it."""
    found: list[dict[str, Any]] = db.info.pop(_REFUSALS, [])
    return found


def write_refusals(db: Session, refusals: list[dict[str, Any]]) -> None:
    for refusal in refusals:
        record(db, sensitive=False, **refusal)


# --- denied access ---------------------------------------------------------------------


def record_denied(
    db: Session,
    *,
    actor: Actor,
    method: str,
    path: str,
    why: str = "role",
) -> None:
    """``access.denied``: written after the refused request's own transaction has
    rolled back (``unit_of_work.later``), never inside it."""
    record(
        db,
        actor=actor,
        action="access.denied",
        object_type="route",
        detail=f"{method} {path}",
        reason=why,
        sensitive=False,
    )


# --- reading the trail -----------------------------------------------------------------


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


@dataclass(frozen=True)
class Entry:
    """An audit row as a viewer may see it: clinical detail withheld from non-clinicians."""

    id: int
    at: datetime
    actor_id: int | None
    actor: str
    action: str
    patient_id: int | None
    object_type: str | None
    object_id: str | None
    detail: str
    reason: str | None
    ip: str | None
    correlation_id: str | None
    withheld: bool


def _withheld(event: AuditEvent) -> bool:
    # Legacy rows predate the flag: the declared table decides for them.
    return bool(event.sensitive) or (event.mac is None and is_sensitive(event.action))


def shown_to(viewer: Actor, events: list[AuditEvent]) -> list[Entry]:
    clinician = viewer.has_any(CLINICAL)
    out = []
    for e in events:
        hide = _withheld(e) and not clinician
        out.append(
            Entry(
                id=e.id,
                at=e.at,
                actor_id=e.actor_id,
                actor=e.actor,
                action=e.action,
                patient_id=e.patient_id,
                object_type=e.object_type,
                object_id=e.object_id,
                detail=WITHHELD if hide and e.detail else e.detail,
                reason=e.reason,
                ip=e.ip,
                correlation_id=e.correlation_id,
                withheld=hide and bool(e.detail),
            )
        )
    return out


def view_trail(
    db: Session,
    *,
    actor: Actor,
    action: str | None = None,
    patient_id: int | None = None,
    limit: int = 300,
) -> list[Entry]:
    """Someone reads the audit trail: that is audited too (``audit.view``, with the
    filter used), and clinical detail is withheld unless they hold a clinical role."""
    filters = [f"action={action!r}"] if action else []
    if patient_id is not None:
        filters.append(f"patient={patient_id}")
    note_read(
        db,
        actor=actor,
        action="audit.view",
        patient_id=patient_id,
        detail="filter " + (", ".join(filters) or "none") + f", latest {limit}",
    )
    if patient_id is not None:
        events = for_patient(db, patient_id, limit=limit)
        if action:
            events = [e for e in events if e.action.startswith(action)]
    else:
        events = recent(db, limit=limit, action=action)
    return shown_to(actor, events)


# Rows on one page of the audit trail (ketaclinic's own page size).
TRAIL_PAGE = 50


@dataclass(frozen=True)
class TrailPage:
    """One page of the trail, newest first. ``older``: the id to page on from (the rows
    below it), None on the last page; ``newer``: the id to page back from, None on the
    first (newest) page."""

    entries: list[Entry]
    older: int | None
    newer: int | None


def trail_page(
    db: Session,
    *,
    actor: Actor,
    action: str | None = None,
    patient_id: int | None = None,
    before: int | None = None,
    after: int | None = None,
    size: int = TRAIL_PAGE,
) -> TrailPage:
    """A page of the trail read in SQL by id (keyset paging, so a page costs the same
    deep in a trail of millions): the ``size`` rows below ``before`` or, paging back,
    above ``after``, filtered by action prefix and patient. Audited as ``audit.view``."""
    if not 1 <= size <= 500:
        raise Invalid("a page holds 1 to 500 rows", fields={"size": str(size)})
    filters = [f"action={action!r}"] if action else []
    if patient_id is not None:
        filters.append(f"patient={patient_id}")
    where = []
    if action:
        where.append(AuditEvent.action.startswith(action, autoescape=True))
    if patient_id is not None:
        where.append(AuditEvent.patient_id == patient_id)
    query = select(AuditEvent).where(*where)
    if after is not None and before is None:
        rows = list(
            db.scalars(query.where(AuditEvent.id > after).order_by(AuditEvent.id).limit(size + 1))
        )
        newer = rows[size - 1].id if len(rows) > size else None
        rows = list(reversed(rows[:size]))
        older_exists = True
    else:
        if before is not None:
            query = query.where(AuditEvent.id < before)
        rows = list(db.scalars(query.order_by(AuditEvent.id.desc()).limit(size + 1)))
        older_exists = len(rows) > size
        rows = rows[:size]
        newer = rows[0].id if before is not None and rows else None
    page = "newest" if before is None and after is None else f"before {before} after {after}"
    note_read(
        db,
        actor=actor,
        action="audit.view",
        patient_id=patient_id,
        detail="filter " + (", ".join(filters) or "none") + f", {page}, {len(rows)} rows",
    )
    older = rows[-1].id if rows and older_exists else None
    return TrailPage(shown_to(actor, rows), older, newer)


VERIFY_ASKED = "audit.verify_requested"
VERIFIED = "audit.verify"


VERIFY_JOB = "platform.verify_audit_trail"


def ask_for_verification(db: Session, *, actor: Actor, source: str = "the audit page") -> None:
    """An administrator asks for the trail to be verified: the background job
    ``platform.verify_audit_trail`` does it and records the outcome as ``audit.verify``;
    a request is never held while millions of records are checked. On PostgreSQL the job
    is queued now (it starts when this act commits); on SQLite the scheduled runner
    finds the request within a minute."""
    from ketaclinic.platform import jobs

    record(db, actor=actor, action=VERIFY_ASKED, detail=f"from {source}")
    jobs.enqueue(db, VERIFY_JOB)


@dataclass(frozen=True)
class VerificationState:
    last: AuditEvent | None  # the latest audit.verify record, whoever ran it
    asked: AuditEvent | None  # a request not verified yet, if any


def verification_state(db: Session) -> VerificationState:
    def latest(action: str) -> AuditEvent | None:
        return db.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == action)
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )

    last, asked = latest(VERIFIED), latest(VERIFY_ASKED)
    pending = asked if asked is not None and (last is None or asked.id > last.id) else None
    return VerificationState(last, pending)


def intact(event: AuditEvent) -> bool:
    """Whether an ``audit.verify`` record says the trail held."""
    return event.detail.startswith("intact")


# How often a verification notes how far it got (a seal covers up to 5,000 records).
PROGRESS_EVERY_SEALS = 20


def verify_trail(
    db: Session,
    *,
    actor: Actor,
    progress: chain.Progress | None = None,
    resume: bool = False,
) -> Verification:
    """Someone checks the trail: seal what is pending, verify everything against the
    checkpoint, and record ``audit.verify`` with the outcome (caller commits).

    Every few seals verified, how far the walk got is kept beside the checkpoint;
    ``resume`` goes on from there (an interrupted run, or only what was added since the
    last run). A broken trail forgets it, so that a resumed run never skips the break."""
    key = chain.audit_key(db)
    path = chain.progress_path(db)
    start = None
    if resume:
        found = chain.read_checkpoint(path, key)
        if found.status == "invalid":
            raise Invalid(f"the verification progress file {path} was altered: delete it")
        start = found.checkpoint
    heads: list[chain.Checkpoint] = []

    def reached(head: chain.Checkpoint) -> None:
        heads[:] = [head]
        head_count[0] += 1
        if head_count[0] % PROGRESS_EVERY_SEALS == 0:
            chain.write_progress(path, key, head)

    head_count = [0]
    result = verify(db, seal_first=True, progress=progress, resume=start, reached=reached)
    if not result.ok:
        chain.write_progress(path, key, None)
    elif heads:
        chain.write_progress(path, key, heads[0])
    outcome = (
        f"intact, {result.checked} records"
        + (f" after record {result.resumed_after}" if result.resumed_after else "")
        + f" ({result.unsealed} not sealed yet)"
        if result.ok
        else f"broken at record {result.first_broken_id}: {result.problem}"
    )
    record(db, actor=actor, action=VERIFIED, detail=outcome[:500], sensitive=False)
    return result


__all__ = [
    "GENESIS",
    "SENSITIVE_ACTIONS",
    "Checkpoint",
    "CheckpointState",
    "Entry",
    "SealOutcome",
    "Verification",
    "checkpoint_path",
    "discard_reads",
    "flush_reads",
    "for_patient",
    "is_sensitive",
    "legacy_digest",
    "load_checkpoint",
    "note_read",
    "recent",
    "record",
    "record_denied",
    "seal",
    "seal_job",
    "shown_to",
    "verify",
    "verify_trail",
    "ask_for_verification",
    "intact",
    "verification_state",
    "VerificationState",
    "view_trail",
    "trail_page",
    "TrailPage",
    "TRAIL_PAGE",
]
