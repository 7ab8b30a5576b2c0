"""Business days: Monday to Friday less the holidays the clinic is closed, for every
deadline counted in business days (a good-faith estimate, a DEA theft-or-loss notice,
a question to the primary clinician that escalates).

The holiday table is the US federal holidays with their observed days, a declared
table a clinic overrides (``closed`` false for a holiday it works on). Pure: dates are
passed in by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from ketaclinic.clinical.overrides import Override, apply

Evidence = Literal["confirmed", "secondary", "convention"]

HOLIDAY_SOURCE = (
    "5 U.S.C. 6103(a) (the eleven federal holidays, Juneteenth added in 2021 by Public "
    "Law 117-17); a holiday on a Saturday is observed the Friday before, on a Sunday the "
    "Monday after (5 U.S.C. 6103(b) and Executive Order 11582, as the Office of Personnel "
    "Management applies them)"
)
# The dates are the statute's; that the clinic is closed on them (so that they are not
# business days) is the clinic's convention, which it changes row by row.
HOLIDAY_EVIDENCE: Evidence = "confirmed"


@dataclass(frozen=True)
class Holiday:
    """A holiday on a fixed day (``day``) or on the ``nth`` ``weekday`` (0 Monday) of
    ``month`` (``nth`` -1: the last). A fixed-day holiday on a weekend is observed on the
    nearest weekday (``observed``). ``closed``: the clinic does not count it as a
    business day."""

    id: str
    name: str
    month: int
    day: int | None
    weekday: int | None
    nth: int | None
    first_year: int
    observed: bool
    closed: bool
    source: str
    evidence: Evidence


def _fixed(hid: str, name: str, month: int, day: int, first_year: int = 1971) -> Holiday:
    return Holiday(
        hid, name, month, day, None, None, first_year, True, True, HOLIDAY_SOURCE, HOLIDAY_EVIDENCE
    )


def _floating(hid: str, name: str, month: int, weekday: int, nth: int) -> Holiday:
    return Holiday(
        hid, name, month, None, weekday, nth, 1971, False, True, HOLIDAY_SOURCE, HOLIDAY_EVIDENCE
    )


HOLIDAYS: dict[str, Holiday] = {
    h.id: h
    for h in (
        _fixed("new_year", "New Year's Day", 1, 1),
        _floating("mlk", "Birthday of Martin Luther King, Jr.", 1, 0, 3),
        _floating("washington", "Washington's Birthday", 2, 0, 3),
        _floating("memorial", "Memorial Day", 5, 0, -1),
        _fixed("juneteenth", "Juneteenth National Independence Day", 6, 19, first_year=2021),
        _fixed("independence", "Independence Day", 7, 4),
        _floating("labor", "Labor Day", 9, 0, 1),
        _floating("columbus", "Columbus Day", 10, 0, 2),
        _fixed("veterans", "Veterans Day", 11, 11),
        _floating("thanksgiving", "Thanksgiving Day", 11, 3, 4),
        _fixed("christmas", "Christmas Day", 12, 25),
    )
}


def holiday_table(overrides: Iterable[Override] = ()) -> dict[str, Holiday]:
    """The holiday table with the clinic's overrides applied."""
    return apply(HOLIDAYS, tuple(overrides))


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _day_of(h: Holiday, year: int) -> date:
    if h.day is not None:
        actual = date(year, h.month, h.day)
        if h.observed and actual.weekday() == 5:
            return actual - timedelta(days=1)
        if h.observed and actual.weekday() == 6:
            return actual + timedelta(days=1)
        return actual
    if h.weekday is None or h.nth is None:
        raise ValueError(f"holiday {h.id!r} needs a day or a weekday and its n-th")
    return _nth_weekday(year, h.month, h.weekday, h.nth)


def holidays(year: int, table: Mapping[str, Holiday] | None = None) -> dict[date, str]:
    """The observed holidays that fall in ``year`` on which the clinic is closed (a
    1 January on a Saturday is observed on 31 December of the year before, and listed in
    that year)."""
    rows = HOLIDAYS if table is None else table
    days: dict[date, str] = {}
    for y in (year, year + 1):
        for h in rows.values():
            if not h.closed or y < h.first_year:
                continue
            days[_day_of(h, y)] = h.name
    return {d: n for d, n in days.items() if d.year == year}


def is_business_day(day: date, table: Mapping[str, Holiday] | None = None) -> bool:
    """Monday to Friday, and not a holiday the clinic is closed on."""
    return day.weekday() < 5 and day not in holidays(day.year, table)


def add_business_days(start: date, count: int, table: Mapping[str, Holiday] | None = None) -> date:
    """The ``count``-th business day after ``start`` (``start`` itself not counted;
    ``count`` 0 gives ``start``)."""
    day = start
    while count > 0:
        day += timedelta(days=1)
        if is_business_day(day, table):
            count -= 1
    return day


def business_days_between(
    start: date, end: date, table: Mapping[str, Holiday] | None = None
) -> int:
    """Business days after ``start`` up to and including ``end`` (0 when end <= start)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_business_day(day, table):
            count += 1
    return count
