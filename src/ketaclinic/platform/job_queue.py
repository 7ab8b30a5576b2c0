"""The PostgreSQL job queue: procrastinate (why this one: see ``platform.jobs``).

- ``defer`` puts a declared job in the queue on the caller's own psycopg connection, in a
  savepoint of the caller's SQLAlchemy transaction: committed with the write that caused it,
  gone if that write rolls back. A duplicate key (a job with the same ``queueing_lock``
  already waiting) rolls back only the savepoint.
- ``worker_app`` is what ``ketaclinic worker`` runs: every declared job as a task (queue
  ``ketaclinic``), the scheduled ones also as periodic tasks, plus the queue's own upkeep
  (jobs left ``doing`` by a worker that died are retried: every job is safe to run again).
  Successful jobs are deleted when they finish; failed ones stay for a person to look at.
- The queue's tables and functions come from migration 0009 (PostgreSQL only), which
  carries procrastinate 3.10's schema; a procrastinate upgrade that changes its schema
  needs a migration applying procrastinate's own SQL migrations (a test compares them).
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import procrastinate
from procrastinate import exceptions as queue_errors
from sqlalchemy import make_url
from sqlalchemy.orm import Session

from ketaclinic.platform.jobs import Job, perform, registry, worker_name

log = logging.getLogger("ketaclinic.job_queue")

QUEUE = "ketaclinic"
_VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"
SCHEMA_FILE = _VERSIONS / "0009_procrastinate.sql"
DROP_FILE = _VERSIONS / "0009_procrastinate_drop.sql"


def conninfo(url: str) -> str:
    """A libpq connection string from the SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


_deferrer: procrastinate.App | None = None


def _deferring_app() -> procrastinate.App:
    """An app that only defers, on connections it is handed (it never opens a pool)."""
    global _deferrer
    if _deferrer is None:
        _deferrer = procrastinate.App(connector=procrastinate.PsycopgConnector())
    return _deferrer


def defer(db: Session, job: Job, *, at: datetime | None, arguments: dict[str, Any]) -> None:
    key = job.unique_key(**arguments)
    connection = db.connection().connection.driver_connection
    assert connection is not None
    # A savepoint of our own on psycopg's connection (SQLAlchemy's begin_nested would only
    # emit one at its next statement): a duplicate key undoes the insert and nothing else.
    connection.execute("SAVEPOINT ketaclinic_enqueue")
    try:
        _deferring_app().configure_task(
            job.name,
            queue=QUEUE,
            lock=key,
            queueing_lock=key,
            schedule_at=at,
            task_kwargs=arguments,
            connection=connection,
        ).defer()
    except queue_errors.AlreadyEnqueued:
        connection.execute("ROLLBACK TO SAVEPOINT ketaclinic_enqueue")
        log.debug("job %s already waiting", key)
    else:
        connection.execute("RELEASE SAVEPOINT ketaclinic_enqueue")


def _task(job: Job, factory: Any) -> Any:
    def run(timestamp: int | None = None, **arguments: Any) -> str:
        # ``timestamp`` is the tick of a periodic run; the job reads the clock itself.
        summary = perform(job, factory, owner=worker_name(), **arguments)
        log.info("%s: %s", job.name, summary)
        return summary

    run.__name__ = job.name.replace(".", "_")
    return run


def worker_app(url: str) -> procrastinate.App:
    """The procrastinate app of a worker process, with every declared job."""
    from ketaclinic.platform.db import make_engine, make_session_factory

    factory = make_session_factory(make_engine(url))
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=conninfo(url)),
        worker_defaults={"delete_jobs": "successful", "queues": [QUEUE]},
    )
    for job in registry().values():
        task = app.task(name=job.name, queue=QUEUE)(_task(job, factory))
        if job.every is not None:
            app.periodic(cron=job.cron, queueing_lock=job.name, lock=job.name)(task)

    @app.periodic(cron="*/5 * * * *", queueing_lock="queue.retry_stalled")
    @app.task(name="queue.retry_stalled", queue=QUEUE)
    async def retry_stalled(timestamp: int) -> int:
        """Jobs still ``doing`` on a worker that stopped sending heartbeats go back to
        the queue."""
        stalled = list(await app.job_manager.get_stalled_jobs())
        for found in stalled:
            await app.job_manager.retry_job(found)
        return len(stalled)

    return app


def run_worker(url: str, *, name: str | None = None, concurrency: int = 1) -> None:
    """Run a worker until it is stopped (SIGINT or SIGTERM end it gracefully)."""
    worker_app(url).run_worker(name=name or worker_name(), concurrency=concurrency)


def start_worker_thread(url: str, *, name: str | None = None) -> None:
    """A worker inside this process (``serve --with-worker``), in a daemon thread with
    its own event loop."""
    import asyncio
    import threading

    async def work() -> None:
        app = worker_app(url)
        async with app.open_async():
            await app.run_worker_async(name=name or worker_name(), install_signal_handlers=False)

    def main() -> None:
        try:
            asyncio.run(work())
        except Exception as exc:  # noqa: BLE001 - the web keeps serving; the log says why
            log.error("the in-process job worker stopped: %s", type(exc).__name__)

    threading.Thread(target=main, name="ketaclinic-worker", daemon=True).start()


def schema_sql() -> str:
    return SCHEMA_FILE.read_text(encoding="utf-8")
