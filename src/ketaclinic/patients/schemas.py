from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Sex = Literal["female", "male", "other", "unknown"]  # FHIR administrative gender
_PHONE = re.compile(r"^[0-9+() .\-]{5,40}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Oldest documented human lifespan is ~122 years; anything older is a typing error.
MAX_AGE_YEARS = 125


class PatientFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    date_of_birth: date
    sex: Sex
    mrn: str | None = Field(default=None, max_length=40, pattern=r"^[A-Za-z0-9\-]+$")
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    address: str | None = Field(default=None, max_length=500)
    emergency_contact_name: str | None = Field(default=None, max_length=200)
    emergency_contact_phone: str | None = Field(default=None, max_length=40)
    emergency_contact_relation: str | None = Field(default=None, max_length=60)

    @field_validator("phone", "emergency_contact_phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value and not _PHONE.match(value):
            raise ValueError("a phone number uses digits, spaces and + ( ) . - only")
        return value or None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value and not _EMAIL.match(value):
            raise ValueError("not an email address")
        return value or None

    @field_validator("date_of_birth")
    @classmethod
    def _dob(cls, value: date) -> date:
        today = date.today()
        if value > today:
            raise ValueError("date of birth is in the future")
        if today.year - value.year > MAX_AGE_YEARS:
            raise ValueError(f"date of birth is more than {MAX_AGE_YEARS} years ago")
        return value

    @field_validator("address", "emergency_contact_name", "emergency_contact_relation", "mrn")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None


class PatientIn(PatientFields):
    pass


class PatientUpdate(PatientFields):
    reason: str = Field(min_length=3, max_length=500, description="why the record changes")


class MeasurementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    measured_on: date
    # Plausibility bounds for an adult clinic's scale and stadiometer, not clinical limits.
    weight_kg: float | None = Field(default=None, gt=20, lt=400)
    height_cm: float | None = Field(default=None, gt=100, lt=250)

    @field_validator("measured_on")
    @classmethod
    def _not_future(cls, value: date) -> date:
        if value > date.today():
            raise ValueError("a measurement cannot be dated in the future")
        return value


class MeasurementError(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=500)


class MeasurementOut(BaseModel):
    id: int
    measured_on: date
    weight_kg: float | None
    height_cm: float | None
    recorded_by: str
    recorded_at: datetime
    entered_in_error: bool
    error_reason: str | None


class PatientOut(BaseModel):
    id: int
    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date
    sex: str
    phone: str | None
    email: str | None
    address: str | None
    emergency_contact_name: str | None
    emergency_contact_phone: str | None
    emergency_contact_relation: str | None
    version: int
    updated_at: datetime
    measurements: list[MeasurementOut] = []


class PatientSummary(BaseModel):
    id: int
    mrn: str
    name: str
    date_of_birth: date
    sex: str


class VersionOut(BaseModel):
    version: int
    changed_at: datetime
    changed_by: str
    reason: str
    data: dict[str, object]
