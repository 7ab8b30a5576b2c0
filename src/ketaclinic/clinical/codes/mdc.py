"""IEEE 11073 MDC codes of bedside-monitor observations, mapped to ketaclinic's vital signs.

One declared row per (device model, observation code): which vital sign the code
charts, the unit code it must come with and the factor to ketaclinic's unit. The
default model ``*`` holds the IEEE 11073-10101 codes that IHE PCD-01 (ORU^R01)
monitors send; a vendor that sends codes of its own gets rows of its own model, added
when a clinic meets one and its source is known. Philips monitors that write the same
terms in their MDIL notation (partition and term in hexadecimal, coding system "MDIL")
are read as the MDC codes they stand for (``mdil_code``, ``MDIL_SOURCE``), so the same
rows chart them. A code without a row is not charted and the message says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Evidence = Literal["confirmed", "secondary", "convention"]
Vital = Literal[
    "heart_rate",
    "systolic_bp",
    "diastolic_bp",
    "mean_bp",
    "spo2",
    "respiratory_rate",
    "temperature",
]

_NOMENCLATURE = (
    "IEEE 11073-10101 nomenclature (the MDC code and its reference id), as listed in the "
    "IHE PCD Rosetta Terminology Mapping (RTMMS) and sent in IHE PCD-01 ORU^R01 OBX-3; "
    "code and unit as the issue and the interop notes list them, cross-checked (not "
    "against RTMMS or the IEEE text) with an open MDC table of partition 2 term codes "
    "(code = 2 << 16 + term: NIBP sys/dia/mean 18949/18950/18951, ECG heart rate 16770, "
    "non-invasive pulse rate 18474, SpO2 19384, respiration rate 20490) and the GE "
    "B40/B105/B125 HL7 Reference Manual 2062665-001 PCD-01 examples (147842 with 264864)"
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
        # Charted and shown; no alarm rule judges it (the limits table has no sourced
        # limit for the mean pressure).
        _row(150023, "MDC_PRESS_BLD_NONINV_MEAN", "mean_bp", 266016, "MDC_DIM_MMHG"),
        # 149546 = 2 << 16 + 18474: MDC_PULS_RATE_NON_INV in the nomenclature tables and
        # the HL7 Personal Health Device FHIR IG examples (the pulse of the NIBP cuff);
        # the code the issue lists, charted as the pulse.
        _row(149546, "MDC_PULS_RATE_NON_INV", "heart_rate", 264864, "MDC_DIM_BEAT_PER_MIN"),
        _row(147842, "MDC_ECG_HEART_RATE", "heart_rate", 264864, "MDC_DIM_BEAT_PER_MIN"),
        _row(150456, "MDC_PULS_OXIM_SAT_O2", "spo2", 262688, "MDC_DIM_PERCENT"),
        # Unit 264928 = partition 4 (dimensions) << 16 + MDC_DIM_RESP_PER_MIN 2784, as
        # the nomenclature headers cited at ``UNIT_SOURCE`` list it.
        _row(151562, "MDC_RESP_RATE", "respiratory_rate", 264928, "MDC_DIM_RESP_PER_MIN"),
        # Charted and shown; no alarm (no sourced temperature limit in the limits table).
        _row(150344, "MDC_TEMP", "temperature", 268192, "MDC_DIM_DEGC"),
    ]
)
# fmt: on

# The units a code may also come in, converted to the row's unit: a monitor set to kPa
# sends its pressures in MDC_DIM_KILO_PASCAL.
UNIT_SOURCE = (
    "IEEE 11073-10101 unit codes (partition 4, MDC_PART_DIM, so code = 4 << 16 + term): "
    "MDC_DIM_KILO_PASCAL term 3843, beside MDC_DIM_MMHG 3872 (= 266016, the code the "
    "PCD-01 messages carry), as the open nomenclature tables of several independent "
    "device stacks list them (e.g. the Mdc.java table of an HL7/FHIR PHD encoder, a "
    "Freescale ZigBee health-care NomenclatureCodes.h, an Android PHD Nomenclature.java); "
    "not checked against the IEEE text or RTMMS itself. 1 kPa = 7.50062 mmHg "
    "(1 mmHg = 133.322 Pa, ISO 80000-4 / BIPM SI brochure conventional value)"
)


@dataclass(frozen=True)
class UnitRow:
    """A unit ``unit_code`` accepted for rows whose own unit is ``to_unit_code``, and the
    factor that converts it to that unit."""

    id: str  # "<to_unit_code>:<unit_code>"
    unit_code: int
    unit: str
    to_unit_code: int
    factor: float
    source: str
    evidence: Evidence


def _unit(unit_code: int, unit: str, to_unit_code: int, factor: float) -> tuple[str, UnitRow]:
    key = f"{to_unit_code}:{unit_code}"
    return key, UnitRow(key, unit_code, unit, to_unit_code, factor, UNIT_SOURCE, "secondary")


CONVERTED_UNITS: dict[str, UnitRow] = dict(
    [
        _unit(265987, "MDC_DIM_KILO_PASCAL", 266016, 7.50062),  # kPa to mmHg
    ]
)


def conversion(
    row: MdcRow, unit_code: str, unit_name: str, units: Mapping[str, UnitRow] = CONVERTED_UNITS
) -> float | None:
    """The factor from the unit a monitor sent (OBX-6 code, or its name) to ketaclinic's
    unit for ``row``; ``None`` for a unit the table does not know for it. ``units``: the
    converted units (``CONVERTED_UNITS``, or the clinic's ``Codebook.units``)."""
    if unit_code == str(row.unit_code) or unit_name == row.unit:
        return row.factor
    for unit in units.values():
        # A converted unit is taken by its code; by its name only when no code came
        # (a code that disagrees with the name is not guessed at).
        if unit.to_unit_code == row.unit_code and (
            unit_code == str(unit.unit_code) or (not unit_code and unit_name == unit.unit)
        ):
            return row.factor * unit.factor
    return None


# Philips monitors that export HL7 with their own coding system (OBX-3.3 and OBX-6.3
# "MDIL") send the same nomenclature terms written another way: partition and term code
# in hexadecimal, "0002-4a05" for what PCD-01 monitors send as 150021.
MDIL_SOURCE = (
    "Philips Efficia CM Series Data Export Guide (Philips Healthcare), 'Observation "
    "Reporting (ORF) Message Syntax' (p. 3-18: OBX-3 is <MDIL code>^<label>^MDIL, e.g. "
    "0002-4182^HR^MDIL with unit 0004-0aa0^bpm^MDIL, 0002-4bb8^SpO2^MDIL with "
    "0004-0220^%^MDIL) and 'MDIL Coding' (p. 3-27: identifiers <Partition>-<TermCode> in "
    "hexadecimal, partition 0x0002 SCADA for parameters and 0x0004 dimension for units; "
    "0002-4a05/4a06/4a07 NBPs/NBPd/NBPm, 0002-4182 HR, 0002-4bb8 SpO2), read through a "
    "public copy of the manual; read as the IEEE 11073-10101 code partition << 16 + term "
    "(HL7 FHIR's MDC code system page: the upper 16 bits are the partition, the lower 16 "
    "the term code), which gives this table's own codes for every parameter and unit the "
    "guide lists (0x4a05 = 18949: 150021; 0x0f20 = 3872: 266016). Philips's IntelliVue "
    "Information Center HL7 guides were found by title only, not read: that the "
    "IntelliVue information centre writes its codes the same way is not checked"
)
# The partitions the guide names for parameters and units; another (0x0401, its EMFC
# partition of settings and alarms) is not a vital sign ketaclinic charts.
MDIL_PARTITIONS = frozenset({0x0002, 0x0004})
MDIL_SYSTEM = "MDIL"


def mdil_code(identifier: str, system: str) -> int | None:
    """The MDC code a Philips MDIL identifier ("0002-4a05" in coding system "MDIL")
    stands for (``MDIL_SOURCE``); ``None`` for anything else."""
    if system.strip().upper() != MDIL_SYSTEM:
        return None
    partition, _, term = identifier.strip().partition("-")
    if len(partition) != 4 or len(term) != 4:
        return None
    try:
        number, code = int(partition, 16), int(term, 16)
    except ValueError:
        return None
    if number not in MDIL_PARTITIONS:
        return None
    return (number << 16) + code


# Codes of the parent containers of a PCD-01 message (the NIBP set 150020 groups
# 150021-150023): present in OBX-3 of a grouping OBX that carries no value.
CONTAINERS = frozenset({150020})


def row_for(
    code: int, model: str = "*", table: Mapping[str, MdcRow] | None = None
) -> MdcRow | None:
    """The row for a code, the device model's own first."""
    rows = MDC if table is None else table
    return rows.get(f"{model}:{code}") or rows.get(f"*:{code}")


def _rows_by_model(table: Mapping[str, MdcRow]) -> dict[str, dict[int, MdcRow]]:
    default = {row.code: row for row in table.values() if row.model == "*"}
    models: dict[str, dict[int, MdcRow]] = {"*": default}
    for row in table.values():
        if row.model != "*":
            models.setdefault(row.model, dict(default))[row.code] = row
    return models


@dataclass(frozen=True)
class Codebook:
    """What a decoder reads codes and units with: the rows (``MDC``) by code once for
    each device model that has rows of its own (over the ``*`` rows), a row looked up
    for every observation, and the converted units. ``DEFAULT`` is the declared
    tables'; a clinic that overrides a row (``codebook`` of the overridden tables) gets
    one of its own, built once for a group of messages."""

    rows: Mapping[str, MdcRow]
    units: Mapping[str, UnitRow]
    by_model: Mapping[str, Mapping[int, MdcRow]]

    def of_model(self, model: str = "*") -> Mapping[int, MdcRow]:
        """The rows for a device model by code, its own first: what ``row_for(code,
        model, rows)`` gives."""
        return self.by_model.get(model, self.by_model["*"])


def codebook(
    rows: Mapping[str, MdcRow] = MDC, units: Mapping[str, UnitRow] = CONVERTED_UNITS
) -> Codebook:
    return Codebook(rows, units, _rows_by_model(rows))


DEFAULT = codebook()


def rows_of_model(model: str = "*") -> Mapping[int, MdcRow]:
    """The default table's rows for a device model by code, its own first: the rows
    ``row_for(code, model)`` gives."""
    return DEFAULT.of_model(model)
