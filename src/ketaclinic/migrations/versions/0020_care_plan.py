"""the plan around a course: care teams (with a therapist and the referring clinician),
therapy sessions and their signed notes, the medication plan, course decisions and
booster proposals

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 01:09:39.016856
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ketaclinic.platform.db import UTCDateTime

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "medication_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("dose", sa.String(length=120), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("prescriber", sa.String(length=200), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("stopped_on", sa.Date(), nullable=True),
        sa.Column("stop_reason", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("stopped_by", sa.String(length=80), nullable=True),
        sa.Column("stopped_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_medication_entries_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medication_entries")),
    )
    with op.batch_alter_table("medication_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_medication_entries_patient", ["patient_id", "started_on"], unique=False
        )

    op.create_table(
        "care_team_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("primary", sa.Boolean(), nullable=False),
        sa.Column("added_by", sa.String(length=80), nullable=False),
        sa.Column("added_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=80), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_care_team_members_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_care_team_members_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_team_members")),
    )
    with op.batch_alter_table("care_team_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_care_team_members_patient", ["patient_id", "ended_at"], unique=False
        )
        batch_op.create_index("ix_care_team_members_user", ["user_id", "ended_at"], unique=False)

    op.create_table(
        "course_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("extra_sessions", sa.Integer(), nullable=True),
        sa.Column("schedule_id", sa.String(length=60), nullable=True),
        sa.Column("schedule", sa.JSON(), nullable=True),
        sa.Column("classification", sa.Text(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("planned_session_ids", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=False),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_decisions_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_course_decisions_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_course_decisions_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_decisions")),
    )
    with op.batch_alter_table("course_decisions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_course_decisions_course", ["course_id", "decided_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_course_decisions_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_course_decisions_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "booster_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("rule_id", sa.String(length=60), nullable=True),
        sa.Column("signal", sa.Text(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("proposed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("proposed_by", sa.String(length=80), nullable=False),
        sa.Column("notified", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("planned_session_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_booster_proposals_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_booster_proposals_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["planned_session_id"],
            ["planned_sessions.id"],
            name=op.f("fk_booster_proposals_planned_session_id_planned_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["questionnaire_responses.id"],
            name=op.f("fk_booster_proposals_response_id_questionnaire_responses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booster_proposals")),
    )
    with op.batch_alter_table("booster_proposals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_booster_proposals_course_status", ["course_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_booster_proposals_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_booster_proposals_planned_session_id"),
            ["planned_session_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_booster_proposals_response_id"), ["response_id"], unique=False
        )

    op.create_table(
        "therapy_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("therapist_user_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_therapy_sessions_appointment_id_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_therapy_sessions_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_therapy_sessions_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["therapist_user_id"],
            ["users.id"],
            name=op.f("fk_therapy_sessions_therapist_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_therapy_sessions")),
    )
    with op.batch_alter_table("therapy_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_therapy_sessions_appointment_id"), ["appointment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_therapy_sessions_course_id"), ["course_id"], unique=False
        )
        batch_op.create_index(
            "ix_therapy_sessions_patient_start", ["patient_id", "starts_at"], unique=False
        )
        batch_op.create_index(
            "ix_therapy_sessions_therapist_start", ["therapist_user_id", "starts_at"], unique=False
        )

    op.create_table(
        "therapy_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("therapy_session_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("goals", sa.Text(), nullable=True),
        sa.Column("themes", sa.Text(), nullable=True),
        sa.Column("homework", sa.Text(), nullable=True),
        sa.Column("risk_review", sa.Text(), nullable=True),
        sa.Column("cssrs_indicated", sa.Boolean(), nullable=False),
        sa.Column("cssrs_response_id", sa.Integer(), nullable=True),
        sa.Column("cssrs_risk", sa.String(length=10), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("signed_by", sa.String(length=80), nullable=False),
        sa.Column("signed_by_name", sa.String(length=200), nullable=False),
        sa.Column("signed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("signature_meaning", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["cssrs_response_id"],
            ["questionnaire_responses.id"],
            name=op.f("fk_therapy_notes_cssrs_response_id_questionnaire_responses"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_therapy_notes_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["therapy_session_id"],
            ["therapy_sessions.id"],
            name=op.f("fk_therapy_notes_therapy_session_id_therapy_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_therapy_notes")),
    )
    with op.batch_alter_table("therapy_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_therapy_notes_cssrs_response_id"), ["cssrs_response_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_therapy_notes_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index("ix_therapy_notes_session", ["therapy_session_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("therapy_notes", schema=None) as batch_op:
        batch_op.drop_index("ix_therapy_notes_session")
        batch_op.drop_index(batch_op.f("ix_therapy_notes_patient_id"))
        batch_op.drop_index(batch_op.f("ix_therapy_notes_cssrs_response_id"))

    op.drop_table("therapy_notes")
    with op.batch_alter_table("therapy_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_therapy_sessions_therapist_start")
        batch_op.drop_index("ix_therapy_sessions_patient_start")
        batch_op.drop_index(batch_op.f("ix_therapy_sessions_course_id"))
        batch_op.drop_index(batch_op.f("ix_therapy_sessions_appointment_id"))

    op.drop_table("therapy_sessions")
    with op.batch_alter_table("booster_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booster_proposals_response_id"))
        batch_op.drop_index(batch_op.f("ix_booster_proposals_planned_session_id"))
        batch_op.drop_index(batch_op.f("ix_booster_proposals_patient_id"))
        batch_op.drop_index("ix_booster_proposals_course_status")

    op.drop_table("booster_proposals")
    with op.batch_alter_table("course_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_decisions_patient_id"))
        batch_op.drop_index(batch_op.f("ix_course_decisions_order_id"))
        batch_op.drop_index("ix_course_decisions_course")

    op.drop_table("course_decisions")
    with op.batch_alter_table("care_team_members", schema=None) as batch_op:
        batch_op.drop_index("ix_care_team_members_user")
        batch_op.drop_index("ix_care_team_members_patient")

    op.drop_table("care_team_members")
    with op.batch_alter_table("medication_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_medication_entries_patient")

    op.drop_table("medication_entries")
