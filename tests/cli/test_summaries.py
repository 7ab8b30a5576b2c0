"""``ketaclinic summaries check`` finds a kept summary that differs from the facts, and
``summaries rebuild`` derives it again."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ketaclinic.cli import app
from ketaclinic.sessions.models import SessionSummaryRow
from tests.sessions.conftest import ready_iv_session
from tests.sessions.factories import staff


def test_check_names_a_summary_that_differs_and_rebuild_repairs_it(
    cli: CliRunner, db: Session
) -> None:
    row = ready_iv_session(db, staff(db))  # one pre-dose reading, 128/82
    db.execute(
        update(SessionSummaryRow)
        .where(SessionSummaryRow.session_id == row.id)
        .values(peak_systolic=200)
    )
    db.commit()
    found = cli.invoke(app, ["summaries", "check"])
    assert found.exit_code == 1
    assert f"session {row.id}: peak_systolic kept 200, facts 128" in found.output
    rebuilt = cli.invoke(app, ["summaries", "rebuild", "--no-progress"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "1 sessions" in rebuilt.output
    again = cli.invoke(app, ["summaries", "check"])
    assert again.exit_code == 0 and "every kept summary equals the facts" in again.output
