"""indexes for years of records: every foreign key, and the time-range reads

Every foreign key column is now the first column of an index (a test walks the models
to keep it so): without one, a parent's read of its children (an appointment's planned
session, a session's order and course, an alert's response) and every delete check
scans the child table, which at ten clinic-years means scanning tens of thousands of
appointments per lookup. The reads by time get their own: appointments by start (the
calendars of every chair), courses by status and by opening (dashboard, clinic
outcomes), a patient's scores in time order, and the audit trail by time and by actor.

Vital signs already are a time series with a per-session time index,
``ix_vital_signs_session_taken`` (``session_id``, ``taken_at``): a session's readings
are one index range, whatever the table's size.

Not partitioned, on PostgreSQL either, for now. Declarative partitioning of
``vital_signs`` and ``audit_events`` by month pays when old partitions are detached or
dropped, or when most queries touch one recent month; a clinic keeps its records for
years and never deletes them, and every read here is by session, by patient or by id,
which a B-tree serves in a handful of page reads at ten million rows as at ten thousand.
Partitioning would cost: a partitioned table's primary key must include the partition
key, so ``session_alarms.vital_sign_id`` could no longer reference ``vital_signs.id``
alone; the audit trail's append-only triggers and its verification by id order would
have to span partitions; and SQLite, the embedded default, has none, so the same
models and migrations could no longer serve both. Revisit when one PostgreSQL holds a
chain's hundreds of millions of rows and archiving by month becomes a need.

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-01 21:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: list[tuple[str, str, list[str]]] = [
    # foreign keys
    ("ix_appointments_planned_session_id", "appointments", ["planned_session_id"]),
    ("ix_candidacy_decisions_intake_id", "candidacy_decisions", ["intake_id"]),
    ("ix_intakes_supersedes_id", "intakes", ["supersedes_id"]),
    ("ix_infusion_sessions_course_id", "infusion_sessions", ["course_id"]),
    ("ix_infusion_sessions_order_id", "infusion_sessions", ["order_id"]),
    ("ix_infusion_sessions_planned_session_id", "infusion_sessions", ["planned_session_id"]),
    ("ix_orders_supersedes_id", "orders", ["supersedes_id"]),
    ("ix_outbox_messages_request_id", "outbox_messages", ["request_id"]),
    ("ix_outbox_messages_alert_id", "outbox_messages", ["alert_id"]),
    ("ix_outbox_messages_link_id", "outbox_messages", ["link_id"]),
    ("ix_questionnaire_requests_course_id", "questionnaire_requests", ["course_id"]),
    ("ix_questionnaire_responses_request_id", "questionnaire_responses", ["request_id"]),
    ("ix_rems_monitoring_records_patient_id", "rems_monitoring_records", ["patient_id"]),
    ("ix_suicidality_alerts_response_id", "suicidality_alerts", ["response_id"]),
    ("ix_audit_events_actor_at", "audit_events", ["actor_id", "at"]),
    # reads by time
    ("ix_appointments_start", "appointments", ["starts_at"]),
    ("ix_courses_status", "courses", ["status"]),
    ("ix_courses_created", "courses", ["created_at"]),
    (
        "ix_questionnaire_responses_patient_completed",
        "questionnaire_responses",
        ["patient_id", "completed_at"],
    ),
    ("ix_audit_events_at", "audit_events", ["at"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
