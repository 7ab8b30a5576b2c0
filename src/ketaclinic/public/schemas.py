from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from ketaclinic.clinical import screening
from ketaclinic.patients.service import PatientIn
from ketaclinic.public.questions import MAX_TRIALS

Answer = bool | int | None
# The API takes answers as JSON true/false/null or a whole number, never "yes" or "3".
StrictAnswer = StrictBool | StrictInt | None
_PHONE = re.compile(r"^[0-9+() .\-]{5,40}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# One answer per rule at most; the table holds a few dozen rules.
MAX_ANSWERS = 100


def check_answers(answers: dict[str, Answer]) -> dict[str, Answer]:
    """Keys must name candidacy rules; values fit each rule's answer type."""
    if len(answers) > MAX_ANSWERS:
        raise ValueError(f"at most {MAX_ANSWERS} answers")
    table = {rule.id: rule for rule in screening.rules()}
    unknown = sorted(key for key in answers if key not in table)
    if unknown:
        raise ValueError(f"unknown question(s): {', '.join(unknown[:5])}")
    for key, value in answers.items():
        if value is None:
            continue
        if table[key].answer_type == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{key}: answer yes (true), no (false) or not sure (null)")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{key}: answer a whole number, or null if not sure")
        elif not math.isfinite(value) or value != int(value) or not 0 <= value <= MAX_TRIALS:
            raise ValueError(f"{key}: a whole number from 0 to {MAX_TRIALS}")
    return {k: (int(v) if isinstance(v, float) else v) for k, v in answers.items()}


class ScreenIn(BaseModel):
    """The self-screen's answers: rule id -> true / false / null (not sure) / number."""

    model_config = ConfigDict(extra="forbid")

    route: Literal["intravenous", "intranasal"] = "intravenous"
    answers: dict[str, StrictAnswer] = Field(default_factory=dict)

    @field_validator("answers")
    @classmethod
    def _answers(cls, value: dict[str, Answer]) -> dict[str, Answer]:
        return check_answers(value)


class ContactIn(BaseModel):
    """Who to contact, and their consent to be contacted."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    preferred_contact: Literal["phone", "email"] = "phone"
    message: str | None = Field(default=None, max_length=2000)
    consent: bool

    @field_validator("phone")
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

    @field_validator("consent")
    @classmethod
    def _consent(cls, value: bool) -> bool:
        if not value:
            raise ValueError("tick the box so that the clinic may contact you")
        return value

    @model_validator(mode="after")
    def _reachable(self) -> ContactIn:
        if not self.email and not self.phone:
            raise ValueError("give a phone number or an email address")
        if self.preferred_contact == "email" and not self.email:
            raise ValueError("give an email address, or choose to be phoned")
        if self.preferred_contact == "phone" and not self.phone:
            raise ValueError("give a phone number, or choose to be emailed")
        return self


class LeadIn(ScreenIn):
    contact: ContactIn


class LeadStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: Literal["contacted", "closed"]
    note: str = Field(min_length=3, max_length=2000)


class ReasonOut(BaseModel):
    rule_id: str
    kind: str
    absolute: bool
    plain: str
    message: str
    source: str
    evidence: str


class ScreenOut(BaseModel):
    verdict: str
    route: str
    consultation: Literal["yes", "to_clarify", "not_now"]
    summary: str
    reasons: list[ReasonOut]
    workup: list[str]
    to_clarify: list[str]
    crisis: bool


class LeadEventOut(BaseModel):
    at: datetime
    by: str
    from_status: str | None
    to_status: str
    note: str


class LeadOut(BaseModel):
    id: int
    created_at: datetime
    name: str
    email: str | None
    phone: str | None
    preferred_contact: str
    message: str | None
    route: str
    answers: dict[str, Answer]
    verdict: str
    urgent: bool
    status: str
    handled_by: str | None
    handled_at: datetime | None
    patient_id: int | None
    events: list[LeadEventOut] = []


class LeadSummary(BaseModel):
    id: int
    created_at: datetime
    name: str
    verdict: str
    urgent: bool
    status: str
    patient_id: int | None


class LeadConvertIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient: PatientIn
    note: str | None = Field(default=None, max_length=2000)


class QuestionOut(BaseModel):
    rule_id: str
    section: str
    ask: str
    answer_type: str
    hint: str


class PortalMeasurement(BaseModel):
    measured_on: date
    weight_kg: float | None
    height_cm: float | None


class PortalDue(BaseModel):
    instrument_id: str
    name: str
    due_at: datetime | None
    fill_url: str | None


class PortalScore(BaseModel):
    instrument_id: str
    total: float | None
    severity: str | None
    completed_at: datetime


class PortalVisit(BaseModel):
    starts_at: datetime | date | None
    description: str


class PortalOut(BaseModel):
    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date
    measurements: list[PortalMeasurement]
    upcoming: list[PortalVisit]
    questionnaires_due: list[PortalDue]
    scores: list[PortalScore]
