"""The ledger's record-keeping rules: DEA number check digits, the one-business-day
notice, the estimate limit, each worked by hand."""

from __future__ import annotations

import pytest

from ketaclinic.clinical import controlled


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        # (1 + 3 + 5) + 2 x (2 + 4 + 6) = 33: check digit 3.
        ("AB1234563", True),
        ("ab1234563", True),
        ("AB1234560", False),
        # (7 + 5 + 3) + 2 x (6 + 4 + 2) = 39: check digit 9.
        ("PM7654329", True),
        ("PM765432", False),
        ("1B1234563", False),
    ],
)
def test_a_dea_number_is_two_letters_seven_digits_and_a_matching_check_digit(
    number: str, ok: bool
) -> None:
    assert (controlled.dea_number_problem(number) is None) is ok


def test_an_opened_container_is_estimated_only_up_to_the_limit() -> None:
    limit = controlled.RULES["estimate_limit_units"].value
    assert limit == 1000
    assert controlled.may_estimate(1000, limit) and not controlled.may_estimate(1001, limit)


def test_every_rule_cites_its_source_and_firmness() -> None:
    for rule in controlled.RULES.values():
        assert rule.source and rule.evidence in ("confirmed", "secondary", "convention")
