"""JSON and form shapes of the controlled-substance ledger."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ketaclinic.platform.ids import RecordId

Quantity = Field(gt=0, le=1_000_000)
Text200 = Field(min_length=1, max_length=200)


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LocationIn(In):
    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=120)
    dea_number: str = Field(min_length=9, max_length=9)
    address: str = Field(default="", max_length=500)


class ProductIn(In):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=160)
    substance: Literal["ketamine", "esketamine"]
    count_unit: Literal["vial", "mL", "device"]
    strength_mg_per_ml: float | None = Field(default=None, gt=0, le=500)
    volume_ml: float | None = Field(default=None, gt=0, le=1000)
    mg_per_device: float | None = Field(default=None, gt=0, le=1000)


class ReceiptIn(In):
    location_id: RecordId
    product_id: RecordId
    lot_number: str = Field(min_length=1, max_length=40)
    expires_on: date
    quantity: float = Quantity
    supplier: str = Text200
    supplier_dea_number: str = Field(min_length=9, max_length=9)
    reference: str = Field(min_length=1, max_length=80)
    received_on: date | None = None


class WitnessIn(In):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)


class WasteIn(In):
    reason: str = Field(min_length=1, max_length=2000)
    witness: WitnessIn
    # Further witnesses, when the clinic's rule asks for more than one.
    more_witnesses: list[WitnessIn] = Field(default_factory=list, max_length=3)
    draw_id: RecordId | None = None
    mg: float | None = Field(default=None, gt=0, le=100_000)
    lot_id: RecordId | None = None
    quantity: float | None = Field(default=None, gt=0, le=1_000_000)


class WasteForm(In):
    """The waste page's fields (the witness signs in beside them)."""

    reason: str = Field(min_length=1, max_length=2000)
    draw_id: RecordId | None = None
    mg: float | None = Field(default=None, gt=0, le=100_000)
    lot_id: RecordId | None = None
    quantity: float | None = Field(default=None, gt=0, le=1_000_000)
    witness_username: str = Field(min_length=1, max_length=80)
    witness_password: str = Field(min_length=1, max_length=200)
    witness_2_username: str | None = Field(default=None, max_length=80)
    witness_2_password: str | None = Field(default=None, max_length=200)
    witness_3_username: str | None = Field(default=None, max_length=80)
    witness_3_password: str | None = Field(default=None, max_length=200)
    witness_4_username: str | None = Field(default=None, max_length=80)
    witness_4_password: str | None = Field(default=None, max_length=200)

    def further_witnesses(self) -> list[tuple[str, str]]:
        found = []
        for n in (2, 3, 4):
            name = getattr(self, f"witness_{n}_username")
            if name:
                found.append((name, getattr(self, f"witness_{n}_password") or ""))
        return found


class DestroyIn(In):
    lot_id: RecordId
    quantity: float = Quantity
    method: str = Text200
    reason: str = Field(min_length=1, max_length=2000)
    witnesses: list[WitnessIn] = Field(min_length=1, max_length=4)


class ReturnIn(In):
    lot_id: RecordId
    quantity: float = Quantity
    supplier: str = Text200
    supplier_dea_number: str = Field(min_length=9, max_length=9)
    reference: str = Field(min_length=1, max_length=80)
    reason: str = Field(min_length=1, max_length=2000)


class TransferIn(In):
    lot_id: RecordId
    to_location_id: RecordId
    quantity: float = Quantity
    reference: str = Field(min_length=1, max_length=80)


class CorrectionIn(In):
    reason: str = Field(min_length=5, max_length=2000)


class CountIn(In):
    lot_id: RecordId
    found: float = Field(ge=0, le=1_000_000)
    occasion: Literal["shift_change", "end_of_day"] = "end_of_day"
    note: str | None = Field(default=None, max_length=2000)


class ResolveIn(In):
    reason: str = Field(min_length=5, max_length=2000)


class InventoryLineIn(In):
    lot_id: RecordId
    found: float = Field(ge=0, le=1_000_000)
    estimated: bool = False


class InventoryIn(In):
    location_id: RecordId
    kind: Literal["initial", "biennial"]
    business_hours: Literal["opening", "close"]
    lines: list[InventoryLineIn] = Field(max_length=500)
    password: str = Field(min_length=1, max_length=200)


class LossLineIn(In):
    lot_id: RecordId
    quantity: float = Quantity


class LossIn(In):
    location_id: RecordId
    kind: Literal["theft", "significant_loss"]
    discovered_on: date
    circumstances: str = Field(min_length=5, max_length=4000)
    lines: list[LossLineIn] = Field(min_length=1, max_length=100)
    police_report: str | None = Field(default=None, max_length=120)


class NoticeIn(In):
    reference: str = Field(min_length=1, max_length=120)
    notified_at: datetime | None = None


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class LocationOut(Out):
    id: int
    code: str
    name: str
    dea_number: str
    address: str


class ProductOut(Out):
    id: int
    code: str
    name: str
    substance: str
    strength_mg_per_ml: float | None
    volume_ml: float | None
    mg_per_unit: float
    count_unit: str


class StockOut(BaseModel):
    lot_id: int
    location: str
    product: str
    lot_number: str
    expires_on: date
    balance: float
    unit: str


class EntryOut(Out):
    id: int
    location_id: int
    lot_id: int
    kind: str
    at: datetime
    recorded_by: str
    units_milli: int
    balance_after_milli: int
    mg: float | None
    session_id: int | None
    patient_id: int | None
    supplier: str | None
    supplier_dea_number: str | None
    reference: str | None
    counterpart_location_id: int | None
    refers_to_id: int | None
    witnesses: list[dict[str, Any]]
    method: str | None
    reason: str | None


class CountOut(Out):
    id: int
    lot_id: int
    at: datetime
    occasion: str
    counted_by: str
    expected_milli: int
    found_milli: int
    estimated: bool


class DiscrepancyOut(Out):
    id: int
    count_id: int
    lot_id: int
    difference_milli: int
    status: str
    opened_at: datetime
    resolved_by: str | None
    resolved_at: datetime | None
    reason: str | None


class CountResult(BaseModel):
    count: CountOut
    discrepancy: DiscrepancyOut | None


class InventoryOut(Out):
    id: int
    location_id: int
    kind: str
    taken_at: datetime
    business_hours: str
    taken_by: str
    signed_by_name: str
    signature_meaning: str
    text: str


class LossOut(Out):
    id: int
    location_id: int
    kind: str
    discovered_on: date
    notice_due_on: date
    notified_at: datetime | None
    notice_reference: str | None
    lines: list[dict[str, Any]]
