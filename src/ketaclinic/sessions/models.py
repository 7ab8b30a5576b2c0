"""Tables of the infusion session.

Nothing here is ever deleted or overwritten: infusion events, vitals, scores and entries
are appended, a wrong one is marked entered in error (who, when, why), and the state of
the infusion is derived from its events. A signed session note is frozen; an addendum
is a new row.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column

from ketaclinic.platform.db import Base, UTCDateTime, utcnow

# SQLite only auto-numbers an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class InfusionSession(Base):
    """One treatment session of one patient under one signed order."""

    __tablename__ = "infusion_sessions"
    __table_args__ = (
        Index("ix_infusion_sessions_patient_created", "patient_id", "created_at"),
        Index("ix_infusion_sessions_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"), unique=True)
    planned_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("planned_sessions.id"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    protocol_id: Mapped[str] = mapped_column(String(60))
    route: Mapped[str] = mapped_column(String(20))  # iv|esketamine_nasal
    # open|discharged|signed|cosigned|cancelled; the infusion's own state comes from events
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancelled_reason: Mapped[str | None] = mapped_column(Text)


class ChecklistEntry(Base):
    """One answer to one pre-infusion checklist item; the latest per item counts."""

    __tablename__ = "session_checklist_entries"
    __table_args__ = (Index("ix_session_checklist_entries_session", "session_id", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("infusion_sessions.id"))
    item: Mapped[str] = mapped_column(String(40))
    answer: Mapped[str] = mapped_column(String(20))  # yes|no|negative|positive|not_done
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SessionEvent(Base):
    """A timestamped act: start, pause, resume, stop, rate change, nasal device,
    checklist override, discharge, cancellation."""

    __tablename__ = "session_events"
    __table_args__ = (
        Index("ix_session_events_session_at", "session_id", "at"),
        # The acts of a kind in a period, of every session (the doses begun in the last
        # 30 days of the safety summary): a range of this index, not every event.
        Index("ix_session_events_kind_at", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("infusion_sessions.id"))
    kind: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    rate_ml_per_h: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    entered_in_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    entered_in_error_by: Mapped[str | None] = mapped_column(String(80))
    error_reason: Mapped[str | None] = mapped_column(Text)


class VitalSign(Base):
    """One set of vital signs: a time series of millions of rows per clinic-year.

    Narrow on purpose: small integers (every plausible value fits), the recorder as a
    user id, correction columns empty (and free in PostgreSQL) on nearly every row. Read
    per session in time order through (session_id, taken_at).
    """

    __tablename__ = "vital_signs"
    __table_args__ = (Index("ix_vital_signs_session_taken", "session_id", "taken_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("infusion_sessions.id"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heart_rate: Mapped[int | None] = mapped_column(SmallInteger)
    systolic_bp: Mapped[int | None] = mapped_column(SmallInteger)
    diastolic_bp: Mapped[int | None] = mapped_column(SmallInteger)
    spo2: Mapped[int | None] = mapped_column(SmallInteger)
    respiratory_rate: Mapped[int | None] = mapped_column(SmallInteger)
    # Charted from a monitor (MDC 150023, 150344), shown, and judged by no alarm rule:
    # the limits table has no sourced limit for either.
    mean_bp: Mapped[int | None] = mapped_column(SmallInteger)  # mmHg
    temperature: Mapped[float | None] = mapped_column(Numeric(4, 1, asdecimal=False))  # degC
    source: Mapped[str] = mapped_column(String(8), default="manual")  # manual|monitor|device
    recorded_by_id: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    entered_in_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    entered_in_error_by: Mapped[str | None] = mapped_column(String(80))
    error_reason: Mapped[str | None] = mapped_column(Text)


class SessionDevice(Base):
    """A bedside monitor bound to a session by the nurse: its readings chart here while
    the binding lasts. Unbinding is a new fact on the row (who, when), never a delete."""

    __tablename__ = "session_devices"
    __table_args__ = (Index("ix_session_devices_device", "device_id", "unbound_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("infusion_sessions.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(120))
    bound_by: Mapped[str] = mapped_column(String(80))
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    unbound_by: Mapped[str | None] = mapped_column(String(80))
    unbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SessionAlarm(Base):
    """An alarm raised by a reading (``vital_sign_id``) or by a charted symptom or
    sedation score (``entry_id``), kept until acknowledged (and after)."""

    __tablename__ = "session_alarms"
    __table_args__ = (
        UniqueConstraint("vital_sign_id", "rule_id", name="uq_session_alarms_reading_rule"),
        UniqueConstraint("entry_id", "rule_id", name="uq_session_alarms_entry_rule"),
        Index("ix_session_alarms_session", "session_id", "acknowledged_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("infusion_sessions.id"))
    vital_sign_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("vital_signs.id"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("session_entries.id"))
    rule_id: Mapped[str] = mapped_column(String(60))
    phase: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(10))
    parameter: Mapped[str] = mapped_column(String(30))
    value: Mapped[float] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(String(12))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(80))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledgement_note: Mapped[str | None] = mapped_column(Text)


class SessionEntry(Base):
    """A charted observation that is not a vital sign: a score (CADSS, MOAA/S, Aldrete),
    a side effect, a symptom that escalates (``monitoring.symptoms``), an intervention
    given, or a free note. ``data`` holds the kind's fields (answers and total; effect and
    severity; symptom label; drug, dose, unit, route, reason)."""

    __tablename__ = "session_entries"
    __table_args__ = (Index("ix_session_entries_session_kind", "session_id", "kind", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("infusion_sessions.id"))
    kind: Mapped[str] = mapped_column(String(20))  # score|side_effect|symptom|intervention|note
    code: Mapped[str] = mapped_column(String(40))  # instrument, effect id, drug, "note"
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    value: Mapped[float | None] = mapped_column(Float)  # score total, dose
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    text: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    entered_in_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    entered_in_error_by: Mapped[str | None] = mapped_column(String(80))
    error_reason: Mapped[str | None] = mapped_column(Text)


class SessionNote(Base):
    """The generated session note (signed by the nurse, co-signed by a prescriber) or an
    addendum to it. Frozen once signed: only the co-signature is added later."""

    __tablename__ = "session_notes"
    __table_args__ = (Index("ix_session_notes_session", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("infusion_sessions.id"))
    kind: Mapped[str] = mapped_column(String(10))  # note|addendum
    body: Mapped[str] = mapped_column(Text)
    lines: Mapped[list[Any]] = mapped_column(JSON, default=list)
    signed_by: Mapped[str] = mapped_column(String(80))
    signed_by_name: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # 21 CFR 11.50: the meaning of each signature beside its printed name and time.
    signature_meaning: Mapped[str | None] = mapped_column(String(200))
    cosigned_by: Mapped[str | None] = mapped_column(String(80))
    cosigned_by_name: Mapped[str | None] = mapped_column(String(200))
    cosigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cosignature_meaning: Mapped[str | None] = mapped_column(String(200))


class RemsEnrolment(Base):
    """A patient's enrolment in the esketamine REMS programme."""

    __tablename__ = "rems_enrolments"
    __table_args__ = (Index("ix_rems_enrolments_patient", "patient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    enrolment_id: Mapped[str] = mapped_column(String(60))
    enrolled_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    entered_in_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    entered_in_error_by: Mapped[str | None] = mapped_column(String(80))
    error_reason: Mapped[str | None] = mapped_column(Text)


class MonitoringRecord(Base):
    """The programme's monitoring record of one esketamine session (the Patient
    Monitoring Form): manual answers in ``answers``; frozen in ``snapshot`` at signing."""

    __tablename__ = "rems_monitoring_records"
    __table_args__ = (Index("ix_rems_monitoring_records_filed_due", "filed_at", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("infusion_sessions.id"), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    template_version: Mapped[str] = mapped_column(String(40))
    session_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_by: Mapped[str | None] = mapped_column(String(80))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_by: Mapped[str | None] = mapped_column(String(80))
    signed_by_name: Mapped[str | None] = mapped_column(String(200))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # 21 CFR 11.50: the meaning of the signature beside its printed name and time.
    signature_meaning: Mapped[str | None] = mapped_column(String(200))
    filed_by: Mapped[str | None] = mapped_column(String(80))
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    filing_reference: Mapped[str | None] = mapped_column(String(80))


class SessionSummaryRow(Base):
    """A session's figures, kept as its facts are charted, in the act's own transaction:
    what the chart, the sessions given and the clinic's statistics read instead of every
    reading, score and event. Derived, never edited by hand: ``ketaclinic summaries
    rebuild`` recomputes it from the facts, and a test holds the two equal."""

    __tablename__ = "session_summaries"
    __table_args__ = (
        # A patient's sessions in time order (the chart, the sessions given of a course).
        Index("ix_session_summaries_patient_started", "patient_id", "started_at"),
        # Sessions given in a period (clinic statistics).
        Index("ix_session_summaries_started", "started_at"),
    )

    session_id: Mapped[int] = mapped_column(
        ForeignKey("infusion_sessions.id"), primary_key=True, autoincrement=False
    )
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"), index=True)
    # The first dose (the infusion's start, or the first nasal device) and the end: the
    # discharge, else the end of dosing.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    discharged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dose_mg: Mapped[float | None] = mapped_column(Float)  # once dosing has ended
    dosing_minutes: Mapped[float | None] = mapped_column(Float)
    readings: Mapped[int] = mapped_column(Integer, default=0)
    peak_systolic: Mapped[int | None] = mapped_column(SmallInteger)
    peak_diastolic: Mapped[int | None] = mapped_column(SmallInteger)
    lowest_spo2: Mapped[int | None] = mapped_column(SmallInteger)
    max_heart_rate: Mapped[int | None] = mapped_column(SmallInteger)
    cadss_max: Mapped[float | None] = mapped_column(Float)
    moaas_lowest: Mapped[float | None] = mapped_column(Float)
    alarms: Mapped[int] = mapped_column(Integer, default=0)
    interventions: Mapped[int] = mapped_column(Integer, default=0)
    side_effects: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


@event.listens_for(SessionNote, "before_update")
def _signed_note_is_frozen(_mapper: Any, _connection: Any, target: SessionNote) -> None:
    """Only the co-signature may be added to a signed note; anything else is refused
    here as well as in the service, so no code path can rewrite a signed note."""
    state = inspect(target)
    for name in ("session_id", "kind", "body", "lines", "signed_by", "signed_by_name", "signed_at"):
        if state.attrs[name].history.has_changes():
            raise ValueError(f"a signed session note cannot be changed ({name}); add an addendum")


class PrescriberCall(Base):
    """A "prescriber needed" item: an alarm (or a blocked pre-dose reading) that calls for
    the prescriber, addressed to the session's prescriber, open until a prescriber answers
    with a decision and a note; escalated to the medical director when nobody has answered
    in the clinic's time (``monitoring.prescriber_calls``)."""

    __tablename__ = "prescriber_calls"
    __table_args__ = (
        Index("ix_prescriber_calls_status_raised", "status", "raised_at"),
        UniqueConstraint("alarm_id"),
        UniqueConstraint("session_id", "vital_sign_id", "rule_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("infusion_sessions.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # session_alarm|pre_dose_block
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("session_alarms.id"))
    vital_sign_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("vital_signs.id"), index=True
    )
    rule_id: Mapped[str] = mapped_column(String(60))
    level: Mapped[str] = mapped_column(String(10))
    summary: Mapped[str] = mapped_column(Text)
    prescriber: Mapped[str | None] = mapped_column(String(80))
    notified: Mapped[list[str]] = mapped_column(JSON, default=list)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    raised_by: Mapped[str] = mapped_column(String(80))
    respond_within_min: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|answered
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by: Mapped[str | None] = mapped_column(String(80))
    decision: Mapped[str | None] = mapped_column(String(20))
    response_note: Mapped[str | None] = mapped_column(Text)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_to: Mapped[list[str]] = mapped_column(JSON, default=list)
