"""IEEE 11073 MDC codes of bedside-monitor observations, mapped to ketaclinic's vital signs.

One declared row per (device model, observation code): which vital sign the code
charts, the unit code it must come with and the factor to ketaclinic's unit. The
default model ``*`` holds the IEEE 11073-10101 codes that IHE PCD-01 (ORU^R01)
monitors send; a vendor that sends codes of its own gets rows of its own model, added
when a clinic meets one and its source is known. Philips monitors that write the same
terms in their MDIL notation (partition and term in hexadecimal, coding system "MDIL")
are read as the MDC codes they stand for (``mdil_code``, ``MDIL_SOURCE``), so the same
rows chart them. A code without a row is not charted and the message says so. Where
several codes chart one vital sign (the ECG's heart rate, the oximeter's and the cuff's
pulse), a row's ``priority`` says which a reading takes when a message carries more
than one at the same time (``PRIORITY_SOURCE``, a convention).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

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


# The codes below the issue's own, each read in a source named in its row: the numbers
# as the source gives them (code = 2 << 16 + term, partition 2 SCADA).
_DK_CORE = (
    "HL7 Denmark DK Core FHIR IG, ValueSet dk-core-IEEEBasicObservation "
    "(github.com/hl7dk/dk-core input/fsh/valueSets.fsh, commit 832200373bd5, and the "
    "published page build.fhir.org/ig/hl7dk/dk-core/ValueSet-dk-core-IEEEBasicObservation"
    ".html): codes of urn:iso:std:iso:11073:10101 with their IEEE reference ids and "
    "definitions"
)
_PHD_IG = (
    "HL7 Personal Health Device IG example Observation spotnumeric-1.0.0.3 "
    "(build.fhir.org/ig/HL7/phd): MDC_PULS_OXIM_PULS_RATE 149530 in /min"
)
_INTELLIVUE = (
    "Philips IntelliVue nomenclature as the OpenICE IntelliVue driver lists it "
    "(github.com/mdpnp/mdpnp devices/philips/.../intellivue/data/Label.java "
    "NLS_NOM_PULS_OXIM_PULS_RATE 0x00024822 and ObservedValue.java NOM_PLETH_PULS_RATE "
    "0x4822, commit 1ae7f72addd6); a Philips term, not the IEEE MDC_PULS_OXIM_PULS_RATE "
    "(18458 = 0x481A), and not checked against the IEEE text; which MSH-3 a Philips "
    "gateway sends is not known, so the row is every model's"
)
_EFFICIA = (
    "Philips Efficia CM Series Data Export Guide p. 3-17 (OBX 0002-480a^Pulse^MDIL in "
    "0004-0aa0^bpm^MDIL, the pulse derived from SpO2, OBX-17 0002-4bb8), read as "
    "MDIL_SOURCE reads it; mdpnp Label.java NLS_NOM_PULS_RATE 0x0002480A"
)
PRIORITY_SOURCE = (
    "convention (ketaclinic's, not from a standard): one value a vital sign a reading, "
    "the one of the lowest priority number. Heart rate: the ECG's (1, counted beat by "
    "beat from the heart's electrical activity), then the pulse oximeter's (2, the "
    "peripheral pulse, lost or miscounted with motion and poor perfusion and short of "
    "the ECG when beats do not reach the finger), then a pulse of unspecified method "
    "(3), then the NIBP cuff's (4, one figure taken while the cuff inflates, minutes "
    "old between cycles). Respiratory rate: from exhaled CO2 (1) or airway flow (2), "
    "which count breaths that move gas, then of unspecified method (3), then "
    "transthoracic impedance (4), which counts chest movement and goes on counting "
    "in obstructed breathing and with cardiac artefact. Temperature: core (1), then "
    "the sites that approximate it, rectal, oral, tympanic and ear "
    "(2), then axillary (3), which reads lower, then a site not given (4). Equal "
    "numbers: the first sent is charted"
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
    # Which of the codes that chart the same vital sign is charted when a message
    # carries more than one at the same time: the lowest number (``PRIORITY_SOURCE``,
    # a convention); the others are noted in the message's ``skipped``.
    priority: int = 1


def _row(
    code: int,
    reference_id: str,
    vital: Vital | None,
    unit_code: int,
    unit: str,
    *,
    model: str = "*",
    charted: bool = True,
    priority: int | None = None,
    source: str = _NOMENCLATURE,
) -> tuple[str, MdcRow]:
    """A row; ``priority`` for a vital sign more than one code charts, which says so in
    its source (``PRIORITY_SOURCE``, a convention)."""
    key = f"{model}:{code}"
    if priority is not None:
        source = f"{source}; priority {priority}: {PRIORITY_SOURCE}"
    return key, MdcRow(
        id=key,
        model=model,
        code=code,
        reference_id=reference_id,
        vital=vital,
        unit_code=unit_code,
        unit=unit,
        factor=1.0,
        source=source,
        evidence="secondary",
        charted=charted and vital is not None,
        priority=1 if priority is None else priority,
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
        _row(149546, "MDC_PULS_RATE_NON_INV", "heart_rate", 264864, "MDC_DIM_BEAT_PER_MIN",
             priority=4),
        _row(147842, "MDC_ECG_HEART_RATE", "heart_rate", 264864, "MDC_DIM_BEAT_PER_MIN",
             priority=1),
        # 149530 = 2 << 16 + 18458 (0x481A): "Rate of blood pulse as obtained by pulse
        # oximetry".
        _row(149530, "MDC_PULS_OXIM_PULS_RATE", "heart_rate", 264864, "MDC_DIM_BEAT_PER_MIN",
             priority=2, source=f"{_DK_CORE}; {_PHD_IG}"),
        # 149538 = 2 << 16 + 0x4822 (18466): the IntelliVue pleth pulse (NOM_PLETH_PULS_RATE).
        _row(149538, "NOM_PLETH_PULS_RATE", "heart_rate", 264864, "MDC_DIM_BEAT_PER_MIN",
             priority=2, source=_INTELLIVUE),
        # 149514 = 2 << 16 + 18442 (0x480A): "Rate of blood pulse in an artery", method
        # not given; what an Efficia monitor sends as its SpO2 pulse.
        _row(149514, "MDC_PULS_RATE", "heart_rate", 264864, "MDC_DIM_BEAT_PER_MIN",
             priority=3, source=f"{_DK_CORE}; {_EFFICIA}"),
        _row(150456, "MDC_PULS_OXIM_SAT_O2", "spo2", 262688, "MDC_DIM_PERCENT"),
        # Unit 264928 = partition 4 (dimensions) << 16 + MDC_DIM_RESP_PER_MIN 2784, as
        # the nomenclature headers cited at ``UNIT_SOURCE`` list it.
        _row(151562, "MDC_RESP_RATE", "respiratory_rate", 264928, "MDC_DIM_RESP_PER_MIN",
             priority=3),
        # 151578 = 2 << 16 + 20506 (0x501A): "Rate of breathing; method: transthoracic
        # impedance variations" (the ECG leads' respiration). Not 151570, which is the
        # airway-flow rate below.
        _row(151578, "MDC_TTHOR_RESP_RATE", "respiratory_rate", 264928, "MDC_DIM_RESP_PER_MIN",
             priority=4, source=_DK_CORE),
        # 151570 = 2 << 16 + 20498 (0x5012, IntelliVue NOM_AWAY_RESP_RATE too): "method:
        # direct airway flow measurement".
        _row(151570, "MDC_AWAY_RESP_RATE", "respiratory_rate", 264928, "MDC_DIM_RESP_PER_MIN",
             priority=2, source=_DK_CORE),
        # 151594 = 2 << 16 + 20522 (0x502A): "method: carbon dioxide measurement"
        # (capnography).
        _row(151594, "MDC_CO2_RESP_RATE", "respiratory_rate", 264928, "MDC_DIM_RESP_PER_MIN",
             priority=1, source=_DK_CORE),
        # Charted and shown; no alarm (no sourced temperature limit in the limits table).
        _row(150344, "MDC_TEMP", "temperature", 268192, "MDC_DIM_DEGC", priority=4),
        # Body temperatures by site: 150364 = 2 << 16 + 19292 (0x4B5C), 150368 = + 19296
        # (0x4B60), 150392 = + 19320 (0x4B78), 188420 = + 57348 (0xE004), 188424 = +
        # 57352 (0xE008), 188428 = + 57356 (0xE00C), 188452 = + 57380 (0xE024); the
        # IntelliVue labels in mdpnp Label.java give the same terms for TEMP_BODY, CORE,
        # TYMP and RECT. Skin temperature (150388) is not a body temperature: not charted.
        _row(150364, "MDC_TEMP_BODY", "temperature", 268192, "MDC_DIM_DEGC",
             priority=4, source=_DK_CORE),
        _row(150368, "MDC_TEMP_CORE", "temperature", 268192, "MDC_DIM_DEGC",
             priority=1, source=_DK_CORE),
        _row(150392, "MDC_TEMP_TYMP", "temperature", 268192, "MDC_DIM_DEGC",
             priority=2, source=_DK_CORE),
        _row(188420, "MDC_TEMP_RECT", "temperature", 268192, "MDC_DIM_DEGC",
             priority=2, source=_DK_CORE),
        _row(188424, "MDC_TEMP_ORAL", "temperature", 268192, "MDC_DIM_DEGC",
             priority=2, source=_DK_CORE),
        _row(188428, "MDC_TEMP_EAR", "temperature", 268192, "MDC_DIM_DEGC",
             priority=2, source=_DK_CORE),
        _row(188452, "MDC_TEMP_AXILLA", "temperature", 268192, "MDC_DIM_DEGC",
             priority=3, source=_DK_CORE),
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
    """A unit ``unit_code`` accepted for rows whose own unit is ``to_unit_code``: a value
    sent in it is ``value * factor + offset`` in that unit."""

    id: str  # "<to_unit_code>:<unit_code>"
    unit_code: int
    unit: str
    to_unit_code: int
    factor: float
    source: str
    evidence: Evidence
    offset: float = 0.0


FAHRENHEIT_SOURCE = (
    "IEEE 11073-10101 unit code MDC_DIM_FAHR, term 4416 of partition 4 (MDC_PART_DIM), so "
    "code 4 << 16 + 4416 = 266560, beside MDC_DIM_DEGC 6048 (= 268192, the code the PCD-01 "
    "temperatures carry), as the open nomenclature tables cited at UNIT_SOURCE list both "
    "(a Freescale ZigBee health-care NomenclatureCodes.h, an Android PHD Nomenclature.java, "
    "a thermometer agent's MDC_PART_DIM header); not checked against the IEEE text or "
    "RTMMS. Degrees Celsius = (degrees Fahrenheit - 32) x 5/9, the definition of the "
    "Fahrenheit scale (NIST SP 811, 2008, appendix B.9: t/degC = (t/degF - 32)/1.8): a "
    "factor of 5/9 and an offset of -160/9"
)


def _unit(
    unit_code: int,
    unit: str,
    to_unit_code: int,
    factor: float,
    *,
    offset: float = 0.0,
    source: str = UNIT_SOURCE,
) -> tuple[str, UnitRow]:
    key = f"{to_unit_code}:{unit_code}"
    return key, UnitRow(
        key, unit_code, unit, to_unit_code, factor, source, "secondary", offset=offset
    )


CONVERTED_UNITS: dict[str, UnitRow] = dict(
    [
        _unit(265987, "MDC_DIM_KILO_PASCAL", 266016, 7.50062),  # kPa to mmHg
        # Degrees Fahrenheit to Celsius, for a monitor set to show °F.
        _unit(266560, "MDC_DIM_FAHR", 268192, 5 / 9, offset=-160 / 9, source=FAHRENHEIT_SOURCE),
    ]
)


@dataclass(frozen=True)
class Conversion:
    """How a value sent in some unit becomes the row's: ``value * factor + offset``."""

    factor: float
    offset: float = 0.0


def conversion(
    row: MdcRow, unit_code: str, unit_name: str, units: Mapping[str, UnitRow] = CONVERTED_UNITS
) -> Conversion | None:
    """How a value in the unit a monitor sent (OBX-6 code, or its name) becomes
    ketaclinic's unit for ``row``; ``None`` for a unit the table does not know for it.
    ``units``: the converted units (``CONVERTED_UNITS``, or the clinic's
    ``Codebook.units``)."""
    if unit_code == str(row.unit_code) or unit_name == row.unit:
        return Conversion(row.factor)
    for unit in units.values():
        # A converted unit is taken by its code; by its name only when no code came
        # (a code that disagrees with the name is not guessed at).
        if unit.to_unit_code == row.unit_code and (
            unit_code == str(unit.unit_code) or (not unit_code and unit_name == unit.unit)
        ):
            return Conversion(row.factor * unit.factor, row.factor * unit.offset)
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
    one of its own, made once for each set of its overrides."""

    rows: Mapping[str, MdcRow]
    units: Mapping[str, UnitRow]
    by_model: Mapping[str, Mapping[int, MdcRow]]
    # What a decoder made of the codes and units it met with these rows (the decoder's
    # own, keyed as it reads them): kept with the rows it was made from.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

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
