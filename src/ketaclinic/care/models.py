"""The plan around a course: the care team, therapy sessions and their signed notes, the
medication plan, course decisions and booster proposals.

Nothing here is deleted: a care-team member leaves with a date and a reason, a
medication stops with a date, a signed therapy note is frozen (an addendum is a new
signed row), a decision and a proposal keep who decided and why.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, event, inspect
from sqlalchemy.orm import Mapped, mapped_column

from ketaclinic.platform.db import Base, UTCDateTime, utcnow

TEAM_ROLES = ("prescriber", "nurse", "therapist", "referring")


class CareTeamMember(Base):
    """One person on a patient's care team: a clinic user (prescriber of record,
    infusion nurse, therapist) or a referring clinician outside the clinic, with their
    contact details. One current member is the primary clinician."""

    __tablename__ = "care_team_members"
    __table_args__ = (
        Index("ix_care_team_members_patient", "patient_id", "ended_at"),
        Index("ix_care_team_members_user", "user_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    role: Mapped[str] = mapped_column(String(20))  # prescriber|nurse|therapist|referring
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    primary: Mapped[bool] = mapped_column(Boolean, default=False)
    added_by: Mapped[str] = mapped_column(String(80))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by: Mapped[str | None] = mapped_column(String(80))
    end_reason: Mapped[str | None] = mapped_column(Text)


class TherapySession(Base):
    """A psychotherapy session of one phase (preparation, in-session support,
    integration), with its therapist; booked in a therapy room through scheduling (an
    in-session support session sits beside the dosing session and books no room)."""

    __tablename__ = "therapy_sessions"
    __table_args__ = (
        Index("ix_therapy_sessions_patient_start", "patient_id", "starts_at"),
        Index("ix_therapy_sessions_therapist_start", "therapist_user_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"), index=True)
    phase: Mapped[str] = mapped_column(String(20))  # preparation|support|integration
    therapist_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="booked")  # booked|completed
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TherapyNote(Base):
    """The structured note of a therapy session (goals, themes, homework, risk review
    with a C-SSRS screen when indicated), signed with the therapist's password; or an
    addendum to it. Frozen once written: a correction is an addendum."""

    __tablename__ = "therapy_notes"
    __table_args__ = (Index("ix_therapy_notes_session", "therapy_session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    therapy_session_id: Mapped[int] = mapped_column(ForeignKey("therapy_sessions.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # note|addendum
    version: Mapped[int] = mapped_column(Integer, default=1)
    goals: Mapped[str | None] = mapped_column(Text)
    themes: Mapped[str | None] = mapped_column(Text)
    homework: Mapped[str | None] = mapped_column(Text)
    risk_review: Mapped[str | None] = mapped_column(Text)
    cssrs_indicated: Mapped[bool] = mapped_column(Boolean, default=False)
    cssrs_response_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_responses.id"), index=True
    )
    cssrs_risk: Mapped[str | None] = mapped_column(String(10))
    body: Mapped[str | None] = mapped_column(Text)  # an addendum's text
    signed_by: Mapped[str] = mapped_column(String(80))
    signed_by_name: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # 21 CFR 11.50: the meaning of the signature beside its printed name and time.
    signature_meaning: Mapped[str] = mapped_column(String(200))


@event.listens_for(TherapyNote, "before_update")
def _signed_therapy_note_is_frozen(_mapper: Any, _connection: Any, target: TherapyNote) -> None:
    """The second wall behind the service: no code path rewrites a signed note."""
    state = inspect(target)
    changed = [a.key for a in state.attrs if a.history.has_changes()]
    if changed:
        raise ValueError(f"a signed therapy note cannot be changed ({changed[0]}); add an addendum")


class MedicationEntry(Base):
    """One medication of the patient's plan: psychiatric or other, from a start date to a
    stop date (open while taken), and who prescribes it."""

    __tablename__ = "medication_entries"
    __table_args__ = (Index("ix_medication_entries_patient", "patient_id", "started_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    name: Mapped[str] = mapped_column(String(200))
    dose: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))  # psychiatric|other
    prescriber: Mapped[str] = mapped_column(String(200))
    started_on: Mapped[date] = mapped_column(Date)
    stopped_on: Mapped[date | None] = mapped_column(Date)
    stop_reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    stopped_by: Mapped[str | None] = mapped_column(String(80))
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CourseDecision(Base):
    """A prescriber's decision on a course (stop, extend the induction, titrate, move to
    maintenance, switch route) with its reason, the trajectory it was made on, and the
    order draft and planned sessions it created."""

    __tablename__ = "course_decisions"
    __table_args__ = (Index("ix_course_decisions_course", "course_id", "decided_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    choice: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    extra_sessions: Mapped[int | None] = mapped_column(Integer)
    schedule_id: Mapped[str | None] = mapped_column(String(60))
    # The booster gaps used (days), and any change from the declared schedule.
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    classification: Mapped[str | None] = mapped_column(Text)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    planned_session_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    decided_by: Mapped[str] = mapped_column(String(80))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BoosterProposal(Base):
    """A booster proposed to the prescriber: by the relapse rule on maintenance scores,
    or asked for by the patient from the portal. Accepted (a planned booster session the
    front desk books) or declined with a reason."""

    __tablename__ = "booster_proposals"
    __table_args__ = (Index("ix_booster_proposals_course_status", "course_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    source: Mapped[str] = mapped_column(String(20))  # relapse_rule|patient_request
    rule_id: Mapped[str | None] = mapped_column(String(60))
    signal: Mapped[str] = mapped_column(Text)
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_responses.id"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    # proposed|accepted|declined
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    proposed_by: Mapped[str] = mapped_column(String(80))
    notified: Mapped[list[str]] = mapped_column(JSON, default=list)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decline_reason: Mapped[str | None] = mapped_column(Text)
    planned_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("planned_sessions.id"), index=True
    )
