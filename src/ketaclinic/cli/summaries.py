"""ketaclinic summaries rebuild | check: the kept summaries of sessions and courses."""

from __future__ import annotations

import typer

from ketaclinic.cli.common import database, fail, one_line_errors, progress_bars
from ketaclinic.cli.main import app

summaries_app = typer.Typer(
    help="The kept summaries of sessions and courses that pages read.", no_args_is_help=True
)
app.add_typer(summaries_app, name="summaries")


def rebuild_all(db: object, *, only_missing: bool, progress: bool) -> tuple[int, int]:
    """Sessions first (a course's standing reads its sessions given), then courses."""
    from sqlalchemy.orm import Session

    from ketaclinic.outcomes import service as outcomes
    from ketaclinic.sessions import service as sessions

    assert isinstance(db, Session)
    with progress_bars(progress) as task:
        made = sessions.rebuild_summaries(db, only_missing=only_missing, progress=task("sessions"))
        courses = outcomes.rebuild_course_summaries(
            db, only_missing=only_missing, progress=task("patients' courses")
        )
    return made, courses


@summaries_app.command("rebuild")
def rebuild(
    missing: bool = typer.Option(False, "--missing", help="Only rows that do not exist yet."),
    progress: bool = typer.Option(
        None, "--progress/--no-progress", help="Show a progress bar (default: on a terminal)."
    ),
) -> None:
    """Derive every session's and course's summary again from the facts (after an
    upgrade, or to repair); one transaction."""
    import sys

    with database() as db, one_line_errors():
        made, courses = rebuild_all(
            db, only_missing=missing, progress=sys.stderr.isatty() if progress is None else progress
        )
    typer.echo(f"summaries derived from the facts: {made} sessions, {courses} courses")


@summaries_app.command("check")
def check() -> None:
    """Compare every kept summary with one derived from the facts now; name the first
    differences and exit 1 if there are any."""
    from ketaclinic.outcomes import service as outcomes
    from ketaclinic.sessions import service as sessions

    with database() as db, one_line_errors():
        found = sessions.summary_differences(db) + outcomes.course_summary_differences(db)
        db.rollback()
    if found:
        for line in found[:20]:
            typer.echo(line)
        raise fail(f"{len(found)} kept value(s) differ from the facts: run summaries rebuild")
    typer.echo("every kept summary equals the facts")
