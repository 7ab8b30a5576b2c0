"""The MLLP listener: python-hl7's asyncio MLLP server, one task per connected monitor,
and writer threads that commit in groups.

Messages that arrive while the writers are busy with a transaction (from any connected
monitor) wait, and are written together in the next transaction, each in a savepoint of
its own: a message that fails rolls back alone (a refusal is still kept as a dead
letter), and every message of the group is answered only after that one commit. So an ``AA`` that
reached the monitor is a stored reading, whatever happens to the listener afterwards;
a message that was not answered is resent by the monitor and, if it was stored after
all, is recognised by its control id. The commit, the costliest step of a message
written alone, is paid once per group, which is what lets a clinic's monitors share
a few writers. Nothing a peer sends can stop the listener: an undecodable block is
answered ``AR`` and kept for review."""

from __future__ import annotations

import asyncio
import gc
import logging
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from hl7.mllp import InvalidBlockError, start_hl7_server
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ketaclinic.interop import service
from ketaclinic.interop.hl7 import pcd01
from ketaclinic.platform.db import transaction

log = logging.getLogger("ketaclinic.hl7")

# A PCD-01 message of a few OBX segments is a few kilobytes; a block beyond this is
# refused rather than buffered (ketaclinic's own bound, not an HL7 rule).
MAX_BLOCK_BYTES = 1 << 20
# The most messages one transaction carries: a backlog after a pause is written in a
# few commits of bounded length rather than one long one (ketaclinic's own bound).
MAX_GROUP = 200


@dataclass
class _Waiting:
    raw: str
    peer: str | None
    why: str | None
    answer: Future[service.Answer] = field(default_factory=Future)


def _not_stored() -> service.Answer:
    # AE, so that the monitor sends it again.
    refusal = pcd01.Refused("AE", pcd01.APPLICATION_ERROR, "not stored; send it again")
    return service.Answer("AE", pcd01.ack(None, "AE", error=refusal, control="0"))


def _hold_loaded(db: Session) -> None:
    """Keep what the group's transaction loads (the bound session, its patient and
    order) for as long as it lasts. The session's identity map holds rows only while
    something refers to them, and the services a message passes through each look the
    same rows up by id: held, the second look is answered from memory, not the database."""
    held: list[object] = []
    db.info["ketaclinic.hl7.held"] = held
    event.listen(db, "loaded_as_persistent", lambda _db, row: held.append(row))


