"""Setting up and running a clinic: init, migrate, serve, demo."""

from __future__ import annotations

import inspect
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ketaclinic.cli.common import check_database, database, fail, one_line_errors, settings
from ketaclinic.cli.main import app

if TYPE_CHECKING:
    from ketaclinic.platform.settings import Settings


@app.command()
def migrate(
    no_backup: Annotated[
        bool, typer.Option("--no-backup", help="migrate without taking a backup first")
    ] = False,
) -> None:
    """Bring the database schema up to date (safe to run at any time); a backup is taken
    first when there is anything to migrate."""
    from ketaclinic.platform import backups
    from ketaclinic.platform import migrate as migrations
    from ketaclinic.platform.db import make_engine

    conf = settings()
    url = conf.effective_database_url
    check_database(url)
    with one_line_errors():
        engine = make_engine(url)
        try:
            current = migrations.is_current(engine, url)
        finally:
            engine.dispose()
        if not current and not no_backup:
            try:
                made = backups.take(conf, key_file=conf.backup_key_file)
            except backups.BackupError as exc:
                raise fail(f"{exc}; nothing was migrated (or migrate with --no-backup)") from None
            typer.echo(f"backup before migrating: {made.path}")
        migrations.upgrade(url)
        if not current and not no_backup:
            backups.record_taken(conf, made)
    typer.echo("database schema is current")


@app.command()
def init(
    admin_username: Annotated[str, typer.Option(help="username of the first administrator")],
    admin_name: Annotated[str, typer.Option(help="full name of the first administrator")],
    admin_password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ],
) -> None:
    """Create the database and the first administrator of a new clinic."""
    from sqlalchemy import func, select

    from ketaclinic.platform.accounts import service as accounts
    from ketaclinic.platform.accounts.models import User
    from ketaclinic.platform.actors import SYSTEM

    with database(create=True) as db:
        if db.scalar(select(func.count()).select_from(User)):
            raise fail("this clinic already has users; add more with 'ketaclinic user add'")
        with one_line_errors():
            accounts.create_user(
                db,
                actor=SYSTEM,
                username=admin_username,
                full_name=admin_name,
                password=admin_password,
                roles=["admin"],
            )
    typer.echo(f"clinic ready; administrator {admin_username!r} created")


SEVERAL_WEB_PROCESSES_NEED_POSTGRES = (
    "several web processes need PostgreSQL: SQLite has one writer at a time; set "
    "KETACLINIC_DATABASE_URL=postgresql+psycopg://... or serve with --workers 1"
)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="web processes (more than one needs PostgreSQL)")
    ] = 1,
    jobs_every: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="run the scheduled background jobs (due questionnaires, alert escalation, "
            "outbox) in this process every this many seconds; default 60 on SQLite and 0 "
            "on PostgreSQL, where 'ketaclinic worker' runs them",
        ),
    ] = None,
    with_worker: Annotated[
        bool,
        typer.Option(
            "--with-worker",
            help="PostgreSQL: also run a job-queue worker inside this process "
            "(a one-machine clinic that wants a single service)",
        ),
    ] = False,
    hl7_port: Annotated[
        int,
        typer.Option(
            min=0,
            max=65535,
            help="also receive bedside monitors' HL7 (MLLP) on this port in this process "
            "(0: off; or run 'ketaclinic hl7 listen' as a service of its own)",
        ),
    ] = 0,
) -> None:
    """Start the web application (migrating the database first)."""
    import uvicorn

    from ketaclinic.cli.jobs import QUEUE_NEEDS_POSTGRES
    from ketaclinic.platform import migrate as migrations

    conf = _with_served_address(settings(), host=host, port=port)
    url = conf.effective_database_url
    postgres = url.startswith("postgresql")
    if workers > 1 and not postgres:
        raise fail(SEVERAL_WEB_PROCESSES_NEED_POSTGRES)
    if with_worker and not postgres:
        raise fail(QUEUE_NEEDS_POSTGRES)
    every = jobs_every if jobs_every is not None else (0 if postgres else 60)
    # Never a new, empty clinic in place of a missing or damaged one.
    check_database(url)
    with one_line_errors():
        migrations.upgrade(url)
        _require_current_schema(url)
        from ketaclinic.platform.app import create_app

        application = create_app(conf)  # also checks the settings before any fork
    typer.echo(f"ketaclinic on http://{host}:{port}/  (database: {_redacted(conf)})")
    if every:
        _start_jobs(every)
        typer.echo(f"background jobs: in this process, every {every} s")
    elif with_worker:
        from ketaclinic.platform import job_queue

        job_queue.start_worker_thread(url)
        typer.echo("background jobs: a job-queue worker in this process")
    else:
        typer.echo(
            "background jobs: not in this process; run 'ketaclinic worker' "
            "(or serve with --with-worker)"
            if postgres
            else "background jobs: off (--jobs-every 0); run 'ketaclinic jobs run' from cron"
        )
    if hl7_port and workers > 1:
        raise fail("--hl7-port needs one web process; run 'ketaclinic hl7 listen' beside them")
    if hl7_port:
        from contextlib import ExitStack

        from ketaclinic.interop.hl7.listener import running

        with ExitStack() as stack:
            stack.enter_context(
                running(application.state.session_factory, zone=conf.zone, host=host, port=hl7_port)
            )
            typer.echo(f"bedside monitors: MLLP on {host}:{hl7_port}")
            uvicorn.run(application, host=host, port=port, log_level="info", access_log=False)
        return
    if workers > 1:
        # Each web process builds its own app from the same KETACLINIC_* environment.
        application.state.engine.dispose()
        options: dict[str, object] = {}
        if "timeout_worker_healthcheck" in inspect.signature(uvicorn.run).parameters:
            # A web process imports the whole application before it answers uvicorn's
            # health check: on a busy small server that takes more than 5 seconds.
            options["timeout_worker_healthcheck"] = 60
        uvicorn.run(
            "ketaclinic.platform.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            access_log=False,
            **options,  # type: ignore[arg-type]
        )
        return
    uvicorn.run(application, host=host, port=port, log_level="info", access_log=False)


