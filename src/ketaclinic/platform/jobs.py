"""Declared background jobs, and the two ways they run.

Every piece of work that happens later (make the questionnaire requests that came due, send
a message, escalate an alert nobody acknowledged) is a ``Job`` declared by its area in the
area's ``jobs`` module (``JOBS = [...]``), found by ``platform.areas`` like ``models`` and
``api``. A job has a name, what it does, a schedule (``every``) if it runs by the clock, and
a uniqueness key. Each run of a job owns its transactions (``JobContext.transaction``, that
is ``platform.db.transaction``); the services it calls only flush.

How they run depends on the database:

- **SQLite** (the embedded clinic): in-process, in a thread of ``ketaclinic serve`` or in
  ``ketaclinic jobs run [--every N]``. Only the jobs with a schedule run; each run first
  claims the job's row in ``job_runs`` with one ``UPDATE ... WHERE`` the lease has expired
  (and the job is due), committed at once, so two processes never run the same job at the
  same time and a schedule is kept across processes. Work enqueued by a write is found by
  the scheduled jobs in the tables themselves (the outbox is the queue of messages; open
  alerts are the queue of escalations), so ``enqueue`` does nothing there.
- **PostgreSQL**: a real job queue, procrastinate (``platform.job_queue``), in
  ``ketaclinic worker`` processes. ``enqueue`` defers the job on the caller's own psycopg
  connection, inside its SQLAlchemy transaction: the job exists exactly when the write that
  caused it commits. Its uniqueness key is procrastinate's ``queueing_lock`` (one waiting
  job per key) and ``lock`` (one running job per key); the scheduled jobs are procrastinate
  periodic tasks, deferred once per tick whatever the number of workers.

Why procrastinate rather than PgQueuer: procrastinate can defer on a connection we hand it
(``configure(connection=...)`` with its synchronous psycopg 3 connector), so a job joins the
SQLAlchemy transaction instead of needing an outbox row moved to the queue afterwards; it has
periodic tasks deferred once per tick across workers, ``queueing_lock`` and ``lock`` for
uniqueness, ``schedule_at``, LISTEN/NOTIFY wake-up with polling as fallback, retries, and a
plain SQL schema that an Alembic migration can carry (0009). PgQueuer is lighter but async
only and brings its own schema tool and no transaction sharing with a synchronous caller.
Both backends are safe against a job running twice: the work itself claims what it does
(an outbox message, an alert's escalation) with a conditional UPDATE, so the queue's
uniqueness keeps the queue small and the claims keep the clinic's promises.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, String, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from ketaclinic.platform.areas import area_modules
from ketaclinic.platform.db import Base, UTCDateTime, transaction, utcnow
from ketaclinic.platform.messaging import clinic_time

log = logging.getLogger("ketaclinic.jobs")

LEASE = timedelta(minutes=10)
"""How long a claimed job run may take before another process may take it over."""


@dataclass(frozen=True)
class JobContext:
    """What a job run gets: sessions to open its own transactions, who runs it, when."""

    factory: sessionmaker[Session]
    owner: str
    now: datetime

    def transaction(self) -> AbstractContextManager[Session]:
        return transaction(self.factory)


@dataclass(frozen=True)
class Job:
    """One declared job. ``run(ctx, **arguments)`` does the work and returns one line
    saying what it did; ``arguments`` are whole numbers or short strings."""

    name: str
    description: str
    run: Callable[..., str]
    every: timedelta | None = None  # by the clock; None: only when enqueued
    key: Callable[..., str] | None = None  # uniqueness key from the arguments
    lease: timedelta = LEASE
    # False: kept to its schedule even when every job is run by hand ('jobs run' from a
    # cron line every minute must not take a backup every minute).
    runs_when_forced: bool = True

    def unique_key(self, **arguments: Any) -> str:
        """At most one waiting and one running job per key (the job's name and its
        arguments unless the job says otherwise)."""
        if self.key is not None:
            return self.key(**arguments)
        if not arguments:
            return self.name
        return f"{self.name}:" + ",".join(f"{k}={arguments[k]}" for k in sorted(arguments))

    @property
    def cron(self) -> str:
        """The schedule as procrastinate's cron (a sixth field for seconds if needed)."""
        if self.every is None:
            raise ValueError(f"job {self.name} has no schedule")
        seconds = int(self.every.total_seconds())
        if seconds == 86400:
            # Once a day, at 02:00 UTC: the quiet hours of a clinic in the Americas.
            return "0 2 * * *"
        if seconds % 3600 == 0 and seconds < 86400:
            return f"0 */{seconds // 3600} * * *"
        if seconds % 60 == 0:
            minutes = seconds // 60
            return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
        return f"* * * * * */{seconds}"


