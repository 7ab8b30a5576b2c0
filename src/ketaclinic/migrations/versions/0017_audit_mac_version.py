"""audit rows say which MAC format they carry: version 2 (keyed BLAKE2b over a
length-prefixed text the database can build itself) is what ``audit verify`` streams
at hundreds of thousands of rows a second; rows already written keep version 1

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 01:00:00.000000

Existing rows are not touched (the trail is append-only and the triggers refuse
updates): ``mac_version`` stays NULL on them, which means version 1 (HMAC-SHA256 over
JSON), and verification checks each row in its own version. ``ADD COLUMN`` alters the
table in place on both backends, so the append-only triggers stay as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("mac_version", sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    # Without the column, rows of version 2 could not be verified any more: refuse.
    bind = op.get_bind()
    kept = bind.execute(
        sa.text("SELECT count(*) FROM audit_events WHERE mac_version IS NOT NULL")
    ).scalar()
    if kept:
        raise RuntimeError(
            f"{kept} audit record(s) carry a version 2 MAC, which the older code cannot "
            "verify; keep this revision (or restore a backup taken before it)"
        )
    op.drop_column("audit_events", "mac_version")
