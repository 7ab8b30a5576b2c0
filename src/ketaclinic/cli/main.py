"""Top-level Typer application; each command group lives in its own module."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup


class OneLineErrors(TyperGroup):
    """The last wall of every command: a failure a person can fix (a bad database URL, a
    data directory that cannot be used, a locked or damaged database) is one line and a
    non-zero exit, never a traceback, whichever command met it."""

    def invoke(self, ctx: Any) -> Any:
        from ketaclinic.cli.common import fail, known_failure

        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.exceptions.TyperException):
            # Click's own ends (``--help``, a usage error) are not failures: judging them
            # would import the whole application just to print a help text.
            raise
        except Exception as exc:
            line = known_failure(exc)
            if line is None:
                raise
            raise fail(line) from None


app = typer.Typer(
    name="ketaclinic",
    help="ketaclinic: run a ketamine therapy clinic.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=OneLineErrors,
)
