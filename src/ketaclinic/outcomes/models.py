"""Outcome tables: clinic settings (versioned), questionnaire requests and their
single-use links, responses with every item and every score as an observation,
suicidality alerts, and the outbox of messages sent to patients and staff."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ketaclinic.platform.db import Base, UTCDateTime, utcnow


class OutcomeSetting(Base):
    """One version of one clinic setting (the questionnaire schedule, the escalation
    time, the crisis text...). The highest version of a key is in force; older versions
    stay, so every change keeps who, when and why."""

    __tablename__ = "outcome_settings"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    value: Mapped[Any] = mapped_column(JSON)
    changed_by: Mapped[str] = mapped_column(String(80))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(Text)


class QuestionnaireRequest(Base):
    """One questionnaire due from one patient: made by the schedule (``slot`` names the
    occasion, so it is made once) or by staff."""

    __tablename__ = "questionnaire_requests"
    __table_args__ = (
        UniqueConstraint("patient_id", "instrument_id", "slot"),
        Index("ix_questionnaire_requests_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"), index=True)
    instrument_id: Mapped[str] = mapped_column(String(30))
    context: Mapped[str] = mapped_column(String(30))
    slot: Mapped[str] = mapped_column(String(80))
    delivery: Mapped[str] = mapped_column(String(10), default="link")  # link|staff
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|completed|expired
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class QuestionnaireLink(Base):
    """A single-use link to one request. Only the token's hash is kept: a stolen
    database does not open any questionnaire."""

    __tablename__ = "questionnaire_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_requests.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(10))  # email|sms|tablet
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class QuestionnaireResponse(Base):
    """One completed questionnaire. Scored once on submit; the items and the scores are
    kept so that trends and exports never re-score."""

    __tablename__ = "questionnaire_responses"
    __table_args__ = (
        Index("ix_questionnaire_responses_patient_instr", "patient_id", "instrument_id"),
        # A patient's scores in time order (trends, standings).
        Index("ix_questionnaire_responses_patient_completed", "patient_id", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    instrument_id: Mapped[str] = mapped_column(String(30))
    context: Mapped[str] = mapped_column(String(30))
    session_id: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_requests.id"), index=True
    )
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    entered_by: Mapped[str] = mapped_column(String(80))
    entered_via: Mapped[str] = mapped_column(String(16))  # link|portal|tablet|staff|api
    total: Mapped[int | None] = mapped_column(Integer)
    severity: Mapped[str | None] = mapped_column(String(40))
    risk: Mapped[str | None] = mapped_column(String(16))
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    provisional_diagnosis: Mapped[bool | None] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(20), default="final")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    items: Mapped[list[QuestionnaireResponseItem]] = relationship(
        order_by="QuestionnaireResponseItem.position", lazy="selectin"
    )


class QuestionnaireResponseItem(Base):
    __tablename__ = "questionnaire_response_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_responses.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(30))
    position: Mapped[int] = mapped_column(Integer)
    value: Mapped[int] = mapped_column(Integer)


class OutcomeObservation(Base):
    """A total, subscale or risk tier of one response, with its LOINC code where one is
    confirmed: what a FHIR Observation export reads."""

    __tablename__ = "outcome_observations"
    __table_args__ = (
        Index(
            "ix_outcome_observations_patient_instr_at",
            "patient_id",
            "instrument_id",
            "effective_at",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_responses.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    instrument_id: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(16))  # total|subscale|risk
    name: Mapped[str] = mapped_column(String(60))
    value: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str | None] = mapped_column(String(40))
    loinc: Mapped[str | None] = mapped_column(String(20))
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default="final")


class SuicidalityAlert(Base):
    """A positive suicidality signal, open until a clinician acknowledges it with the
    action taken; escalated when nobody has after the clinic's set time. It concerns a
    patient, or a self-screen lead who is not a patient yet (``lead_id``)."""

    __tablename__ = "suicidality_alerts"
    __table_args__ = (Index("ix_suicidality_alerts_status_raised", "status", "raised_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("intake_leads.id"), index=True)
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_responses.id"), index=True
    )
    source: Mapped[str] = mapped_column(String(30))  # questionnaire|clinician|self_screen
    detail: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    raised_by: Mapped[str] = mapped_column(String(80))
    primary_clinician: Mapped[str | None] = mapped_column(String(80))
    notified: Mapped[list[str]] = mapped_column(JSON, default=list)
    escalate_after_min: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|acknowledged
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(80))
    action: Mapped[str | None] = mapped_column(String(40))
    action_note: Mapped[str | None] = mapped_column(Text)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_to: Mapped[list[str]] = mapped_column(JSON, default=list)


class OutboxMessage(Base):
    """A message to a patient or a staff member and its delivery. The body never holds
    a questionnaire token: the link is minted at delivery and only its hash is kept."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # questionnaire_link|alert|alert_escalation
    channel: Mapped[str] = mapped_column(String(10))  # email|sms
    recipient: Mapped[str] = mapped_column(String(254))
    recipient_username: Mapped[str | None] = mapped_column(String(80))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_requests.id"), index=True
    )
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("suicidality_alerts.id"), index=True)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("questionnaire_links.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|sent|failed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    transport: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    # Who is sending it now (see ``outbox.claim``): a sender that died is replaced once
    # the claim is older than the lease.
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A refused send is tried again at ``next_attempt_at`` (exponential backoff).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Reminders: ``remind`` asks for them; a reminder names the first message it repeats.
    remind: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reminder_of_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"), index=True)
    reminder_number: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cancelled_by: Mapped[str | None] = mapped_column(String(80))


class CourseSummaryRow(Base):
    """Where a course stands, kept as its facts change (a questionnaire answered, a
    session given, the course opened or extended) in the act's own transaction: the
    clinic's response and remission rates and the course dashboard read these rows, not
    every session and score. The classification is ``clinical.course.evaluate``'s, stored
    as it found it; ``ketaclinic summaries rebuild`` recomputes every row from the facts."""

    __tablename__ = "course_summaries"
    __table_args__ = (
        # Courses opened in a period, grouped (clinic outcomes).
        Index("ix_course_summaries_opened", "opened_at", "indication", "protocol_id"),
    )

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id"), primary_key=True, autoincrement=False
    )
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    indication: Mapped[str] = mapped_column(String(60))
    protocol_id: Mapped[str] = mapped_column(String(60))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sessions_given: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str | None] = mapped_column(String(40))
    problem: Mapped[str | None] = mapped_column(Text)
    primary_instrument: Mapped[str | None] = mapped_column(String(30))
    baseline: Mapped[float | None] = mapped_column(Float)
    latest: Mapped[float | None] = mapped_column(Float)
    latest_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    category: Mapped[str | None] = mapped_column(String(30))
    # None: not evaluable (no primary score against a baseline yet); remission also None
    # where the primary instrument has no remission cut-off.
    response: Mapped[bool | None] = mapped_column(Boolean)
    remission: Mapped[bool | None] = mapped_column(Boolean)
    interim_evaluation_due: Mapped[bool] = mapped_column(Boolean, default=False)
    booster_suggested: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
