"""ketaclinic audit verify | seal: check and seal the keyed audit trail."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from ketaclinic.cli.common import database, one_line_errors
from ketaclinic.cli.main import app
from ketaclinic.platform.actors import Actor

if TYPE_CHECKING:
    from ketaclinic.platform.audit import chain

audit_app = typer.Typer(help="Inspect and seal the audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

# Who runs a command: the operating-system account is all the CLI knows.
CLI_ACTOR = Actor(user_id=None, username="cli")


@contextmanager
def _progress(enabled: bool) -> Iterator[chain.Progress | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    # Record ids reached out of the highest id, how fast and how long still to go.
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("verifying records", total=None, rate="")

        def update(reached: int, top: int) -> None:
            bar.update(task, completed=reached, total=top)
            speed = bar.tasks[0].speed
            if speed:
                bar.update(task, rate=f"{speed:,.0f} records/s")

        yield update


@audit_app.command("verify")
def verify(
    progress: bool = typer.Option(
        None, "--progress/--no-progress", help="Show a progress bar (default: on a terminal)."
    ),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Go on from the last seal a verification reached (an interrupted run, or "
        "only the records added since the last run).",
    ),
) -> None:
    """Seal pending records, then check every record, seal and the checkpoint; name the
    first broken record and exit 1 if there is one."""
    from ketaclinic.platform.audit import service as audit

    show = sys.stderr.isatty() if progress is None else progress
    with database() as db, one_line_errors(), _progress(show) as update:
        result = audit.verify_trail(db, actor=CLI_ACTOR, progress=update, resume=resume)
    for warning in result.warnings:
        typer.secho(f"warning: {warning}", err=True, fg=typer.colors.YELLOW)
    if result.ok:
        typer.echo(
            f"audit trail intact: {result.checked} records"
            + (f" after record {result.resumed_after}" if result.resumed_after else "")
            + ", every link holds "
            f"({result.sealed} sealed, {result.unsealed} not sealed yet)"
        )
        return
    where = f" at record {result.first_broken_id}" if result.first_broken_id else ""
    typer.secho(
        f"audit trail BROKEN{where}: {result.problem} "
        f"({result.checked} records before it are intact)",
        err=True,
        fg=typer.colors.RED,
    )
    raise typer.Exit(1)


@audit_app.command("seal")
def seal() -> None:
    """Seal every record not sealed yet (the jobs runner does this too)."""
    from ketaclinic.platform.audit import service as audit

    with database() as db, one_line_errors():
        summary = audit.seal_job(db)
    typer.echo(summary)
