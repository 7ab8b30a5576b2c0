"""audit trail: keyed rows, seals, reason, correlation id, sensitive flag

Existing rows keep their unkeyed SHA-256 chain (``mac`` stays NULL): they are verified
the old way and bound under the key by the first seal, which the sealer writes as soon
as it runs (``ketaclinic audit seal``, ``audit verify``, the jobs runner or the next act).
No key is needed to migrate.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ketaclinic.platform.db

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("audit_events", "audit_seals")


def _sqlite_guard(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
           BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
           BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END""",
    ]


def _drop_guard(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")


def _guard(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in _sqlite_guard(table):
            op.execute(statement)
    else:
        # audit_events_append_only() comes from 0001.
        op.execute(
            f"""CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
               FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"""
        )


def upgrade() -> None:
    # SQLite rebuilds the table to relax NOT NULL, and a rebuilt table has no triggers:
    # drop them first, put them back after (on both backends, for one code path).
    _drop_guard("audit_events")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("correlation_id", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("sensitive", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=True)

    op.create_table(
        "audit_seals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sealed_at", ketaclinic.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("ids", sa.Text(), nullable=False),
        sa.Column("prev_mac", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_seals")),
    )
    with op.batch_alter_table("audit_seals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_seals_last_id"), ["last_id"], unique=False)
    for table in TABLES:
        _guard(table)


def downgrade() -> None:
    # Keyed rows have no legacy hash: going back would leave rows the old code cannot
    # check, so refuse rather than lose the trail's integrity silently.
    keyed = (
        op.get_bind()
        .execute(sa.text("SELECT count(*) FROM audit_events WHERE mac IS NOT NULL"))
        .scalar_one()
    )
    if keyed:
        raise RuntimeError(
            f"{keyed} audit records carry keyed MACs; the previous schema cannot hold them"
        )
    for table in TABLES:
        _drop_guard(table)
    with op.batch_alter_table("audit_seals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_seals_last_id"))
    op.drop_table("audit_seals")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("mac")
        batch_op.drop_column("sensitive")
        batch_op.drop_column("correlation_id")
        batch_op.drop_column("reason")
    _guard("audit_events")
