"""Business days less the federal holidays, every date computed by hand on a calendar."""

from __future__ import annotations

from datetime import date

import pytest

from ketaclinic.clinical import calendar
from ketaclinic.clinical.overrides import Override


def test_the_2026_federal_holidays_with_independence_day_observed_on_friday() -> None:
    assert sorted(calendar.holidays(2026)) == [
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
    assert date(2021, 12, 31) in calendar.holidays(2021)  # 1 January 2022 was a Saturday
    assert date(2022, 1, 1) not in calendar.holidays(2022)


def test_juneteenth_is_a_holiday_from_2021_only() -> None:
    assert date(2020, 6, 19) not in calendar.holidays(2020)
    assert date(2021, 6, 18) in calendar.holidays(2021)  # 19 June 2021, a Saturday


@pytest.mark.parametrize(
    ("start", "count", "due"),
    [
        # Tue 1 Dec 2026 -> Wed 2 Dec; Fri 4 Dec -> Mon 7 Dec; Sat 5 Dec -> Mon 7 Dec
        (date(2026, 12, 1), 1, date(2026, 12, 2)),
        (date(2026, 12, 4), 1, date(2026, 12, 7)),
        (date(2026, 12, 5), 1, date(2026, 12, 7)),
        (date(2026, 12, 4), 2, date(2026, 12, 8)),
        # Thanksgiving Thu 26 Nov 2026: Wed 25 + 1 = Fri 27; + 2 = Mon 30
        (date(2026, 11, 25), 1, date(2026, 11, 27)),
        (date(2026, 11, 25), 2, date(2026, 11, 30)),
        # Fri 27 Nov + 2 = Tue 1 Dec (the weekend only)
        (date(2026, 11, 27), 2, date(2026, 12, 1)),
        # Christmas Fri 25 Dec 2026: Thu 24 + 1 = Mon 28
        (date(2026, 12, 24), 1, date(2026, 12, 28)),
        # New Year Fri 1 Jan 2027: Thu 31 Dec 2026 + 1 = Mon 4 Jan 2027
        (date(2026, 12, 31), 1, date(2027, 1, 4)),
        # Christmas 2027 on a Saturday is observed Fri 24 Dec: Thu 23 + 1 = Mon 27
        (date(2027, 12, 23), 1, date(2027, 12, 27)),
        # New Year 2028 on a Saturday is observed Fri 31 Dec 2027: Thu 30 + 1 = Mon 3 Jan
        (date(2027, 12, 30), 1, date(2028, 1, 3)),
        # Christmas 2022 on a Sunday is observed Mon 26 Dec: Fri 23 + 1 = Tue 27
        (date(2022, 12, 23), 1, date(2022, 12, 27)),
        # Independence Day 2026 observed Fri 3 Jul: Thu 2 + 1 = Mon 6
        (date(2026, 7, 2), 1, date(2026, 7, 6)),
        # 0 business days: the same day
        (date(2026, 11, 25), 0, date(2026, 11, 25)),
    ],
)
def test_business_days_skip_weekends_and_observed_holidays(
    start: date, count: int, due: date
) -> None:
    assert calendar.add_business_days(start, count) == due


def test_business_days_between_count_neither_the_weekend_nor_thanksgiving() -> None:
    # after Mon 23 Nov up to Mon 30 Nov 2026: Tue 24, Wed 25, Fri 27, Mon 30
    assert calendar.business_days_between(date(2026, 11, 23), date(2026, 11, 30)) == 4
    assert calendar.business_days_between(date(2026, 11, 30), date(2026, 11, 23)) == 0


def test_a_clinic_open_on_columbus_day_counts_it_as_a_business_day() -> None:
    # Columbus Day Mon 12 Oct 2026: Fri 9 Oct + 1 = Tue 13 Oct by default
    assert calendar.add_business_days(date(2026, 10, 9), 1) == date(2026, 10, 13)
    table = calendar.holiday_table(
        [Override("columbus", "closed", False, by="dr.chen", reason="we open on Columbus Day")]
    )
    assert calendar.add_business_days(date(2026, 10, 9), 1, table) == date(2026, 10, 12)
    assert date(2026, 10, 12) not in calendar.holidays(2026, table)


def test_every_holiday_names_its_statute() -> None:
    for row in calendar.HOLIDAYS.values():
        assert "5 U.S.C. 6103" in row.source and row.evidence == "confirmed"