def served_address(host: str, port: int) -> str:
    """The address links point at in development: where this server listens (a server
    listening on every interface is reached by the machine's name)."""
    import socket

    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - naming the address, not binding it
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _with_served_address(conf: Settings, *, host: str, port: int) -> Settings:
    """Development links point where ``serve`` listens: kept in the environment so that
    the web processes this one starts, and its background jobs, build the same links."""
    if conf.public_url or conf.mode == "production":
        return conf
    import os

    from ketaclinic.platform.settings import get_settings as cached

    os.environ["KETACLINIC_SERVED_AT"] = served_address(host, port)
    cached.cache_clear()
    return settings()


def _require_current_schema(url: str) -> None:
    from ketaclinic.platform import integrity
    from ketaclinic.platform.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            problem = integrity.revision_problem(conn)
    finally:
        engine.dispose()
    if problem:
        raise fail(problem)


def _start_jobs(every: int) -> None:
    """The scheduled jobs in a daemon thread, so that an embedded clinic needs no cron.
    Each job is claimed first: a second process (another serve, 'jobs run') never runs it
    at the same time."""
    import threading

    from ketaclinic.platform import jobs
    from ketaclinic.platform.db import make_engine, make_session_factory

    factory = make_session_factory(make_engine(settings().effective_database_url))

    def loop() -> None:
        for results in jobs.run_every(factory, every):
            for failed in (r for r in results if r.failed):
                typer.secho(f"background job {failed.name} failed", err=True)

    threading.Thread(target=loop, name="ketaclinic-jobs", daemon=True).start()


def _redacted(conf: object) -> str:
    url: str = conf.effective_database_url  # type: ignore[attr-defined]
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def _seed_years(db: Any, years: float, seed: int) -> None:
    import time

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from ketaclinic.demo import scale as scaled

    began = time.perf_counter()
    with (
        one_line_errors(),
        Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as bar,
    ):
        task = bar.add_task("seeding patients", total=None)
        made = scaled.seed(
            db,
            clinic_years=years,
            seed=seed,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    typer.echo(
        f"seeded {years:g} clinic-year(s) in {time.perf_counter() - began:.0f} s: "
        f"{made.patients} patients, {made.sessions} sessions, {made.vital_signs} vital "
        f"signs, {made.responses} questionnaire responses, {made.audit_rows} audit records"
    )


@app.command()
def demo(
    reset: Annotated[bool, typer.Option(help="wipe an existing demo clinic first")] = False,
    seed: Annotated[int, typer.Option(help="random seed for the demo histories")] = 7,
    scale: Annotated[
        float,
        typer.Option(
            help="also seed this many clinic-years of history before the demo's months "
            "(about 500 patients, 6,000 sessions and a million vital signs each), for "
            "measuring a clinic at scale"
        ),
    ] = 0.0,
) -> None:
    """Fill an empty database with a realistic demo clinic and print its logins."""
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import func, select

    from ketaclinic import demo as demo_data
    from ketaclinic.platform.accounts import service as accounts
    from ketaclinic.platform.accounts.models import User
    from ketaclinic.platform.integrity import sqlite_file

    path = sqlite_file(settings().effective_database_url)
    # A SQLite file not there yet has nothing to wipe; opening it to wipe would leave an
    # empty file that is not yet a ketaclinic database, which the build then refuses.
    if reset and (path is None or path.exists()):
        with database(ensure_migrated=False, create=True) as db, one_line_errors():
            demo_data.wipe(db)
    with database(create=True) as db:
        if db.scalar(select(func.count()).select_from(User)) and not reset:
            typer.echo(
                "the database already holds a clinic; demo data left as it is "
                "(use --reset to rebuild a demo database)"
            )
        else:
            with one_line_errors():
                demo_data.build(db, seed=seed, today=date.today())
            typer.echo("demo clinic created")
        if scale > 0:
            _seed_years(db, scale, seed)
        table = Table(title=f"Logins (demo password for all: {demo_data.PASSWORD})")
        table.add_column("username")
        table.add_column("roles")
        for user in accounts.list_users(db):
            if user.active:
                table.add_row(user.username, ", ".join(sorted(user.role_names)))
    Console().print(table)
