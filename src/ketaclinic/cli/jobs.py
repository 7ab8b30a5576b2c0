"""The clinic's background jobs from the command line.

- ``ketaclinic jobs run [--every N]``: the scheduled jobs in this process (run it from cron
  or a systemd timer, or loop with --every). Each job is claimed first, so it never runs in
  two processes at once (``serve`` and ``jobs run`` side by side are safe).
- ``ketaclinic jobs list``: the declared jobs, their schedules and uniqueness keys.
- ``ketaclinic worker``: a PostgreSQL job-queue worker (run one or more beside ``serve``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from ketaclinic.cli.common import check_database, fail, one_line_errors, settings
from ketaclinic.cli.main import app

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from ketaclinic.platform import jobs

jobs_app = typer.Typer(
    help="Background work: due questionnaires, alert escalation, outbox.", no_args_is_help=True
)
app.add_typer(jobs_app, name="jobs")

QUEUE_NEEDS_POSTGRES = (
    "the job queue needs PostgreSQL (KETACLINIC_DATABASE_URL=postgresql+psycopg://...); "
    "on SQLite 'ketaclinic serve' runs the jobs itself, or run 'ketaclinic jobs run --every 60'"
)


@contextmanager
def session_factory(
    *, ensure_migrated: bool = True, send_messages: bool = False
) -> Iterator[sessionmaker[Session]]:
    """Sessions on the clinic's database for jobs that open their own transactions."""
    from ketaclinic.platform import migrate
    from ketaclinic.platform.db import make_engine, make_session_factory

    conf = settings()
    url = conf.effective_database_url
    check_database(url)
    with one_line_errors():
        if send_messages:
            conf.check_messaging()  # the outbox job needs the public address, transports
        if ensure_migrated:
            migrate.upgrade(url)
        engine = make_engine(url)
        try:
            yield make_session_factory(engine)
        finally:
            engine.dispose()


def _report(results: list[jobs.Ran]) -> str:
    done = [f"{r.name.split('.', 1)[-1]}: {r.summary}" for r in results if r.ran]
    waiting = [r.name.split(".", 1)[-1] for r in results if not r.ran]
    line = "; ".join(done) if done else "nothing ran"
    if waiting:
        line += f" (left to another process: {', '.join(waiting)})"
    return line


@jobs_app.command("run")
def run(
    every: int = typer.Option(
        0, "--every", min=0, help="Repeat every this many seconds (0: run once and exit)."
    ),
) -> None:
    """Make due questionnaire requests and links, escalate unacknowledged alerts, and
    deliver the outbox: each scheduled job this process can claim."""
    from ketaclinic.platform import jobs
    from ketaclinic.platform.db import utcnow

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with session_factory(send_messages=True) as factory:
        if not every:
            results = jobs.run_scheduled(factory, force=True)
            typer.echo(f"{utcnow():%Y-%m-%d %H:%M:%S} UTC: {_report(results)}")
            if any(r.failed for r in results):
                raise fail("a job failed; see the log above")
            return
        for results in jobs.run_every(factory, every):
            typer.echo(f"{utcnow():%Y-%m-%d %H:%M:%S} UTC: {_report(results)}")


@jobs_app.command("list")
def list_jobs() -> None:
    """The declared jobs: name, schedule, uniqueness key and what each does."""
    from ketaclinic.platform import jobs

    for job in jobs.registry().values():
        when = f"every {int(job.every.total_seconds())} s" if job.every else "when enqueued"
        key = job.name if job.every else f"{job.name}:<{', '.join(_arguments(job))}>"
        typer.echo(f"{job.name}  ({when}; key {key})\n    {job.description}")


def _arguments(job: jobs.Job) -> list[str]:
    import inspect

    params = inspect.signature(job.run).parameters.values()
    return [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]


@app.command()
def worker(
    concurrency: Annotated[
        int, typer.Option(min=1, max=32, help="jobs run at the same time in this process")
    ] = 1,
    name: Annotated[str | None, typer.Option(help="the worker's name in the logs")] = None,
) -> None:
    """Run the background jobs from the PostgreSQL job queue until stopped (run one or
    more beside 'ketaclinic serve'; SIGINT or SIGTERM stop it after the current job)."""
    from ketaclinic.platform import job_queue, jobs, migrate

    conf = settings()
    url = conf.effective_database_url
    if not url.startswith("postgresql"):
        raise fail(QUEUE_NEEDS_POSTGRES)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    check_database(url)
    with one_line_errors():
        conf.check_messaging()  # the outbox job needs the public address and transports
        migrate.upgrade(url)
    typer.echo(f"ketaclinic worker: {len(jobs.registry())} job(s) declared; waiting for work")
    job_queue.run_worker(url, name=name, concurrency=concurrency)
