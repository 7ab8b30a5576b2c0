"""the SQLite file says it is a ketaclinic database (PRAGMA application_id)

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-01 21:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept here rather than imported: a migration stays as it was written. The same number
# is ketaclinic.platform.integrity.APPLICATION_ID ("KCLN").
APPLICATION_ID = 0x4B434C4E


def upgrade() -> None:
    # A new clinic gets it here too: 'init' and 'demo' migrate an empty file to head.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA application_id = 0")
