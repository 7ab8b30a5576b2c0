"""PCD-01 ORU^R01 messages as a monitor sends them: for the simulator, the benchmark
and the tests (the MDC codes come from the declared table)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from ketaclinic.clinical.codes import mdc

_ORDER = (
    "systolic_bp",
    "diastolic_bp",
    "mean_bp",
    "heart_rate",
    "spo2",
    "respiratory_rate",
    "temperature",
)
_CODE = {
    "systolic_bp": 150021,
    "diastolic_bp": 150022,
    "mean_bp": 150023,
    "temperature": 150344,
    "heart_rate": 149546,
    "spo2": 150456,
    "respiratory_rate": 151562,
}


# MSH-21 of IHE PCD-01 and the OBR-4 of a monitor's periodic observations.
_PROFILE = "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO"
_MONITORING = "182777000^monitoring of patient^SNOMED-CT"


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")


def oru_r01(
    *,
    control_id: str,
    mrn: str,
    device_id: str,
    at: datetime,
    values: Mapping[str, int | float],
    status: str = "F",
    units: dict[str, str] | None = None,
) -> str:
    """One ORU^R01 (HL7 2.6, IHE PCD-01) with an OBX per value, segments joined by CR."""
    segments = [
        f"MSH|^~\\&|SIMMON^{device_id}^EUI-64|CHAIRS|KETACLINIC|CLINIC|{_stamp(at)}||"
        f"ORU^R01^ORU_R01|{control_id}|P|2.6|||NE|AL||||{_PROFILE}",
        f"PID|||{mrn}^^^KETACLINIC^MR",
        f"OBR|1|{control_id}^SIMMON|{control_id}^SIMMON|{_MONITORING}|||{_stamp(at)}",
    ]
    n = 0
    for name in _ORDER:
        if name not in values:
            continue
        n += 1
        row = mdc.row_for(_CODE[name])
        assert row is not None
        unit = (units or {}).get(name, f"{row.unit_code}^{row.unit}^MDC")
        segments.append(
            f"OBX|{n}|NM|{row.code}^{row.reference_id}^MDC|1.0.1.{n}|{values[name]:g}|"
            f"{unit}|||||{status}|||{_stamp(at)}||||{device_id}^EUI-64"
        )
    return "\r".join(segments)