def seal_audit_trail(ctx: JobContext) -> str:
    from ketaclinic.platform.audit import service as audit

    with ctx.transaction() as db:
        return audit.seal_job(db)


BACKUP_FAILED = "backup_failed"


def scheduled_backup(ctx: JobContext) -> str:
    """Back up the clinic's database into the backup directory, check the copy, and keep
    7 daily, 4 weekly and 12 monthly backups. A failure tells every administrator
    through the outbox and fails the run (its row in ``job_runs`` says so)."""
    from ketaclinic.platform import backups, ports
    from ketaclinic.platform.settings import get_settings

    with ctx.factory() as db:
        bind = db.get_bind()
        url = bind.url if isinstance(bind, Engine) else bind.engine.url
    conf = get_settings().model_copy(
        update={"database_url": url.render_as_string(hide_password=False)}
    )
    try:
        made = backups.take(conf, key_file=conf.backup_key_file)
        checked = backups.verify(made.path, conf, key_file=conf.backup_key_file)
        removed = backups.prune(conf.effective_backup_dir)
    except Exception as exc:
        # The type and the clinic's own one-line reason; never a traceback's data.
        reason = str(exc) if isinstance(exc, backups.BackupError) else type(exc).__name__
        with ctx.transaction() as db:
            ports.notify_admins(
                db,
                kind=BACKUP_FAILED,
                subject="The scheduled backup failed",
                body=f"The backup of {clinic_time(ctx.now)} failed: {reason[:400]}. "
                "Take one by hand ('ketaclinic backup') and see the admin's backup page.",
            )
        raise
    return (
        f"{made.path.name}: {checked.rows} rows in {checked.tables} tables, verified; "
        f"{len(removed)} old backup(s) removed"
    )


def verify_audit_trail(ctx: JobContext) -> str:
    """The verification an administrator asked for on the audit page, if any."""
    from ketaclinic.platform.actors import Actor
    from ketaclinic.platform.audit import service as audit

    with ctx.transaction() as db:
        asked = audit.verification_state(db).asked
        if asked is None:
            return "no verification asked for"
        # Recorded in the name of the administrator who asked.
        actor = Actor(user_id=asked.actor_id, username=asked.actor)
        result = audit.verify_trail(db, actor=actor)
        return "intact" if result.ok else f"BROKEN at record {result.first_broken_id}"


PLATFORM_JOBS = [
    Job(
        "platform.seal_audit_trail",
        "Seal the audit records written since the last seal and move the checkpoint on",
        seal_audit_trail,
        every=timedelta(minutes=1),
    ),
    Job(
        "platform.backup",
        "Back up the database, verify the copy, keep 7 daily, 4 weekly and 12 monthly",
        scheduled_backup,
        every=timedelta(days=1),
        lease=timedelta(hours=2),
        runs_when_forced=False,
    ),
    Job(
        "platform.verify_audit_trail",
        "Verify the whole audit trail when an administrator asked for it on the audit page",
        verify_audit_trail,
        every=timedelta(minutes=1),
    ),
]


@lru_cache(maxsize=1)
def registry() -> dict[str, Job]:
    """Every declared job by name: the platform's own, then each area's ``jobs``
    module."""
    found: dict[str, Job] = {}
    for jobs in [PLATFORM_JOBS] + [getattr(m, "JOBS", []) for m in area_modules("jobs")]:
        for job in jobs:
            if job.name in found:
                raise RuntimeError(f"two jobs are named {job.name}")
            found[job.name] = job
    return found


def get(name: str) -> Job:
    try:
        return registry()[name]
    except KeyError:
        raise LookupError(f"no job named {name!r}") from None


def scheduled() -> list[Job]:
    return [job for job in registry().values() if job.every is not None]


def uses_queue(db: Session) -> bool:
    return db.get_bind().dialect.name == "postgresql"


