"""``ketaclinic reports research-export --out FILE.zip --as USERNAME``: the researcher's
de-identified export (the research page's ZIP: CSV, Parquet and a data dictionary) taken
on the command line, in the name of a researcher, audited as the page's.

The file appears whole or not at all: the archive is written to a temporary file beside
``--out`` and renamed into place only once the export and its audit record are committed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from ketaclinic.cli.common import database, fail, one_line_errors, progress_bars, show_progress
from ketaclinic.cli.main import app

reports_app = typer.Typer(help="Reports and exports of the clinic's records.", no_args_is_help=True)
app.add_typer(reports_app, name="reports")

# How the audit record of an export taken here names its way in.
VIA = "the command line"


def _temporary_beside(out: Path, content: bytes) -> Path:
    """``content`` in a new file in ``out``'s directory (a rename there is atomic),
    flushed to the disk."""
    handle, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    written = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        written.unlink(missing_ok=True)
        raise
    return written


def _put_in_place(written: Path, out: Path, *, force: bool) -> None:
    if force:
        os.replace(written, out)
        return
    # A hard link fails if ``out`` appeared meanwhile, where a rename would replace it.
    try:
        os.link(written, out)
    except FileExistsError:
        raise fail(f"{out} exists: choose another --out, or add --force to replace it") from None
    finally:
        written.unlink(missing_ok=True)


@reports_app.command("research-export")
def research_export(
    out: Annotated[Path, typer.Option("--out", help="the ZIP file to write")],
    username: Annotated[
        str, typer.Option("--as", help="the researcher taking the export (their username)")
    ],
    force: Annotated[bool, typer.Option("--force", help="replace an existing --out file")] = False,
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--no-progress", help="show a progress bar (default: on a terminal)"
        ),
    ] = None,
) -> None:
    """Take the de-identified research export (HIPAA Safe Harbor) as a ZIP of CSV and
    Parquet with a data dictionary, in a researcher's name; audited as on the research
    page."""
    if out.exists() and not force:
        raise fail(f"{out} exists: choose another --out, or add --force to replace it")
    if out.is_dir():
        raise fail(f"{out} is a directory: name the ZIP file to write")
    if not out.parent.is_dir():
        raise fail(f"no directory {out.parent} to write {out.name} in")
    from ketaclinic.platform.accounts import service as accounts
    from ketaclinic.platform.errors import NotFound
    from ketaclinic.platform.roles import Role
    from ketaclinic.reports import service as reports

    written: Path | None = None
    try:
        with database() as db, one_line_errors():
            try:
                user = accounts.get_user(db, username=username.lower())
            except NotFound:
                raise fail(f"no user {username!r}", code=2) from None
            actor = accounts.actor_for(user)
            if not user.active or Role.researcher not in actor.roles:
                why = "is deactivated" if not user.active else "does not hold the researcher role"
                raise fail(f"{user.username} {why}: the research export is for researchers", 2)
            with progress_bars(show_progress(progress)) as bar:
                found = reports.research_export(
                    db, actor=actor, via=VIA, progress=bar("research export")
                )
            # Written before the commit, so that a disk that refuses it undoes the audit
            # record; put in place after it, so that a failed commit leaves no file.
            written = _temporary_beside(out, found.content)
        with one_line_errors():
            _put_in_place(written, out, force=force)
    finally:
        if written is not None:
            with contextlib.suppress(OSError):
                written.unlink(missing_ok=True)
    typer.echo(
        f"wrote {out}: {found.patients} patients, {found.sessions} sessions, "
        f"{found.scores} scores, de-identified",
        err=True,
    )
