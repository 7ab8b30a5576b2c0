"""Shapes of the care forms: what a person types, checked before a service sees it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ketaclinic.platform.ids import RecordId

_STRICT = ConfigDict(extra="ignore", str_strip_whitespace=True)


class MemberIn(BaseModel):
    model_config = _STRICT

    role: Literal["prescriber", "nurse", "therapist", "referring"]
    user_id: RecordId | None = None
    name: str = Field(default="", max_length=200)
    organisation: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=40)
    email: str = Field(default="", max_length=254)
    primary: bool = False


class MedicationIn(BaseModel):
    model_config = _STRICT

    name: str = Field(min_length=2, max_length=200)
    dose: str = Field(default="", max_length=120)
    kind: Literal["psychiatric", "other"]
    prescriber: str = Field(min_length=3, max_length=200)
    started_on: date


class StopIn(BaseModel):
    model_config = _STRICT

    stopped_on: date
    reason: str = Field(min_length=3, max_length=1000)


class TherapyIn(BaseModel):
    """A therapy session to book; ``starts_at`` is the clinic's local time."""

    model_config = _STRICT

    phase: Literal["preparation", "support", "integration"]
    therapist_user_id: RecordId
    starts_at: datetime
    room_id: RecordId | None = None
    minutes: int | None = Field(default=None, ge=10, le=240)


class NoteIn(BaseModel):
    model_config = _STRICT

    goals: str = Field(default="", max_length=4000)
    themes: str = Field(default="", max_length=4000)
    homework: str = Field(default="", max_length=4000)
    risk_review: str = Field(default="", max_length=4000)
    cssrs_indicated: bool = False
    password: str = Field(default="", max_length=200)


class DecisionIn(BaseModel):
    model_config = _STRICT

    choice: Literal["extend", "titrate", "maintenance", "switch_route", "stop"]
    reason: str = Field(min_length=3, max_length=2000)
    extra_sessions: int | None = Field(default=None, ge=1, le=12)
    schedule_id: str | None = Field(default=None, max_length=60)
    weekly: int | None = Field(default=None, ge=0, le=12)
    fortnightly: int | None = Field(default=None, ge=0, le=12)
    monthly: int | None = Field(default=None, ge=0, le=12)
    protocol_id: str | None = Field(default=None, max_length=60)
    concentration_mg_per_ml: float | None = Field(default=None, gt=0, le=1000)
    bag_volume_ml: float | None = Field(default=None, gt=0, le=2000)
    series_sessions: int | None = Field(default=None, ge=1, le=60)


class MemberOut(BaseModel):
    id: int
    role: str
    user_id: int | None
    name: str
    organisation: str | None
    phone: str | None
    email: str | None
    primary: bool


class FindingOut(BaseModel):
    drug_class: str
    severity: str
    effect: str
    advice: str
    source: str
    evidence: str


class MedicationOut(BaseModel):
    id: int
    name: str
    dose: str | None
    kind: str
    prescriber: str
    started_on: date
    stopped_on: date | None
    findings: list[FindingOut]
    in_interaction_table: bool
