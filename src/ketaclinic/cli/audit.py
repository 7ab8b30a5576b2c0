"""ketaclinic audit verify: check the hash chain of the audit trail."""

from __future__ import annotations

import typer

from ketaclinic.cli.common import database
from ketaclinic.cli.main import app
from ketaclinic.platform.audit import service as audit

audit_app = typer.Typer(help="Inspect the audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def verify() -> None:
    """Walk the audit chain; report the first broken link and exit 1 if there is one."""
    with database() as db:
        result = audit.verify(db)
    if result.ok:
        typer.echo(f"audit trail intact: {result.checked} records, every link holds")
        return
    typer.secho(
        f"audit trail BROKEN at record {result.first_broken_id}: {result.problem} "
        f"({result.checked} records before it are intact)",
        err=True,
        fg=typer.colors.RED,
    )
    raise typer.Exit(1)
