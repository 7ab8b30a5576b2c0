"""The request owns its unit of work.

Services ``flush()`` and never commit; the web request (this module), a CLI command or a
job (``platform.db.transaction``) decides once, at the end, whether the act is kept:

- A request that may write (POST, PUT, PATCH, DELETE) begins its transaction as a writer
  (on SQLite: ``BEGIN IMMEDIATE``) and commits once if its reply is a success (below
  400). A refusal (4xx) or an error rolls back everything the act flushed, so a form
  re-shown with an error never leaves half an act behind. The reads it noted are
  audited inside the same transaction.
- A read (GET, HEAD) runs in a deferred transaction that never takes SQLite's write lock
  and is rolled back. What it read is audited afterwards by ``LaterWrites``: one row per
  reader, patient and purpose, written in small batches by one writer, so pages never
  queue behind each other for the lock.
- A few refusals must still leave a trace (a failed login counts towards the lockout):
  their route calls ``keep_writes(request)``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import begin_writing, transaction

log = logging.getLogger("ketaclinic.unit_of_work")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WROTE = "ketaclinic.wrote"

LaterWrite = Callable[[Session], object]


@event.listens_for(Session, "after_flush")
def _note_flushed_write(session: Session, _context: Any) -> None:
    if session.new or session.dirty or session.deleted:
        session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_write(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


def wrote(session: Session) -> bool:
    """Whether anything was written in the session's current transaction."""
    return bool(session.info.get(_WROTE))


class LaterWrites:
    """Small writes that follow a read (its audit rows, an API token's last use), done
    by one thread in batches, ``delay`` seconds apart at most. ``delay`` 0 writes at
    once, in the caller's thread (tests, and clinics that prefer it)."""

    def __init__(self, factory: sessionmaker[Session], *, delay: float) -> None:
        self._factory = factory
        self._delay = delay
        self._queue: list[LaterWrite] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def add(self, writes: list[LaterWrite]) -> None:
        if not writes:
            return
        if self._delay <= 0:
            try:
                self._write(writes)
                return
            except Exception as exc:  # noqa: BLE001 - queued and retried, never dropped
                log.error("later writes failed (%s); retrying", type(exc).__name__)
        with self._lock:
            self._queue.extend(writes)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="ketaclinic-later-writes", daemon=True
                )
                self._thread.start()

    def drain(self) -> None:
        """Write everything queued now."""
        with self._lock:
            writes, self._queue = self._queue, []
        if not writes:
            return
        try:
            self._write(writes)
        except OperationalError:
            # Kept for the next round: nothing is dropped for a busy or absent database.
            with self._lock:
                self._queue[:0] = writes
            raise
        except Exception:  # noqa: BLE001 - one bad write must not hold back the others
            for write in writes:
                try:
                    self._write([write])
                except OperationalError:
                    with self._lock:
                        self._queue.append(write)
                except Exception as exc:  # noqa: BLE001 - it can never succeed
                    log.error("a later write was refused (%s) and set aside", type(exc).__name__)

    def close(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.drain()

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self._delay or 1.0)
            try:
                self.drain()
            except Exception as exc:  # noqa: BLE001 - logged; retried next round
                log.error("later writes failed (%s); retrying", type(exc).__name__)

    def _write(self, writes: list[LaterWrite]) -> None:
        with transaction(self._factory) as db:
            for write in writes:
                write(db)


def request_db(request: Request) -> Session:
    """The request's one database session, opened on first use."""
    existing: Session | None = getattr(request.state, "db", None)
    if existing is not None:
        return existing
    session: Session = request.app.state.session_factory()
    if request.method not in SAFE_METHODS:
        begin_writing(session)
    request.state.db = session
    return session


def keep_writes(request: Request) -> None:
    """Commit this request's writes even though its reply is a refusal."""
    request.state.keep_writes = True


def writes_while_reading(request: Request) -> None:
    """This read writes on purpose (verifying the audit trail seals it): commit what it
    wrote without the warning a stray write in a read gets."""
    request.state.writes_while_reading = True


def later(request: Request, write: LaterWrite) -> None:
    """Do ``write`` after this read, in the later writer's own transaction."""
    pending: list[LaterWrite] | None = getattr(request.state, "later", None)
    if pending is None:
        pending = request.state.later = []
    pending.append(write)


def finish(request: Request, *, status: int | None) -> None:
    """End the request's unit of work: ``status`` is the reply's status code, or None
    when the request failed with an exception."""
    db: Session | None = getattr(request.state, "db", None)
    writes: list[LaterWrite] = list(getattr(request.state, "later", None) or [])
    if db is None:
        request.app.state.later_writes.add(writes)
        return
    refusals = audit.take_refusals(db)
    if refusals:
        writes.append(lambda later_db: audit.write_refusals(later_db, refusals))
    try:
        kept = status is not None and (status < 400 or getattr(request.state, "keep_writes", False))
        if kept and request.method not in SAFE_METHODS:
            audit.flush_reads(db)
            db.commit()
        elif kept and wrote(db):
            if not getattr(request.state, "writes_while_reading", False):
                # Allowed, but a write belongs in an act of its own.
                log.warning("%s %s wrote during a read", request.method, request.url.path)
            db.commit()
        else:
            db.rollback()
        if status is not None:
            reads = audit.take_reads(db)
            if reads:
                writes.append(lambda later_db: audit.write_reads(later_db, reads))
    finally:
        db.info.pop(_WROTE, None)
        db.close()
    request.app.state.later_writes.add(writes)


def stale(moment: datetime | None, *, minutes: int) -> bool:
    return moment is None or moment.astimezone(UTC) < datetime.now(UTC) - timedelta(minutes=minutes)
