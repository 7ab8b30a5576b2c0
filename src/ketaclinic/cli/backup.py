"""ketaclinic backup | backup verify | backup new-key | restore | doctor."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ketaclinic.cli.common import fail, one_line_errors, settings
from ketaclinic.cli.main import app

if TYPE_CHECKING:
    from ketaclinic.platform import backups

backup_app = typer.Typer(
    help="Back up the clinic's database (with no subcommand: take a backup now).",
    invoke_without_command=True,
)
app.add_typer(backup_app, name="backup")

KeyFile = Annotated[
    Path | None,
    typer.Option("--key-file", help="the backup's encryption key file, if it is encrypted"),
]


@contextmanager
def _progress() -> Iterator[backups.Progress | None]:
    """A progress bar on stderr when it is a terminal (copying, checksums, encryption)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TaskID,
        TimeRemainingColumn,
    )

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def update(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total or None)
            bar.update(tasks[what], completed=done, total=total or None)

        yield update


def _describe(checked: backups.Checked) -> str:
    manifest = checked.backup.manifest
    return (
        f"{checked.tables} tables, {checked.rows} rows, schema revision "
        f"{manifest['schema_revision']}, taken {manifest['created_at']}"
        + (", encrypted" if manifest.get("encrypted") else "")
    )


@backup_app.callback()
def backup(
    ctx: typer.Context,
    to: Annotated[
        Path | None,
        typer.Option(help="directory to put the backup in (default: <data dir>/backups)"),
    ] = None,
    encrypt_key_file: Annotated[
        Path | None,
        typer.Option(help="encrypt with this key file (make one with 'ketaclinic backup new-key')"),
    ] = None,
) -> None:
    """Take a consistent backup while the clinic works, with a signed manifest."""
    if ctx.invoked_subcommand is not None:
        return
    from ketaclinic.platform import backups, integrity

    conf = settings()
    with one_line_errors():
        integrity.require_usable(conf.effective_database_url)
        with _progress() as progress:
            made = backups.take(
                conf, to=to, key_file=encrypt_key_file or conf.backup_key_file, progress=progress
            )
    tables = made.manifest["tables"]
    typer.echo(
        f"backup written to {made.path}: {len(tables)} tables, {sum(tables.values())} rows, "
        f"schema revision {made.manifest['schema_revision']}"
        + (", encrypted" if made.manifest["encrypted"] else "")
    )


@backup_app.command("verify")
def verify(
    path: Annotated[Path, typer.Argument(help="the backup directory")],
    key_file: KeyFile = None,
    scratch_database_url: Annotated[
        str | None,
        typer.Option(
            help="PostgreSQL: an empty database to restore the dump into for the check "
            "(emptied again afterwards)"
        ),
    ] = None,
) -> None:
    """Check a backup as a restore would (manifest, checksums, rows, audit trail), restoring
    nothing."""
    from ketaclinic.platform import backups

    conf = settings()
    with one_line_errors(), _progress() as progress:
        checked = backups.verify(
            path,
            conf,
            key_file=key_file,
            progress=progress,
            scratch_database_url=scratch_database_url,
        )
    for note in checked.notes:
        typer.echo(f"note: {note}")
    audit = (
        f"; audit trail intact: {checked.audit_records} records" if checked.audit_records else ""
    )
    typer.echo(f"backup {path} holds: {_describe(checked)}{audit}")


@backup_app.command("new-key")
def new_key(path: Annotated[Path, typer.Argument(help="where to write the new key file")]) -> None:
    """Make a key file for encrypted backups. Keep a copy away from the backups: without
    it they cannot be restored."""
    from ketaclinic.platform import backups

    with one_line_errors():
        try:
            backups.new_key_file(path)
        except FileExistsError:
            raise fail(f"{path} already exists: a key is never overwritten") from None
    typer.echo(f"backup key written to {path} (readable by you only); keep a copy safe")


@app.command()
def restore(
    path: Annotated[Path, typer.Argument(help="the backup directory")],
    data_dir: Annotated[
        Path,
        typer.Option(
            help="the restored clinic's new data directory (its SQLite database, audit "
            "checkpoint and key)"
        ),
    ],
    database_url: Annotated[
        str | None,
        typer.Option(help="PostgreSQL: the new, empty database to restore into"),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="replace a database already there (stop the clinic first)")
    ] = False,
    key_file: KeyFile = None,
) -> None:
    """Restore a backup into a new place, check it, migrate it and verify its audit trail."""
    from sqlalchemy.engine import make_url

    from ketaclinic.platform import backups

    conf = settings()
    if data_dir.resolve() == conf.data_dir.resolve() and not force:
        # The live clinic's audit checkpoint would vouch for the restored trail.
        raise fail(
            f"{data_dir} is this clinic's own data directory: restore into a new one "
            "(or give --force, with the clinic stopped)"
        )
    target = conf.model_copy(update={"data_dir": data_dir, "database_url": database_url})
    with one_line_errors(), _progress() as progress:
        checked = backups.restore(
            path, conf, target, force=force, key_file=key_file, progress=progress
        )
    for note in checked.notes:
        typer.echo(note)
    where = make_url(target.effective_database_url).render_as_string(hide_password=True)
    typer.echo(
        f"restored {_describe(checked)} into {where}; "
        f"audit trail intact: {checked.audit_records} records"
    )
    serve = f"KETACLINIC_DATA_DIR={data_dir}"
    if database_url:
        serve += " KETACLINIC_DATABASE_URL=<that database>"
    typer.echo(f"serve it with: {serve} ketaclinic serve")


@app.command()
def doctor() -> None:
    """Check the whole database (SQLite: every page and index, PRAGMA integrity_check) and
    its schema revision."""
    from ketaclinic.platform import integrity
    from ketaclinic.platform.db import make_engine

    url = settings().effective_database_url
    with one_line_errors():
        integrity.require_usable(url, full=True)
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                problem = integrity.revision_problem(conn)
        finally:
            engine.dispose()
    if problem:
        raise fail(problem)
    typer.echo("database intact: every check passed")
