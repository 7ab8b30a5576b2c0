"""IEEE 11073 MDC codes of bedside-monitor observations, mapped to ketaclinic's vital signs.

One declared row per (device model, observation code): which vital sign the code
charts, the unit code it must come with and the factor to ketaclinic's unit. The
default model ``*`` holds the IEEE 11073-10101 codes that IHE PCD-01 (ORU^R01)
monitors send; a vendor that sends its own codes (Philips IntelliVue's MDIL and SDN
codes through its information centre) gets rows of its own model, added when a clinic
meets one. A code without a row is not charted and the message says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Evidence = Literal["confirmed", "secondary", "convention"]
Vital = Literal["heart_rate", "systolic_bp", "diastolic_bp", "spo2", "respiratory_rate"]

_NOMENCLATURE = (
    "IEEE 11073-10101 nomenclature (the MDC code and its reference id), as listed in the "
    "IHE PCD Rosetta Terminology Mapping (RTMMS) and sent in IHE PCD-01 ORU^R01 OBX-3; "
    "code and unit as the issue and the interop notes list them, not re-checked here "
    "against RTMMS"
)


@dataclass(frozen=True)
class MdcRow:
    """One observation a monitor sends: ``code`` in OBX-3, ``unit_code`` in OBX-6."""

    id: str  # "<model>:<code>"
    model: str  # "*" for every PCD-01 device, else the device model (MSH-3 / OBX-18)
    code: int
    reference_id: str
    vital: Vital | None  # None: recognised, not charted by ketaclinic
    unit_code: int
    unit: str
    factor: float  # multiply the OBX-5 value by this to get ketaclinic's unit
    source: str
    evidence: Evidence
    charted: bool = True


def _row(
    code: int,
    reference_id: str,
    vital: Vital | None,
    unit_code: int,
    unit: str,
    *,
    model: str = "*",
    charted: bool = True,
) -> tuple[str, MdcRow]:
    key = f"{model}:{code}"
    return key, MdcRow(
        id=key,
        model=model,
        code=code,
        reference_id=reference_id,
        vital=vital,
        unit_code=unit_code,
        unit=unit,
        factor=1.0,
        source=_NOMENCLATURE,
        evidence="secondary",
        charted=charted and vital is not None,
    )


# fmt: off
MDC: dict[str, MdcRow] = dict(
    [
        _row(150021, "MDC_PRESS_BLD_NONINV_SYS", "systolic_bp", 266016, "MDC_DIM_MMHG"),
        _row(150022, "MDC_PRESS_BLD_NONINV_DIA", "diastolic_bp", 266016, "MDC_DIM_MMHG"),
        # Recognised, not charted: ketaclinic keeps no mean arterial pressure column.
        _row(150023, "MDC_PRESS_BLD_NONINV_MEAN", None, 266016, "MDC_DIM_MMHG"),
        _row(149546, "MDC_PULS_RATE", "heart_rate", 264864, "MDC_DIM_BEAT_PER_MIN"),
        _row(147842, "MDC_ECG_HEART_RATE", "heart_rate", 264864, "MDC_DIM_BEAT_PER_MIN"),
        _row(150456, "MDC_PULS_OXIM_SAT_O2", "spo2", 262688, "MDC_DIM_PERCENT"),
        # Unit 264928 is not among the unit codes the issue lists: check it against RTMMS.
        _row(151562, "MDC_RESP_RATE", "respiratory_rate", 264928, "MDC_DIM_RESP_PER_MIN"),
        # Recognised, not charted: the session chart has no temperature column yet.
        _row(150344, "MDC_TEMP", None, 268192, "MDC_DIM_DEGC"),
    ]
)
# fmt: on

# Codes of the parent containers of a PCD-01 message (the NIBP set 150020 groups
# 150021-150023): present in OBX-3 of a grouping OBX that carries no value.
CONTAINERS = frozenset({150020})


def row_for(code: int, model: str = "*", table: dict[str, MdcRow] | None = None) -> MdcRow | None:
    """The row for a code, the device model's own first."""
    rows = MDC if table is None else table
    return rows.get(f"{model}:{code}") or rows.get(f"*:{code}")
