from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ketaclinic.platform.ids import RecordId

Action = Literal["safety_plan_reviewed", "crisis_line_given", "emergency_escalation", "other"]


class ResponseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instrument_id: str = Field(min_length=2, max_length=30)
    answers: dict[str, int] = Field(max_length=40, description="item id -> answer value")
    context: str = Field(default="visit", max_length=30)
    session_id: RecordId | None = None
    completed_at: datetime | None = None


class ObservationOut(BaseModel):
    kind: str
    name: str
    value: float | None
    value_text: str | None
    loinc: str | None


class ResponseOut(BaseModel):
    id: int
    patient_id: int
    instrument_id: str
    context: str
    completed_at: datetime
    total: int | None
    severity: str | None
    risk: str | None
    flags: list[str]
    items: dict[str, int]
    observations: list[ObservationOut]
    alert_id: int | None = None


class ScorePointOut(BaseModel):
    instrument_id: str
    total: int | None
    severity: str | None
    completed_at: datetime
    context: str
    response_id: int


class DueOut(BaseModel):
    request_id: int
    instrument_id: str
    name: str
    context: str
    due_at: datetime
    expires_at: datetime
    fill_url: str


class AlertOut(BaseModel):
    id: int
    patient_id: int | None
    lead_id: int | None
    source: str
    detail: str
    raised_at: datetime
    primary_clinician: str | None
    status: str
    escalated_at: datetime | None
    acknowledged_by: str | None
    action: str | None


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Action
    note: str = Field(default="", max_length=2000)


class BannerOut(BaseModel):
    open: int
    escalated: int
    banners: list[dict[str, str | None]]


class RateOut(BaseModel):
    count: int
    n: int
    rate: float | None
    ci95_low: float | None
    ci95_high: float | None


class GroupOutcomeOut(BaseModel):
    indication: str
    protocol_id: str
    courses: int
    evaluable: int
    response: RateOut
    remission: RateOut
