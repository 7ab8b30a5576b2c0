"""alarms raised by a charted symptom or sedation score (not only by a reading); the
REMS monitoring record's signature keeps the signer's printed name and its meaning

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 22:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("session_alarms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entry_id", sa.Integer(), nullable=True))
        batch_op.alter_column("vital_sign_id", existing_type=_BIG_ID, nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_session_alarms_entry_id_session_entries"),
            "session_entries",
            ["entry_id"],
            ["id"],
        )
        batch_op.create_unique_constraint("uq_session_alarms_entry_rule", ["entry_id", "rule_id"])
    with op.batch_alter_table("rems_monitoring_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signed_by_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("signature_meaning", sa.String(length=200), nullable=True))


def downgrade() -> None:
    # An alarm raised by a symptom or a score has no reading to hang on: it cannot
    # survive the older shape, and dropping it silently would lose a clinical record.
    bind = op.get_bind()
    kept = bind.execute(
        sa.text("SELECT count(*) FROM session_alarms WHERE vital_sign_id IS NULL")
    ).scalar()
    if kept:
        raise RuntimeError(
            f"{kept} alarm(s) were raised by symptoms or sedation scores; "
            "export them before downgrading below 0014"
        )
    with op.batch_alter_table("rems_monitoring_records", schema=None) as batch_op:
        batch_op.drop_column("signature_meaning")
        batch_op.drop_column("signed_by_name")
    with op.batch_alter_table("session_alarms", schema=None) as batch_op:
        batch_op.drop_constraint("uq_session_alarms_entry_rule", type_="unique")
        batch_op.drop_constraint(
            batch_op.f("fk_session_alarms_entry_id_session_entries"), type_="foreignkey"
        )
        batch_op.alter_column("vital_sign_id", existing_type=_BIG_ID, nullable=False)
        batch_op.drop_column("entry_id")
