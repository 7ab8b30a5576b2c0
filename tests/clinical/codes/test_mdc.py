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
