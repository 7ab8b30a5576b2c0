from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=2, max_length=80)
    full_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1)
    email: str | None = Field(default=None, max_length=254)
    patient_id: RecordId | None = None


class RolesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: list[Role] = Field(min_length=1)


class UserOut(BaseModel):
    id: int
    username: str
    full_name: str
    email: str | None
    roles: list[str]
    active: bool
    patient_id: int | None
    created_at: datetime


class MeOut(BaseModel):
    user_id: int | None
    username: str
    full_name: str
    roles: list[str]
    patient_id: int | None


class AuditVerificationResultOut(BaseModel):
    ok: bool
    at: datetime
    by: str
    outcome: str  # "intact, N records (M not sealed yet)" or "broken at record N: why"


class AuditVerificationOut(BaseModel):
    """Where a verification of the audit trail stands: ``waiting`` (asked for, the
    background job has not finished it), ``done`` (``last`` is its result) or ``never``."""

    status: Literal["waiting", "done", "never"]
    status_url: str
    asked_at: datetime | None = None
    asked_by: str | None = None
    last: AuditVerificationResultOut | None = None
