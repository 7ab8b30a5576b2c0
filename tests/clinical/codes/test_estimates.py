"""Good-faith estimate deadlines and business days, computed by hand on a 2026 calendar."""

from __future__ import annotations

from datetime import date

import pytest

from ketaclinic.clinical.codes import estimates as gfe


def test_the_2026_federal_holidays_with_independence_day_observed_on_friday() -> None:
    assert sorted(gfe.federal_holidays(2026)) == [
        date(2026, 1, 1),
        date(2026, 1, 19),
        date(2026, 2, 16),
        date(2026, 5, 25),
        date(2026, 6, 19),
        date(2026, 7, 3),  # 4 July 2026 is a Saturday
        date(2026, 9, 7),
        date(2026, 10, 12),
        date(2026, 11, 11),
        date(2026, 11, 26),
        date(2026, 12, 25),
    ]


def test_a_saturday_new_years_day_is_observed_on_the_last_friday_of_the_year_before() -> None:
    assert date(2021, 12, 31) in gfe.federal_holidays(2021)  # 1 January 2022 was a Saturday
    assert date(2022, 1, 1) not in gfe.federal_holidays(2022)


@pytest.mark.parametrize(
    ("asked", "service", "requested", "due"),
    [
        # Wed 2 Dec for Mon 7 Dec: 3 business days ahead -> within 1: Thu 3 Dec
        (date(2026, 12, 2), date(2026, 12, 7), False, date(2026, 12, 3)),
        # Wed 2 Dec for Wed 16 Dec: 10 business days ahead -> within 3: Mon 7 Dec
        (date(2026, 12, 2), date(2026, 12, 16), False, date(2026, 12, 7)),
        # Wed 2 Dec for Fri 4 Dec: only 2 business days ahead -> none required
        (date(2026, 12, 2), date(2026, 12, 4), False, None),
        # asked on Fri 18 Dec: Mon 21, Tue 22, Wed 23
        (date(2026, 12, 18), None, True, date(2026, 12, 23)),
        # asked on Wed 23 Dec: Thu 24, (Christmas Fri 25), Mon 28, Tue 29
        (date(2026, 12, 23), None, True, date(2026, 12, 29)),
    ],
)
def test_when_an_estimate_is_due(
    asked: date, service: date | None, requested: bool, due: date | None
) -> None:
    found = gfe.estimate_due(asked_on=asked, service_on=service, requested=requested)
    assert found.due_on == due


def test_a_bill_400_dollars_over_the_estimate_may_be_disputed() -> None:
    assert gfe.may_dispute(290_000, 250_000)
    assert not gfe.may_dispute(289_999, 250_000)
