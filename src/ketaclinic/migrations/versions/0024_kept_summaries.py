"""kept summaries of sessions and courses, for pages that read what they show

``session_summaries`` holds a session's figures (peak pressures, lowest SpO2, highest
heart rate, CADSS and MOAA/S, alarms and interventions, dose, discharge time) and
``course_summaries`` where a course stands (baseline, latest score, sessions given,
response and remission as ``clinical.course.evaluate`` classified them). The acts that
change their facts keep them, in their own transaction; the chart, the course
dashboard and the clinic's outcomes read them instead of every reading and score.

The rows of a clinic that existed before are derived from its facts right after the
upgrade (``platform.migrate.upgrade``: only the missing rows, in one transaction), or at
any time by ``ketaclinic summaries rebuild``: the derivation is the services' own code,
which a migration file must not import (a later schema would break it).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02 06:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ketaclinic.platform.db import UTCDateTime

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    time = UTCDateTime(timezone=True)
    op.create_table(
        "session_summaries",
        sa.Column("session_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("started_at", time, nullable=True),
        sa.Column("ended_at", time, nullable=True),
        sa.Column("discharged_at", time, nullable=True),
        sa.Column("dose_mg", sa.Float(), nullable=True),
        sa.Column("dosing_minutes", sa.Float(), nullable=True),
        sa.Column("readings", sa.Integer(), nullable=False),
        sa.Column("peak_systolic", sa.SmallInteger(), nullable=True),
        sa.Column("peak_diastolic", sa.SmallInteger(), nullable=True),
        sa.Column("lowest_spo2", sa.SmallInteger(), nullable=True),
        sa.Column("max_heart_rate", sa.SmallInteger(), nullable=True),
        sa.Column("cadss_max", sa.Float(), nullable=True),
        sa.Column("moaas_lowest", sa.Float(), nullable=True),
        sa.Column("alarms", sa.Integer(), nullable=False),
        sa.Column("interventions", sa.Integer(), nullable=False),
        sa.Column("side_effects", sa.JSON(), nullable=False),
        sa.Column("updated_at", time, nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["infusion_sessions.id"],
            name=op.f("fk_session_summaries_session_id_infusion_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_session_summaries_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_session_summaries_course_id_courses")
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_session_summaries")),
    )
    op.create_index(
        "ix_session_summaries_patient_started", "session_summaries", ["patient_id", "started_at"]
    )
    op.create_index("ix_session_summaries_started", "session_summaries", ["started_at"])
    op.create_index(op.f("ix_session_summaries_course_id"), "session_summaries", ["course_id"])
    op.create_table(
        "course_summaries",
        sa.Column("course_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("indication", sa.String(length=60), nullable=False),
        sa.Column("protocol_id", sa.String(length=60), nullable=False),
        sa.Column("opened_at", time, nullable=False),
        sa.Column("sessions_given", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=40), nullable=True),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("primary_instrument", sa.String(length=30), nullable=True),
        sa.Column("baseline", sa.Float(), nullable=True),
        sa.Column("latest", sa.Float(), nullable=True),
        sa.Column("latest_at", time, nullable=True),
        sa.Column("category", sa.String(length=30), nullable=True),
        sa.Column("response", sa.Boolean(), nullable=True),
        sa.Column("remission", sa.Boolean(), nullable=True),
        sa.Column("interim_evaluation_due", sa.Boolean(), nullable=False),
        sa.Column("booster_suggested", sa.Boolean(), nullable=False),
        sa.Column("updated_at", time, nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_summaries_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_course_summaries_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("course_id", name=op.f("pk_course_summaries")),
    )
    op.create_index(
        "ix_course_summaries_opened",
        "course_summaries",
        ["opened_at", "indication", "protocol_id"],
    )
    op.create_index(op.f("ix_course_summaries_patient_id"), "course_summaries", ["patient_id"])


def downgrade() -> None:
    op.drop_table("course_summaries")
    op.drop_table("session_summaries")
