"""Plausible ranges of the fields of an order, and the checks behind ``dosing.check_order``.

``dosing.check_order`` (in ``dosing.plan``) is called with the fields of an order, both
when the order is saved and when it is signed (``plan`` runs the same checks on its
inputs and results). A field
outside its range (``ORDER_RANGES``, each row with its source) is refused with an
``OrderFieldError`` naming the field, so the area can show the message next to it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from ketaclinic.clinical.dosing.table import ORDER_RANGES, OrderRange, Protocol
from ketaclinic.clinical.overrides import Override, apply


class OrderFieldError(ValueError):
    """An order field that cannot be right; ``field`` names it (the area's 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


ORDER_FIELDS = (
    "concentration_mg_per_ml",
    "bag_volume_ml",
    "total_volume_ml",
    "rate_ml_per_h",
    "duration_min",
    "dose_mg",
)


def order_ranges(overrides: Iterable[Override] = ()) -> list[OrderRange]:
    """The order-field ranges with the clinic's overrides (aimed at this table) applied."""
    ids = {row.id for row in ORDER_RANGES}
    own = [o for o in overrides if o.target in ids]
    rows = list(apply({row.id: row for row in ORDER_RANGES}, own).values())
    for row in rows:
        if not 0 < row.minimum <= row.maximum:
            raise ValueError(f"order range {row.id!r} needs 0 < minimum <= maximum")
    return rows


def _range_for(rows: Iterable[OrderRange], field: str, drug: str) -> OrderRange | None:
    chosen: OrderRange | None = None
    for row in rows:
        if row.field != field:
            continue
        if row.drug == drug:
            return row
        if row.drug is None:
            chosen = row
    return chosen


def check_value(p: Protocol, field: str, value: float | None, rows: Iterable[OrderRange]) -> None:
    """Refuse ``value`` for ``field`` of an order of ``p`` when it cannot be right."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise OrderFieldError(field, f"{field} must be a finite number, got {value!r}")
    if value <= 0:
        raise OrderFieldError(field, f"{field} must be more than zero, got {value:g}")
    rows = list(rows)
    row = _range_for(rows, field, p.drug)
    if row is None:
        if field in ("concentration_mg_per_ml",) and p.mg_per_device is None:
            raise OrderFieldError(
                field, f"no plausible range of {field} is declared for {p.drug}: add one"
            )
        return
    if not row.minimum <= value <= row.maximum:
        raise OrderFieldError(
            field,
            f"{field} {value:g} {row.unit} is outside the plausible range "
            f"{row.minimum:g}-{row.maximum:g} {row.unit} ({row.source}) [{row.evidence}]",
        )


def check_fields(
    protocol: Protocol,
    *,
    concentration_mg_per_ml: float | None = None,
    bag_volume_ml: float | None = None,
    total_volume_ml: float | None = None,
    rate_ml_per_h: float | None = None,
    duration_min: float | None = None,
    dose_mg: float | None = None,
    overrides: Iterable[Override] = (),
) -> None:
    """Refuse an order of ``protocol`` with a field that cannot be right.

    Each field is checked against its plausible range (``ORDER_RANGES``, the row for the
    protocol's drug where there is one); fields that do not apply to the protocol (a
    concentration for nasal devices, a bag or a pump rate for an injection) are refused
    as well, and ``dose_mg`` must not exceed the protocol's single-dose cap. Raises
    ``OrderFieldError`` naming the first field in error; returns ``None`` when all is
    plausible.
    """
    rows = order_ranges(overrides)
    given: Mapping[str, float | None] = {
        "concentration_mg_per_ml": concentration_mg_per_ml,
        "bag_volume_ml": bag_volume_ml,
        "total_volume_ml": total_volume_ml,
        "rate_ml_per_h": rate_ml_per_h,
        "duration_min": duration_min,
        "dose_mg": dose_mg,
    }
    if protocol.mg_per_device is not None and concentration_mg_per_ml is not None:
        raise OrderFieldError(
            "concentration_mg_per_ml",
            f"protocol {protocol.id!r} is dosed in devices of {protocol.mg_per_device:g} mg: "
            "a concentration does not apply",
        )
    if not protocol.infusion:
        for field in ("bag_volume_ml", "rate_ml_per_h", "duration_min"):
            if given[field] is not None:
                raise OrderFieldError(
                    field, f"protocol {protocol.id!r} is not an infusion: {field} does not apply"
                )
    for field, value in given.items():
        if field == "dose_mg":
            continue
        check_value(protocol, field, value, rows)
    if dose_mg is not None:
        if isinstance(dose_mg, bool) or not math.isfinite(dose_mg) or dose_mg <= 0:
            raise OrderFieldError("dose_mg", f"dose_mg must be a positive number, got {dose_mg!r}")
        if dose_mg > protocol.max_dose_mg:
            raise OrderFieldError(
                "dose_mg",
                f"dose {dose_mg:g} mg exceeds the maximum single dose of {protocol.id!r}, "
                f"{protocol.max_dose_mg:g} mg ({protocol.citation('max_dose_mg').source})",
            )
