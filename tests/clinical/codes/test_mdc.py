"""The MDC table: its reading of Philips MDIL identifiers, its rows by code."""

from __future__ import annotations

import dataclasses

import pytest

from ketaclinic.clinical.codes import mdc


@pytest.mark.parametrize(
    ("identifier", "code"),
    [
        # Computed by hand: partition << 16 + term, both hexadecimal.
        ("0002-4a05", 2 * 65536 + 18949),  # NBPs: 150021
        ("0002-4a07", 2 * 65536 + 18951),  # NBPm: 150023
        ("0002-4182", 2 * 65536 + 16770),  # HR: 147842
        ("0002-4BB8", 2 * 65536 + 19384),  # SpO2, upper-case digits: 150456
        ("0004-0f20", 4 * 65536 + 3872),  # mmHg: 266016
    ],
)
def test_an_mdil_identifier_is_the_mdc_code_it_writes_in_hexadecimal(
    identifier: str, code: int
) -> None:
    assert mdc.mdil_code(identifier, "MDIL") == code
    # A parameter charts by this table's own row; a unit is one of its rows' units.
    if code >> 16 == 2:
        assert mdc.row_for(code) is not None
    else:
        assert code in {row.unit_code for row in mdc.MDC.values()}


@pytest.mark.parametrize(
    ("identifier", "system"),
    [
        ("0002-4a05", "MDC"),  # another coding system
        ("0402-f8f5", "MDIL"),  # a partition of settings, not a vital sign
        ("2-4a05", "MDIL"),  # not four hexadecimal digits each
        ("0002-4g05", "MDIL"),
        ("150021", "MDIL"),
    ],
)
def test_anything_else_is_not_read_as_an_mdil_code(identifier: str, system: str) -> None:
    assert mdc.mdil_code(identifier, system) is None


@pytest.mark.parametrize("model", ["*", "GEB40", "CM12"])
def test_the_rows_by_code_of_a_model_are_the_rows_row_for_gives(model: str) -> None:
    rows = mdc.rows_of_model(model)
    assert sorted(rows) == sorted({row.code for row in mdc.MDC.values()})
    for code in (*rows, 150020, 999999):
        assert rows.get(code) is mdc.row_for(code, model)
    assert rows[150456].id == "*:150456" and rows[150456].unit_code == 262688


def test_a_model_s_own_row_is_indexed_over_the_default_one() -> None:
    default = mdc.MDC["*:147842"]
    own = dataclasses.replace(default, id="CM12:147842", model="CM12", unit_code=1)
    by_model = mdc._rows_by_model({**mdc.MDC, own.id: own})
    assert by_model["CM12"][147842] is own and by_model["*"][147842] is default
    assert by_model["CM12"][150456] is mdc.MDC["*:150456"]


# Each code added beside the issue's own, as partition << 16 + term written out by hand
# from its source (partition 2, SCADA): DK Core's IEEEBasicObservation value set gives
# the code, the OpenICE IntelliVue tables the hexadecimal term.
@pytest.mark.parametrize(
    ("reference_id", "code", "vital", "unit_code"),
    [
        ("MDC_PULS_OXIM_PULS_RATE", 2 * 65536 + 18458, "heart_rate", 4 * 65536 + 2720),
        ("NOM_PLETH_PULS_RATE", 2 * 65536 + 0x4822, "heart_rate", 4 * 65536 + 2720),
        ("MDC_PULS_RATE", 2 * 65536 + 0x480A, "heart_rate", 4 * 65536 + 2720),
        ("MDC_TTHOR_RESP_RATE", 2 * 65536 + 20506, "respiratory_rate", 4 * 65536 + 2784),
        ("MDC_AWAY_RESP_RATE", 2 * 65536 + 0x5012, "respiratory_rate", 4 * 65536 + 2784),
        ("MDC_CO2_RESP_RATE", 2 * 65536 + 20522, "respiratory_rate", 4 * 65536 + 2784),
        ("MDC_TEMP_BODY", 2 * 65536 + 0x4B5C, "temperature", 4 * 65536 + 6048),
        ("MDC_TEMP_CORE", 2 * 65536 + 0x4B60, "temperature", 4 * 65536 + 6048),
        ("MDC_TEMP_TYMP", 2 * 65536 + 0x4B78, "temperature", 4 * 65536 + 6048),
        ("MDC_TEMP_RECT", 2 * 65536 + 0xE004, "temperature", 4 * 65536 + 6048),
        ("MDC_TEMP_ORAL", 2 * 65536 + 57352, "temperature", 4 * 65536 + 6048),
        ("MDC_TEMP_EAR", 2 * 65536 + 57356, "temperature", 4 * 65536 + 6048),
        ("MDC_TEMP_AXILLA", 2 * 65536 + 57380, "temperature", 4 * 65536 + 6048),
    ],
)
def test_each_added_code_is_its_partition_and_term(
    reference_id: str, code: int, vital: str, unit_code: int
) -> None:
    (row,) = [r for r in mdc.MDC.values() if r.reference_id == reference_id]
    assert (row.model, row.code, row.vital, row.unit_code) == ("*", code, vital, unit_code)
    assert row.evidence == "secondary" and row.charted


def test_the_impedance_breathing_rate_is_not_the_airway_one() -> None:
    # 151570 = 2 << 16 + 20498 is MDC_AWAY_RESP_RATE; the transthoracic impedance rate
    # is 151578 = 2 << 16 + 20506.
    assert mdc.MDC["*:151570"].reference_id == "MDC_AWAY_RESP_RATE"
    assert mdc.MDC["*:151578"].reference_id == "MDC_TTHOR_RESP_RATE"


def test_every_vital_sign_charted_from_more_than_one_code_says_its_priority_is_a_convention() -> (
    None
):
    by_vital: dict[str, list[mdc.MdcRow]] = {}
    for row in mdc.MDC.values():
        if row.vital is not None:
            by_vital.setdefault(row.vital, []).append(row)
    for rows in by_vital.values():
        if len(rows) > 1:
            assert all(f"priority {r.priority}: convention" in r.source for r in rows)
