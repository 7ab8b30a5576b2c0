"""What the billing JSON API takes and gives: amounts always in integer cents."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from ketaclinic.platform.ids import RecordId


class PriceOut(BaseModel):
    key: str
    name: str
    kind: str
    codes: list[str]
    price_cents: int | None


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: str = Field(pattern="^(cash|card|cheque|financing)$")
    amount_cents: StrictInt = Field(gt=0, le=100_000_000)
    received_on: date
    reference: str | None = Field(default=None, max_length=120)
    charge_id: RecordId | None = None
    package_id: RecordId | None = None
    note: str | None = Field(default=None, max_length=2000)


class PaymentOut(BaseModel):
    id: int
    patient_id: int
    method: str
    amount_cents: int
    received_on: date


class BalanceOut(BaseModel):
    patient_id: int
    charged_cents: int
    paid_cents: int
    adjusted_cents: int
    balance_cents: int


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    charge_ids: list[RecordId] = Field(min_length=1, max_length=100)


class EstimateDueOut(BaseModel):
    id: int
    recipient_name: str
    asked_on: date
    service_on: date | None
    due_on: date | None
    late: bool
