"""a monitor message's stored control id is looked up by control id first

``hl7_messages`` is asked, for every group of messages the listener receives, which of
their (sender, control id) pairs are stored already. Keyed (sender, control_id), the
question "sender IN (...) AND control_id IN (...)" probes every sender with every
control id of the group (20 monitors, 200 messages: 4,000 index probes); keyed
(control_id, sender) it is one probe a control id. The same unique pair, reordered.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02 19:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hl7_messages", schema=None) as batch_op:
        batch_op.drop_constraint("uq_hl7_messages_sender_control", type_="unique")
        batch_op.create_unique_constraint(
            "uq_hl7_messages_control_sender", ["control_id", "sender"]
        )


def downgrade() -> None:
    with op.batch_alter_table("hl7_messages", schema=None) as batch_op:
        batch_op.drop_constraint("uq_hl7_messages_control_sender", type_="unique")
        batch_op.create_unique_constraint(
            "uq_hl7_messages_sender_control", ["sender", "control_id"]
        )
