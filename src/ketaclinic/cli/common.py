"""What the CLI commands share: settings, a database, and one-line errors.

The command modules import the application (SQLAlchemy, pydantic, the areas, numpy and
scipy) inside the commands that need it, never at import time: ``ketaclinic --help``
and a command that needs little start without loading everything.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ketaclinic.platform.settings import Settings


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn the errors a person can fix into one line and a non-zero exit."""
    from sqlalchemy.exc import OperationalError

    from ketaclinic.platform.errors import ClinicError
    from ketaclinic.platform.settings import ConfigurationError

    try:
        yield
    except ClinicError as exc:
        raise fail(exc.detail) from None
    except ConfigurationError as exc:
        raise fail(str(exc)) from None
    except OperationalError as exc:
        raise fail(f"cannot use the database: {exc.orig}") from None


def get_settings() -> Settings:
    from ketaclinic.platform.settings import get_settings as read

    return read()


def settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:
        raise fail(f"bad KETACLINIC_* setting: {exc}") from None


@contextmanager
def database(ensure_migrated: bool = True) -> Iterator[Session]:
    """The command's one unit of work: it commits once when the command succeeds and
    leaves nothing behind when it fails."""
    from ketaclinic.platform import migrate
    from ketaclinic.platform.db import make_engine, make_session_factory, transaction

    conf = settings()
    url = conf.effective_database_url
    with one_line_errors():
        if ensure_migrated:
            migrate.upgrade(url)
        engine = make_engine(url)
        try:
            with transaction(make_session_factory(engine)) as db:
                yield db
        finally:
            engine.dispose()
