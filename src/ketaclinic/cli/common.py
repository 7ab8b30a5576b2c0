"""What the CLI commands share: settings, a database, and one-line errors.

The command modules import the application (SQLAlchemy, pydantic, the areas, numpy and
scipy) inside the commands that need it, never at import time: ``ketaclinic --help``
and a command that needs little start without loading everything.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ketaclinic.platform.settings import Settings

DATABASES = ("sqlite", "postgresql")

# A long step's progress: ``(done, total)``.
Tick = Callable[[int, int], None]


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def known_failure(exc: BaseException) -> str | None:
    """The one line for a failure a person can fix (a setting, a file, a lock), or None
    for a fault in ketaclinic itself, which keeps its traceback."""
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

    from ketaclinic.platform.backups import BackupError
    from ketaclinic.platform.errors import ClinicError
    from ketaclinic.platform.integrity import DamagedDatabase
    from ketaclinic.platform.settings import ConfigurationError

    if isinstance(exc, ClinicError):
        return exc.detail
    if isinstance(exc, ConfigurationError | DamagedDatabase | BackupError):
        return str(exc)
    if isinstance(exc, CommandError):
        return (
            f"cannot migrate the database: {exc} (a database made by a newer version of "
            "ketaclinic?)"
        )
    if isinstance(exc, ArgumentError | NoSuchModuleError):
        return f"bad KETACLINIC_DATABASE_URL: {exc}"
    if isinstance(exc, OperationalError) or _raw_driver_error(exc):
        # A driver's own error arrives unwrapped where a command reads through the raw
        # cursor (the audit trail's verification streams that way).
        orig = exc.orig if isinstance(exc, OperationalError) else exc
        message = str(orig or exc).strip().splitlines()[0]
        if "locked" in message or "lock timeout" in message:
            return (
                "the database is locked by another process (a migration, a backup or a "
                "long write?): try again when it is done"
            )
        return f"cannot use the database: {message}"
    if isinstance(exc, DBAPIError):
        message = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        return f"cannot use the database: {message}"
    if isinstance(exc, OSError) and exc.errno in {
        errno.EACCES,
        errno.EPERM,
        errno.ENOTDIR,
        errno.EEXIST,
        errno.EISDIR,
        errno.EROFS,
        errno.ENOSPC,
        errno.ENOENT,
    }:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or type(exc).__name__}{where}"
    return None


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn the errors a person can fix into one line and a non-zero exit."""
    try:
        yield
    except Exception as exc:
        line = known_failure(exc)
        if line is None:
            raise
        raise fail(line) from None


def _data_dir_problem(path: Path) -> str | None:
    """Whether the data directory is, or could be made, a writable directory; nothing
    is created here (the command that needs it creates it)."""
    if path.exists():
        if not path.is_dir():
            return f"the data directory {path} is not a directory (KETACLINIC_DATA_DIR)"
        if not os.access(path, os.W_OK | os.X_OK):
            return f"the data directory {path} is not writable by this user (KETACLINIC_DATA_DIR)"
        return None
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    why = None
    if not ancestor.is_dir():
        why = f"{ancestor} is not a directory"
    elif not os.access(ancestor, os.W_OK | os.X_OK):
        why = f"{ancestor} is not writable by this user"
    if why:
        return f"cannot create the data directory {path}: {why} (KETACLINIC_DATA_DIR)"
    return None


def _database_url_problem(url: str) -> str | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return "bad KETACLINIC_DATABASE_URL: not a database URL (sqlite:///PATH or postgresql+psycopg://...)"
    if parsed.get_backend_name() not in DATABASES:
        return (
            f"bad KETACLINIC_DATABASE_URL: {parsed.get_backend_name()!r} is not a database "
            "ketaclinic runs on (sqlite:///PATH or postgresql+psycopg://...)"
        )
    return None


def get_settings() -> Settings:
    from ketaclinic.platform.settings import get_settings as read

    return read()


def settings() -> Settings:
    """The settings, with the data directory and database URL checked: each problem is
    one line, before any command touches them."""
    try:
        conf = get_settings()
    except ValueError as exc:
        raise fail(f"bad KETACLINIC_* setting: {exc}") from None
    problem = _data_dir_problem(conf.data_dir) or _database_url_problem(conf.effective_database_url)
    if problem:
        raise fail(problem)
    return conf


def check_database(url: str, *, create: bool = False) -> None:
    """Refuse a damaged database, and a missing one unless this command creates clinics
    (``init``, ``demo``): a missing file never silently becomes an empty clinic."""
    from ketaclinic.platform.integrity import require_usable, sqlite_file

    path = sqlite_file(url)
    if path is not None and create and not path.exists():
        # A new clinic's data folder is made here rather than failing with SQLite's
        # "unable to open database file".
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    with one_line_errors():
        require_usable(url)


@contextmanager
def database(ensure_migrated: bool = True, *, create: bool = False) -> Iterator[Session]:
    """The command's one unit of work: it commits once when the command succeeds and
    leaves nothing behind when it fails."""
    from sqlalchemy import event

    from ketaclinic.platform import migrate
    from ketaclinic.platform.db import make_engine, make_session_factory, transaction

    conf = settings()
    url = conf.effective_database_url
    check_database(url, create=create)
    with one_line_errors():
        if ensure_migrated:
            migrate.upgrade(url)
        engine = make_engine(url)
        if engine.dialect.name == "postgresql":
            event.listen(engine, "connect", _wait_for_locks_briefly)
        try:
            with transaction(make_session_factory(engine)) as db:
                yield db
        finally:
            engine.dispose()


# A one-shot command that meets a lock held by another (a migration, a long write, an
# ``LOCK TABLE`` in a psql shell) gives up after as long as SQLite's busy timeout would,
# and says so in one line, instead of waiting for ever. Long-running workers keep
# PostgreSQL's default of waiting.
POSTGRES_LOCK_TIMEOUT_MS = 5000


def _wait_for_locks_briefly(dbapi_conn: Any, _record: Any) -> None:
    with dbapi_conn.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = {int(POSTGRES_LOCK_TIMEOUT_MS)}")
    dbapi_conn.commit()  # a SET inside the connection's first transaction would be undone


def _raw_driver_error(exc: BaseException) -> bool:
    """An error of the database driver itself (sqlite3 or psycopg), not SQLAlchemy's."""
    import sqlite3

    return isinstance(exc, sqlite3.Error) or type(exc).__module__.startswith("psycopg")


def show_progress(progress: bool | None) -> bool:
    """``--progress/--no-progress``, or by default whether standard error is a terminal."""
    import sys

    return sys.stderr.isatty() if progress is None else progress


@contextmanager
def progress_bars(enabled: bool) -> Iterator[Callable[[str], Tick | None]]:
    """Rich progress bars on standard error (gone when the command ends): the ``task``
    it yields makes one bar by its label and returns its ``(done, total)`` update."""
    if not enabled:
        yield lambda _label: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:

        def task(label: str) -> Tick | None:
            found = bar.add_task(label, total=None)

            def update(done: int, total: int) -> None:
                bar.update(found, completed=done, total=total)

            return update

        yield task
