"""Setting up and running a clinic: init, migrate, serve, demo."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from ketaclinic.cli.common import database, fail, one_line_errors, settings
from ketaclinic.cli.main import app
from ketaclinic.platform import migrate as migrations
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.actors import SYSTEM


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (safe to run at any time)."""
    url = settings().effective_database_url
    with one_line_errors():
        migrations.upgrade(url)
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
    with database() as db:
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


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    jobs_every: Annotated[
        int,
        typer.Option(
            min=0,
            help="also run the background work (due questionnaires, alert escalation, "
            "outbox) every this many seconds; 0 when cron runs 'ketaclinic jobs run'",
        ),
    ] = 60,
) -> None:
    """Start the web application (migrating the database first)."""
    import uvicorn

    from ketaclinic.platform.app import create_app

    conf = settings()
    with one_line_errors():
        migrations.upgrade(conf.effective_database_url)
        application = create_app(conf)
    typer.echo(f"ketaclinic on http://{host}:{port}/  (database: {_redacted(conf)})")
    if jobs_every:
        _start_jobs(jobs_every)
    uvicorn.run(application, host=host, port=port, log_level="info", access_log=False)


def _start_jobs(every: int) -> None:
    """Background work in a daemon thread, so that an embedded clinic needs no cron."""
    import threading
    import time

    from ketaclinic.cli.jobs import run_once

    def loop() -> None:
        while True:
            try:
                run_once()
            except Exception as exc:  # noqa: BLE001 - keep serving; the next round retries
                typer.secho(f"background work failed: {type(exc).__name__}", err=True)
            time.sleep(every)

    threading.Thread(target=loop, name="ketaclinic-jobs", daemon=True).start()


def _redacted(conf: object) -> str:
    url: str = conf.effective_database_url  # type: ignore[attr-defined]
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


@app.command()
def demo(
    reset: Annotated[bool, typer.Option(help="wipe an existing demo clinic first")] = False,
    seed: Annotated[int, typer.Option(help="random seed for the demo histories")] = 7,
) -> None:
    """Fill an empty database with a realistic demo clinic and print its logins."""
    from ketaclinic import demo as demo_data

    if reset:
        with database(ensure_migrated=False) as db, one_line_errors():
            demo_data.wipe(db)
    with database() as db:
        if db.scalar(select(func.count()).select_from(User)) and not reset:
            typer.echo(
                "the database already holds a clinic; demo data left as it is "
                "(use --reset to rebuild a demo database)"
            )
        else:
            with one_line_errors():
                demo_data.build(db, seed=seed, today=date.today())
            typer.echo("demo clinic created")
        table = Table(title=f"Logins (demo password for all: {demo_data.PASSWORD})")
        table.add_column("username")
        table.add_column("roles")
        for user in accounts.list_users(db):
            if user.active:
                table.add_row(user.username, ", ".join(sorted(user.role_names)))
    Console().print(table)
