"""Decimal arithmetic for dose plans: one rounding rule, numbers written for a hand check.

Rounding rule: each value is rounded half up, once, where it is first computed, and the
rounded value is what later steps use. Quanta: height 0.01 in, weights 0.1 kg, BMI 0.1,
dose 0.1 mg, volumes 0.01 mL, pump rate 0.1 mL/h.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

ROUNDING_RULE = (
    "Rounding: each value is rounded half up once, where it is first computed, and the "
    "rounded value is used from then on: height to 0.01 in, weights to 0.1 kg, BMI to 0.1, "
    "dose to 0.1 mg, volumes to 0.01 mL, pump rate to 0.1 mL/h."
)
INCH = Decimal("0.01")
KG = Decimal("0.1")
BMI = Decimal("0.1")
MG = Decimal("0.1")
ML = Decimal("0.01")
RATE = Decimal("0.1")


def dec(value: float | int) -> Decimal:
    return Decimal(repr(float(value)))


def round_once(value: Decimal, quantum: Decimal) -> Decimal:
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def raw(value: Decimal) -> str:
    """An unrounded intermediate, shown to 4 decimals at most."""
    shown = value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP).normalize()
    return format(shown, "f")


def num(value: Decimal | float) -> str:
    """A given number (an input or a table value) as written, without trailing noise."""
    shown = value if isinstance(value, Decimal) else dec(value)
    text = format(shown.normalize(), "f")
    return text if "." in text else text + ".0"


def result(value: Decimal, quantum: Decimal, unit: str) -> tuple[Decimal, str]:
    """Round once; return the rounded value and the words for it."""
    rounded = round_once(value, quantum)
    if rounded == value:
        return rounded, f"{rounded} {unit}"
    return rounded, f"{raw(value)} {unit}, rounded to {rounded} {unit}"


def check_finite(name: str, value: float | int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
