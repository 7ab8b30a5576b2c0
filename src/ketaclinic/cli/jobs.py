"""ketaclinic jobs run: the clinic's background work as a command (run it from cron or a
systemd timer, or loop with --every)."""

from __future__ import annotations

import logging
import time

import typer

from ketaclinic.cli.common import database, settings
from ketaclinic.cli.main import app
from ketaclinic.platform.db import utcnow

jobs_app = typer.Typer(
    help="Background work: due questionnaires, alert escalation, outbox, audit seals.",
    no_args_is_help=True,
)
app.add_typer(jobs_app, name="jobs")


def run_once() -> str:
    from ketaclinic.outcomes.service import FileTransport, run_due_work
    from ketaclinic.platform.audit import service as audit

    transport = FileTransport(settings().data_dir)
    with database() as db:
        summary = run_due_work(db, now=utcnow(), transport=transport).summary()
        sealed = audit.seal_job(db)
        db.commit()
    return f"{summary}; {sealed}"


@jobs_app.command("run")
def run(
    every: int = typer.Option(
        0, "--every", min=0, help="Repeat every this many seconds (0: run once and exit)."
    ),
) -> None:
    """Make due questionnaire requests and links, escalate unacknowledged alerts, and
    deliver the outbox."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    while True:
        typer.echo(f"{utcnow():%Y-%m-%d %H:%M:%S} UTC: {run_once()}")
        if not every:
            return
        time.sleep(every)
