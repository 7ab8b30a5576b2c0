"""Top-level Typer application; each command group lives in its own module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="ketaclinic",
    help="ketaclinic: run a ketamine therapy clinic.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
