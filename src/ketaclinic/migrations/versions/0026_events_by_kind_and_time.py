"""the acts of a kind in a period are read by an index of kind and time

The safety summary (the home page of a prescriber or administrator) counts the sessions
whose dose began in the last 30 days: ``session_events`` of kind start or device in that
period. Indexed only by (session_id, at), that read scanned every event of the clinic's
history (180,000 events at 10 clinic-years: 23 ms a statement, four statements a page).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 21:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_session_events_kind_at", "session_events", ["kind", "at"])


def downgrade() -> None:
    op.drop_index("ix_session_events_kind_at", table_name="session_events")