def enqueue(db: Session, name: str, *, at: datetime | None = None, **arguments: Any) -> None:
    """Ask for ``name`` to run (at ``at``, or as soon as a worker is free) once the
    caller's transaction commits; nothing happens if it rolls back. A job already waiting
    with the same key is not enqueued twice. On SQLite the scheduled jobs find the work
    themselves, so this only checks the name."""
    job = get(name)
    if not uses_queue(db):
        return
    from ketaclinic.platform import job_queue

    job_queue.defer(db, job, at=at, arguments=arguments)


def worker_name() -> str:
    """Who claims: host, process and thread, so a claim can be told apart and traced."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:120]


# --- in-process runs with a lease (SQLite, and ``jobs run`` anywhere) ---------------


class JobRun(Base):
    """The lease and last run of each scheduled job run in-process."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_result: Mapped[str | None] = mapped_column(String(300))


@dataclass(frozen=True)
class Ran:
    name: str
    ran: bool
    summary: str
    failed: bool = False


def claim(
    factory: sessionmaker[Session], job: Job, *, owner: str, now: datetime, force: bool
) -> bool:
    """Take the job's lease in a short transaction of its own: true when this process
    may run the job now. Without ``force`` the job must also be due by its schedule."""
    with transaction(factory) as db:
        values = {"name": job.name}
        if db.get_bind().dialect.name == "postgresql":
            db.execute(pg_insert(JobRun).values(values).on_conflict_do_nothing())
        else:
            db.execute(sqlite_insert(JobRun).values(values).on_conflict_do_nothing())
        conditions = [
            JobRun.name == job.name,
            or_(JobRun.lease_until.is_(None), JobRun.lease_until < now),
        ]
        if (not force or not job.runs_when_forced) and job.every is not None:
            # A few seconds' slack, so a loop ticking at the job's own period never
            # skips a beat because the last run started a moment late.
            slack = min(timedelta(seconds=5), job.every / 10)
            conditions.append(
                or_(
                    JobRun.last_started_at.is_(None),
                    JobRun.last_started_at <= now - job.every + slack,
                )
            )
        result = db.execute(
            update(JobRun)
            .where(*conditions)
            .values(lease_owner=owner, lease_until=now + job.lease, last_started_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1


def release(factory: sessionmaker[Session], job: Job, *, owner: str, result: str) -> None:
    with transaction(factory) as db:
        db.execute(
            update(JobRun)
            .where(JobRun.name == job.name, JobRun.lease_owner == owner)
            .values(
                lease_owner=None,
                lease_until=None,
                last_finished_at=utcnow(),
                last_result=result[:300],
            )
            .execution_options(synchronize_session=False)
        )


def perform(job: Job, factory: sessionmaker[Session], *, owner: str, **arguments: Any) -> str:
    """Run one job now (the claim, if any, is the caller's)."""
    return job.run(JobContext(factory=factory, owner=owner, now=utcnow()), **arguments)


def run_scheduled(
    factory: sessionmaker[Session], *, force: bool = False, names: set[str] | None = None
) -> list[Ran]:
    """Run each scheduled job this process can claim: all of them with ``force`` (a
    person asked), else those due by their schedule. A failing job is logged and
    reported; the others still run."""
    owner = worker_name()
    results = []
    for job in scheduled():
        if names is not None and job.name not in names:
            continue
        if not claim(factory, job, owner=owner, now=utcnow(), force=force):
            results.append(Ran(job.name, False, "not due, or running elsewhere"))
            continue
        try:
            summary = perform(job, factory, owner=owner)
        except Exception as exc:  # noqa: BLE001 - reported; the lease is given back
            # The type only: an exception's text may carry patient data.
            log.error("job %s failed: %s", job.name, type(exc).__name__)
            release(factory, job, owner=owner, result=f"failed: {type(exc).__name__}")
            results.append(Ran(job.name, True, f"failed ({type(exc).__name__})", failed=True))
        else:
            release(factory, job, owner=owner, result=summary)
            results.append(Ran(job.name, True, summary))
    return results


def run_every(
    factory: sessionmaker[Session], every: float, *, stop: threading.Event | None = None
) -> Iterator[list[Ran]]:
    """Run the due jobs every ``every`` seconds until ``stop`` is set, yielding each
    round's results."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            yield run_scheduled(factory)
        except Exception as exc:  # noqa: BLE001 - keep going; the next round retries
            log.error("background jobs could not run: %s", type(exc).__name__)
            yield []
        stop.wait(every)
