"""Shapes of the scheduling API and forms. Times typed by people are the clinic's local
wall-clock times (naive); the routes attach the clinic's zone before the service sees
them, and everything leaving the API is UTC."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ketaclinic.platform.ids import RecordId
from ketaclinic.scheduling.rules import Kind

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _naive(value: datetime) -> datetime:
    if value.tzinfo is not None:
        raise ValueError("give the clinic's local time without a zone (e.g. 2026-03-04T09:00)")
    return value


class ChairIn(BaseModel):
    model_config = _STRICT

    name: str = Field(min_length=1, max_length=60)
    kind: Literal["chair", "room"] = "chair"
    notes: str | None = Field(default=None, max_length=500)


class ChairUpdate(BaseModel):
    model_config = _STRICT

    name: str | None = Field(default=None, min_length=1, max_length=60)
    active: bool | None = None
    notes: str | None = Field(default=None, max_length=500)


class ChairOut(BaseModel):
    id: int
    name: str
    kind: str
    active: bool
    notes: str | None


class AvailabilityIn(BaseModel):
    """An on-duty span in local time."""

    model_config = _STRICT

    user_id: RecordId
    starts_at: datetime
    ends_at: datetime

    _zone_free = field_validator("starts_at", "ends_at")(_naive)

    @model_validator(mode="after")
    def _order(self) -> AvailabilityIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("the span must end after it starts")
        if (self.ends_at - self.starts_at).total_seconds() > 24 * 3600:
            raise ValueError("one span covers at most 24 hours; add one per shift")
        return self


class AvailabilityOut(BaseModel):
    id: int
    user_id: int
    starts_at: datetime
    ends_at: datetime
    created_by: str


class BookingIn(BaseModel):
    model_config = _STRICT

    patient_id: RecordId
    kind: Kind
    starts_at: datetime
    chair_id: RecordId | None = None
    nurse_user_id: RecordId | None = None
    planned_session_id: RecordId | None = None
    notes: str | None = Field(default=None, max_length=1000)

    _zone_free = field_validator("starts_at")(_naive)


class CancelIn(BaseModel):
    model_config = _STRICT

    reason: str = Field(min_length=3, max_length=500)


class RescheduleIn(BaseModel):
    model_config = _STRICT

    reason: str = Field(min_length=3, max_length=500)
    starts_at: datetime
    chair_id: RecordId | None = None
    nurse_user_id: RecordId | None = None

    _zone_free = field_validator("starts_at")(_naive)


class ConfirmationIn(BaseModel):
    """The day-before call. ``no_nasal_decongestant`` is asked for esketamine only."""

    model_config = _STRICT

    fasting: bool
    ride_home: bool
    no_nasal_decongestant: bool | None = None
    note: str = Field(default="", max_length=1000)


class StatusIn(BaseModel):
    model_config = _STRICT

    status: Literal["checked_in", "completed", "no_show"]


class AppointmentOut(BaseModel):
    id: int
    patient_id: int
    chair_id: int | None
    nurse_user_id: int | None
    planned_session_id: int | None
    kind: str
    starts_at: datetime
    ends_at: datetime
    treatment_min: int
    recovery_min: int
    status: str
    booked_by: str
    booked_at: datetime
    cancelled_by: str | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    confirmation: dict[str, Any] | None
    confirmed_by: str | None
    confirmed_at: datetime | None
    notes: str | None
