"""JSON shapes of the session API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ketaclinic.platform.ids import RecordId

Reason = Field(min_length=3, max_length=2000)


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SessionStart(In):
    appointment_id: RecordId | None = None
    patient_id: RecordId | None = Field(default=None, description="walk-in: current signed order")


class ChecklistIn(In):
    answers: dict[str, Literal["yes", "no", "negative", "positive", "not_done"]] = Field(
        min_length=1, max_length=10
    )
    notes: dict[str, str] = Field(default_factory=dict, max_length=10)


class OverrideIn(In):
    reason: str = Reason


class PumpIn(In):
    kind: Literal["start", "pause", "resume", "rate_change", "stop"]
    at: datetime | None = None
    rate_ml_per_h: float | None = Field(default=None, gt=0, le=1000)
    reason: str | None = Field(default=None, max_length=2000)
    # The controlled-substance ledger lot the start draws from (None: the first expiring).
    lot_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class DeviceIn(In):
    at: datetime | None = None
    lot_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class VitalsIn(In):
    taken_at: datetime | None = None
    heart_rate: int | None = Field(default=None, ge=20, le=300)
    systolic_bp: int | None = Field(default=None, ge=40, le=300)
    diastolic_bp: int | None = Field(default=None, ge=15, le=200)
    spo2: int | None = Field(default=None, ge=50, le=100)
    respiratory_rate: int | None = Field(default=None, ge=2, le=80)
    source: Literal["manual", "monitor"] = "manual"


class DischargeIn(In):
    """The nurse's answers at discharge."""

    escort_recorded: bool
    no_driving_instruction_given: bool


class ErrorIn(In):
    reason: str = Reason


class AcknowledgeIn(In):
    note: str = Field(default="", max_length=2000)


class PrescriberAnswerIn(In):
    decision: Literal["continue", "stop", "other"]
    note: str = Field(default="", max_length=2000)


class ScoreIn(In):
    instrument_id: Literal["cadss", "cadss6", "moaas", "aldrete"]
    answers: dict[str, int] = Field(min_length=1, max_length=30)
    at: datetime | None = None


class SideEffectIn(In):
    effect_id: str = Field(min_length=2, max_length=40)
    severity: Literal["mild", "moderate", "severe"]
    note: str = Field(default="", max_length=2000)
    at: datetime | None = None


class SymptomIn(In):
    """A symptom from the clinic's list (``monitoring.symptoms``), by its id."""

    symptom_id: str = Field(min_length=2, max_length=40)
    note: str = Field(default="", max_length=2000)
    at: datetime | None = None


class InterventionIn(In):
    drug: str = Field(min_length=2, max_length=80)
    dose: float = Field(gt=0, lt=100_000)
    unit: Literal["mg", "mcg", "g", "mL", "L/min", "units"]
    route: Literal["iv", "im", "po", "sl", "sc", "inhaled", "intranasal", "topical"]
    reason: str = Reason
    at: datetime | None = None


class NoteIn(In):
    text: str = Field(min_length=1, max_length=4000)
    at: datetime | None = None


class SignIn(In):
    """A signature re-authenticates: the signer's own password, typed again."""

    password: str = Field(min_length=1, max_length=200)


class AddendumIn(SignIn):
    text: str = Field(min_length=3, max_length=4000)


class EnrolmentIn(In):
    patient_id: RecordId
    enrolment_id: str = Field(min_length=3, max_length=60)
    enrolled_on: date


class RecordAnswersIn(In):
    answers: dict[str, str] = Field(min_length=1, max_length=30)


class FileIn(In):
    reference: str = Field(default="", max_length=80)


class EventOut(BaseModel):
    id: int
    kind: str
    at: datetime
    rate_ml_per_h: float | None
    reason: str | None
    recorded_by: str
    entered_in_error: bool


class VitalOut(BaseModel):
    id: int
    taken_at: datetime
    heart_rate: int | None
    systolic_bp: int | None
    diastolic_bp: int | None
    spo2: int | None
    respiratory_rate: int | None
    mean_bp: int | None = None  # mmHg, from a monitor
    temperature: float | None = None  # degC, from a monitor
    source: str
    phase: str | None
    entered_in_error: bool


class AlarmOut(BaseModel):
    id: int
    vital_sign_id: int | None
    entry_id: int | None
    parameter: str
    rule_id: str
    level: str
    message: str
    action: str
    raised_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    acknowledgement_note: str | None


class PrescriberCallOut(BaseModel):
    id: int
    kind: str
    rule_id: str
    level: str
    summary: str
    prescriber: str | None
    notified: list[str]
    raised_at: datetime
    status: str
    answered_by: str | None
    answered_at: datetime | None
    decision: str | None
    response_note: str | None
    escalated_at: datetime | None
    escalated_to: list[str]


class EntryOut(BaseModel):
    id: int
    kind: str
    code: str
    at: datetime
    value: float | None
    data: dict[str, object]
    text: str | None
    recorded_by: str
    entered_in_error: bool


class ChecklistItemOut(BaseModel):
    id: str
    label: str
    met: bool
    answer: str | None
    text: str
    basis: str
    evidence: str


class PumpOut(BaseModel):
    state: str
    rate_ml_per_h: float | None
    elapsed_min: float
    running_min: float
    volume_ml: float
    volume_left_ml: float
    mg: float


class CriterionOut(BaseModel):
    met: bool
    text: str
    source: str
    evidence: str


class SessionOut(BaseModel):
    id: int
    patient_id: int
    order_id: int
    appointment_id: int | None
    number: int
    protocol_id: str
    route: str
    status: str
    checklist: list[ChecklistItemOut]
    checklist_overridden: bool
    dose_start: datetime | None
    dose_end: datetime | None
    pump: PumpOut | None
    devices_given: int
    mg_given: float
    events: list[EventOut]
    vitals: list[VitalOut]
    alarms: list[AlarmOut]
    prescriber_calls: list[PrescriberCallOut]
    waiting_for_prescriber: bool
    entries: list[EntryOut]
    discharge_ready: bool
    discharge_criteria: list[CriterionOut]
    discharge_missing: list[str]
    note_signed_by: str | None
    note_cosigned_by: str | None


class SummaryOut(BaseModel):
    session_id: int
    number: int
    started_at: datetime | None
    ended_at: datetime | None
    protocol_id: str
    dose_mg: float
    peak_systolic: int | None
    peak_diastolic: int | None
    cadss_total: float | None
    side_effects: list[str]
    status: str


class PredictionOut(BaseModel):
    model_id: str
    threshold_ng_ml: float
    peak_ng_ml: float | None
    below_threshold_at: datetime | None
    notes: list[str]


class NoteOut(BaseModel):
    id: int
    kind: str
    body: str
    signed_by: str
    signed_by_name: str
    signed_at: datetime
    signature_meaning: str | None
    cosigned_by: str | None
    cosigned_by_name: str | None
    cosigned_at: datetime | None
    cosignature_meaning: str | None


class RecordOut(BaseModel):
    session_id: int
    template_version: str
    session_on: date
    due_on: date
    values: dict[str, object]
    missing: list[str]
    signed_by: str | None
    signed_by_name: str | None
    signed_at: datetime | None
    signature_meaning: str | None
    filed_by: str | None
    filed_at: datetime | None


class ToFileOut(BaseModel):
    session_id: int
    patient_id: int
    patient_name: str
    session_on: date
    due_on: date
    days_left: int
    signed: bool


class EnrolmentOut(BaseModel):
    id: int
    patient_id: int
    enrolment_id: str
    enrolled_on: date
    recorded_by: str
