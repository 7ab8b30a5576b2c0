from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Protocol fields a prescriber may override on one order (limits of the dose); every
# override names its reason and is stored on the order and audited.
OverridableField = Literal["max_dose_mg", "dose_max", "dose_min"]
PlannedStatus = Literal["planned", "booked", "completed", "cancelled"]


class CourseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    protocol_id: str = Field(min_length=1, max_length=60)
    indication: str = Field(min_length=1, max_length=60)
    started_on: date | None = None
    series_sessions: int | None = Field(
        default=None, ge=1, le=60, description="only where the protocol sets no series length"
    )


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    target: str = Field(min_length=1, max_length=60, description="the order's protocol id")
    field: OverridableField
    value: float = Field(gt=0, le=1000)
    reason: str = Field(min_length=10, max_length=1000)


class OrderIn(BaseModel):
    """The prescriber's choices; weight and height come from the patient's record."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    dose_mg_per_kg: float | None = Field(default=None, gt=0, le=10)
    dose_mg: float | None = Field(default=None, gt=0, le=1000)
    concentration_mg_per_ml: float | None = Field(default=None, gt=0, le=1000)
    bag_volume_ml: float | None = Field(default=None, gt=0, le=2000)
    overrides: list[OverrideIn] = Field(default_factory=list, max_length=5)
    notes: str | None = Field(default=None, max_length=2000)


class SupersedeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    order: OrderIn
    reason: str = Field(min_length=3, max_length=1000)


class PlannedStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: PlannedStatus


class CourseOut(BaseModel):
    id: int
    patient_id: int
    protocol_id: str
    indication: str
    status: str
    series_sessions: int
    started_on: date | None
    created_by: str
    created_at: datetime
    ended_at: datetime | None
    end_reason: str | None


class PlannedSessionOut(BaseModel):
    id: int
    course_id: int
    patient_id: int
    number: int
    kind: str
    status: str
    earliest_on: date | None


class OrderOut(BaseModel):
    id: int
    course_id: int
    patient_id: int
    protocol_id: str
    route: str
    status: str
    dose_mg: float
    dose_mg_per_kg: float | None
    weight_kg: float | None
    height_cm: float | None
    dose_weight_kg: float | None
    dose_weight_basis: str | None
    concentration_mg_per_ml: float | None
    bag_volume_ml: float | None
    drug_volume_ml: float | None
    total_volume_ml: float | None
    rate_ml_per_h: float | None
    duration_min: float | None
    devices: int | None
    plan_steps: list[str]
    overrides: list[dict[str, Any]]
    notes: str | None
    created_by: str
    created_at: datetime
    signed_by: str | None
    signed_at: datetime | None
    signed_by_name: str | None
    signature_meaning: str | None
    supersedes_id: int | None
    change_reason: str | None


class PlanOut(BaseModel):
    protocol_id: str
    drug: str
    route: str
    dose_mg: float
    dose_mg_per_kg: float | None
    dose_weight_kg: float | None
    dose_weight_basis: str | None
    max_dose_mg: float
    concentration_mg_per_ml: float | None
    drug_volume_ml: float | None
    bag_volume_ml: float | None
    total_volume_ml: float | None
    rate_ml_per_h: float | None
    duration_min: float | None
    devices: int | None
    steps: list[str]
    source: str
    evidence: str


class SignIn(BaseModel):
    """A signature re-authenticates: the signer's own password, typed again."""

    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=200)