class _CollectorPause:
    """The cyclic garbage collector held off while groups are written (the writers may
    be several threads: it runs again when the last of them is done). A group makes and
    drops tens of thousands of short-lived objects, nearly all freed by their reference
    counts as it ends; collecting in the middle of it scanned them over and over (a
    fifth of a group's processor time). Cycles it made are collected right after."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._writing = 0
        self._resume = False

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            if self._writing == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._writing += 1
        try:
            yield
        finally:
            with self._lock:
                self._writing -= 1
                if self._writing == 0 and self._resume:
                    gc.enable()


_collector = _CollectorPause()


class _PassFailed(Exception):
    """The group's one pass failed as a whole: its transaction is rolled back and the
    group written again, message by message (args: the fault's type name)."""


class Listener:
    def __init__(
        self, factory: sessionmaker[Session], *, zone: tzinfo, writers: int | None = None
    ) -> None:
        self.factory = factory
        self.zone = zone
        self.server: asyncio.base_events.Server | None = None
        self.handled = 0  # messages answered after their group committed
        self.groups = 0  # transactions committed
        self._count = threading.Lock()
        self._clients: set[asyncio.Task[Any]] = set()
        self._waiting: queue.SimpleQueue[_Waiting | None] = queue.SimpleQueue()
        # SQLite has one writer at a time: one thread writes every group. PostgreSQL
        # writes several transactions at once, and a writer waiting on the server for
        # its statements leaves the processor to the others: a few writers, each
        # taking the group that is waiting when it is free.
        if writers is None:
            bind = factory.kw.get("bind")
            dialect = getattr(getattr(bind, "dialect", None), "name", None)
            writers = 1 if dialect == "sqlite" else 3
        self._writers = [
            threading.Thread(target=self._write_groups, name=f"hl7-writer-{n}", daemon=True)
            for n in range(writers)
        ]
        for thread in self._writers:
            thread.start()

    async def start(self, host: str, port: int) -> int:
        # What is alive when the listener starts (modules, declared tables, the ORM's
        # mappings and compiled statements) lives as long as the process: moved out of
        # the collector's generations, so that the full collections a stream of
        # messages sets off scan only what came after (each took a large share of a
        # group's time before). Process-wide and harmless to the rest of the process.
        gc.freeze()
        self.server = await start_hl7_server(
            self._client,
            host,
            port,
            limit=MAX_BLOCK_BYTES,
            encoding="utf-8",
            encoding_errors="replace",
        )
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            for task in list(self._clients):
                task.cancel()
            await asyncio.gather(*self._clients, return_exceptions=True)
            await self.server.wait_closed()
            self.server = None
        # Messages already waiting are written (and answered if their peer is still
        # there); nothing is cut half-way through its transaction.
        for _ in self._writers:
            self._waiting.put(None)  # one stop for each writer, after what is waiting
        loop = asyncio.get_running_loop()
        for thread in self._writers:
            await loop.run_in_executor(None, thread.join)
        self._writers = []

    def submit(self, raw: str, peer: str | None, why: str | None = None) -> Future[service.Answer]:
        """Queue one message for the next group; its answer once that group committed."""
        waiting = _Waiting(raw, peer, why)
        self._waiting.put(waiting)
        return waiting.answer

    async def _client(self, reader: Any, writer: Any) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._clients.add(task)
        peer = writer.get_extra_info("peername")
        peer_text = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else None
        try:
            while True:
                try:
                    block = await reader.readblock()
                    raw, why = block.decode("utf-8", errors="replace"), None
                except asyncio.IncompleteReadError:
                    break  # the monitor hung up (a partial block was never acknowledged)
                except InvalidBlockError:
                    raw, why = "", "a block that does not begin with the MLLP start byte"
                except ValueError:
                    raw, why = "", f"a block over {MAX_BLOCK_BYTES} bytes"
                answer = await asyncio.wrap_future(self.submit(raw, peer_text, why))
                writer.writeblock(answer.text.encode("utf-8"))
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if task is not None:
                self._clients.discard(task)
            writer.close()

    def _write_groups(self) -> None:
        stopping = False
        while not stopping:
            first = self._waiting.get()
            if first is None:
                return
            group = [first]
            while len(group) < MAX_GROUP:
                try:
                    more = self._waiting.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                group.append(more)
            # A message whose monitor went away before its turn is not written: it was
            # never answered, so the monitor sends it again.
            group = [w for w in group if w.answer.set_running_or_notify_cancel()]
            if group:
                answers = self.handle_group(group)
                for waiting, answer in zip(group, answers, strict=True):
                    waiting.answer.set_result(answer)

    def handle_group(self, group: list[_Waiting]) -> list[service.Answer]:
        """The messages of one group in one transaction, charted per session in one
        pass; their answers once it is committed. Should that pass fail as a whole, the
        transaction is rolled back and the group written again, each message alone in a
        savepoint of its own, so that one fault never costs the rest of the group."""
        alone = False
        for attempt in (1, 2, 3):
            try:
                with _collector.held(), transaction(self.factory) as db:
                    _hold_loaded(db)
                    answers = self._batch(db, group, alone=alone)
            except _PassFailed as failed:
                log.error("hl7 group pass failed (%s); messages handled alone", failed.args[0])
                alone = True
                continue
            except IntegrityError:
                # A control id committed by another listener at the same moment: the
                # next attempt finds it and acknowledges it again.
                if attempt == 3:
                    break
                continue
            except Exception as exc:
                # The type only: a database error's text carries the message's values.
                log.error("hl7 group could not be committed (%s)", type(exc).__name__)
                break
            with self._count:
                self.handled += len(group)
                self.groups += 1
            log.info(
                "hl7 group of %d committed: %s",
                len(group),
                " ".join(sorted({a.code for a in answers})),
            )
            return answers
        return [_not_stored() for _ in group]

    def _batch(self, db: Session, group: list[_Waiting], *, alone: bool) -> list[service.Answer]:
        """The group charted per session in one pass (``service.receive_group``), in the
        transaction itself: no savepoint around it, as it rarely fails and a failure
        rolls the whole transaction back (``_PassFailed``). What the pass leaves (a
        correction, a session's batch it could not chart) and, with ``alone``, every
        message, is handled message by message, each in its own savepoint, in the
        order they arrived."""
        first: list[service.Answer | None] = [None] * len(group)
        if not alone:
            try:
                first = service.receive_group(
                    db,
                    group=[service.Incoming(w.raw, w.peer, w.why) for w in group],
                    zone=self.zone,
                )
            except Exception as exc:
                raise _PassFailed(type(exc).__name__) from exc
        return [
            answer if answer is not None else self._one(db, waiting)
            for waiting, answer in zip(group, first, strict=True)
        ]

    def _one(self, db: Session, waiting: _Waiting) -> service.Answer:
        for attempt in (1, 2):
            try:
                with db.begin_nested():
                    if waiting.why is not None:
                        return service.answer_garbage(
                            db, raw=waiting.raw, why=waiting.why, peer=waiting.peer
                        )
                    return service.receive(db, raw=waiting.raw, zone=self.zone, peer=waiting.peer)
            except IntegrityError:
                # The same control id stored by another writer since this transaction
                # looked: its savepoint is gone, and the second attempt finds it.
                if attempt == 2:
                    break
            except Exception as exc:
                log.error("hl7 message could not be handled (%s)", type(exc).__name__)
                break
        # Rolled back alone: the rest of the group is written.
        return _not_stored()


@contextmanager
def running(
    factory: sessionmaker[Session],
    *,
    zone: tzinfo,
    host: str = "127.0.0.1",
    port: int = 0,
    writers: int | None = None,
) -> Iterator[tuple[Listener, int]]:
    """A listener on its own event loop thread (for ``serve`` and the tests); yields it
    and the port it listens on, and stops it on exit."""
    listener = Listener(factory, zone=zone, writers=writers)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            box["port"] = loop.run_until_complete(listener.start(host, port))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc
            ready.set()
            return
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="hl7-listener", daemon=True)
    thread.start()
    ready.wait(10)
    if "error" in box:
        raise box["error"]
    try:
        yield listener, int(box["port"])
    finally:
        asyncio.run_coroutine_threadsafe(listener.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
