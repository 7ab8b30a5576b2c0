"""The MLLP listener: python-hl7's asyncio MLLP server, one task per connected monitor.

Each framed message (0x0B ... 0x1C 0x0D) is handled in its own transaction on a worker
thread and answered only after that transaction commits, so an ``AA`` that reached the
monitor is a stored reading, whatever happens to the listener afterwards; a message
that was not answered is resent by the monitor and, if it was stored after all, is
recognised by its control id. Nothing a peer sends can stop the listener: an
undecodable block is answered ``AR`` and kept for review."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import tzinfo
from typing import Any

from hl7.mllp import InvalidBlockError, start_hl7_server
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ketaclinic.interop import service
from ketaclinic.interop.hl7 import pcd01
from ketaclinic.platform.db import transaction

log = logging.getLogger("ketaclinic.hl7")

# A PCD-01 message of a few OBX segments is a few kilobytes; a block beyond this is
# refused rather than buffered (ketaclinic's own bound, not an HL7 rule).
MAX_BLOCK_BYTES = 1 << 20


class Listener:
    def __init__(
        self, factory: sessionmaker[Session], *, zone: tzinfo, writers: int | None = None
    ) -> None:
        self.factory = factory
        self.zone = zone
        # SQLite has one writer at a time: messages queue on one thread rather than wait
        # on the file lock (whose retries sleep); PostgreSQL writes several at once.
        if writers is None:
            bind = factory.kw.get("bind")
            sqlite = (
                bind is not None
                and getattr(bind, "dialect", None) is not None
                and (bind.dialect.name == "sqlite")
            )
            writers = 1 if sqlite else 4
        self._pool = ThreadPoolExecutor(max_workers=writers, thread_name_prefix="hl7-writer")
        self.server: asyncio.base_events.Server | None = None
        self.handled = 0
        self._clients: set[asyncio.Task[Any]] = set()

    async def start(self, host: str, port: int) -> int:
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
        # Messages already being written finish (and are answered if their peer is
        # still there); nothing is cut half-way through its transaction.
        self._pool.shutdown(wait=True)

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
                loop = asyncio.get_running_loop()
                answer = await loop.run_in_executor(self._pool, self.handle, raw, peer_text, why)
                writer.writeblock(answer.text.encode("utf-8"))
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if task is not None:
                self._clients.discard(task)
            writer.close()

    def handle(self, raw: str, peer: str | None, why: str | None = None) -> service.Answer:
        """One message, one transaction; the answer once it is committed."""
        for attempt in (1, 2):
            try:
                with transaction(self.factory) as db:
                    if why is not None:
                        answer = service.answer_garbage(db, raw=raw, why=why, peer=peer)
                    else:
                        answer = service.receive(db, raw=raw, zone=self.zone, peer=peer)
                self.handled += 1
                log.info("hl7 message answered %s", answer.code)
                return answer
            except IntegrityError:
                # The same control id committed by another connection at the same
                # moment: the second attempt finds it and acknowledges it again.
                if attempt == 2:
                    break
            except Exception as exc:
                # The type only: a database error's text carries the message's values.
                log.error("hl7 message could not be handled (%s)", type(exc).__name__)
                break
        # Not stored: AE, so that the monitor sends it again.
        refusal = pcd01.Refused("AE", pcd01.APPLICATION_ERROR, "not stored; send it again")
        return service.Answer("AE", pcd01.ack(None, "AE", error=refusal, control="0"))


@contextmanager
def running(
    factory: sessionmaker[Session], *, zone: tzinfo, host: str = "127.0.0.1", port: int = 0
) -> Iterator[tuple[Listener, int]]:
    """A listener on its own event loop thread (for ``serve`` and the tests); yields it
    and the port it listens on, and stops it on exit."""
    listener = Listener(factory, zone=zone)
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
