"""Good-faith estimates under the No Surprises Act: when one is due, and when a bill may
be disputed; business days counted without weekends and US federal holidays.

Declared rows a clinic can review and override like clinical defaults (the numbers are
the regulation's; a clinic that counts business days as the days it is open may say so
by override of the holiday rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Evidence = Literal["confirmed", "secondary", "convention"]

_GFE_SOURCE = (
    "45 CFR 149.610(b)(1)(vi): a good-faith estimate to an uninsured or self-pay individual "
    "is provided (A) within 1 business day of scheduling when the item or service is "
    "scheduled at least 3 business days ahead; (B) within 3 business days of scheduling "
    "when scheduled at least 10 business days ahead; (C) within 3 business days of a request"
)
_DISPUTE_SOURCE = (
    "45 CFR 149.620(b): an uninsured or self-pay individual may start patient-provider "
    "dispute resolution when the billed charges are at least $400 more than the expected "
    "charges of the good-faith estimate"
)


@dataclass(frozen=True)
class EstimateTimeline:
    """An estimate is due ``within_business_days`` after scheduling (or the request)
    when the service is at least ``ahead_business_days`` away (0: any time)."""

    id: str
    ahead_business_days: int
    within_business_days: int
    source: str
    evidence: Evidence
    on_request: bool = False


TIMELINES: dict[str, EstimateTimeline] = {
    t.id: t
    for t in (
        EstimateTimeline("scheduled_10_days_ahead", 10, 3, _GFE_SOURCE, "confirmed"),
        EstimateTimeline("scheduled_3_days_ahead", 3, 1, _GFE_SOURCE, "confirmed"),
        EstimateTimeline("on_request", 0, 3, _GFE_SOURCE, "confirmed", on_request=True),
    )
}


@dataclass(frozen=True)
class DisputeRule:
    id: str
    threshold_cents: int
    source: str
    evidence: Evidence


DISPUTE: dict[str, DisputeRule] = {
    "bill_over_estimate": DisputeRule("bill_over_estimate", 40_000, _DISPUTE_SOURCE, "confirmed")
}


# US federal holidays, 5 U.S.C. 6103(a); a holiday on a Saturday is observed the Friday
# before, on a Sunday the Monday after (5 U.S.C. 6103(b) and Executive Order 11582, as
# the Office of Personnel Management applies them).
HOLIDAY_SOURCE = (
    "5 U.S.C. 6103(a) (the eleven federal holidays, Juneteenth added in 2021); observed "
    "days per 5 U.S.C. 6103(b) and Executive Order 11582 as OPM applies them. Counting "
    "business days without weekends and these holidays is the clinic's convention: 45 CFR "
    "149.610 leaves 'business day' to the provider's days of business"
)
HOLIDAY_EVIDENCE: Evidence = "secondary"

# (name, month, fixed day) or (name, month, weekday 0=Monday, n-th; -1 the last)
FIXED = (
    ("New Year's Day", 1, 1),
    ("Juneteenth National Independence Day", 6, 19),
    ("Independence Day", 7, 4),
    ("Veterans Day", 11, 11),
    ("Christmas Day", 12, 25),
)
FLOATING = (
    ("Birthday of Martin Luther King, Jr.", 1, 0, 3),
    ("Washington's Birthday", 2, 0, 3),
    ("Memorial Day", 5, 0, -1),
    ("Labor Day", 9, 0, 1),
    ("Columbus Day", 10, 0, 2),
    ("Thanksgiving Day", 11, 3, 4),
)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def federal_holidays(year: int) -> dict[date, str]:
    """The observed federal holidays of ``year`` (a 1 January on a Saturday is observed
    on 31 December of the year before, and listed in that year)."""
    days: dict[date, str] = {}
    for y in (year, year + 1):
        for name, month, day in FIXED:
            actual = date(y, month, day)
            if name.startswith("Juneteenth") and y < 2021:
                continue
            if actual.weekday() == 5:
                actual -= timedelta(days=1)
            elif actual.weekday() == 6:
                actual += timedelta(days=1)
            days[actual] = name
        for name, month, weekday, n in FLOATING:
            days[_nth_weekday(y, month, weekday, n)] = name
    return {d: n for d, n in days.items() if d.year == year}


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in federal_holidays(day.year)


def add_business_days(start: date, count: int) -> date:
    """The ``count``-th business day after ``start`` (``start`` itself not counted)."""
    day = start
    while count > 0:
        day += timedelta(days=1)
        if is_business_day(day):
            count -= 1
    return day


def business_days_between(start: date, end: date) -> int:
    """Business days after ``start`` up to and including ``end`` (0 when end <= start)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_business_day(day):
            count += 1
    return count


@dataclass(frozen=True)
class EstimateDue:
    due_on: date | None  # None: no estimate is required by the timelines
    timeline: EstimateTimeline | None
    reason: str


def estimate_due(
    *,
    asked_on: date,
    service_on: date | None,
    requested: bool,
    timelines: dict[str, EstimateTimeline] | None = None,
) -> EstimateDue:
    """When the estimate must reach the patient. ``asked_on``: the day the service was
    scheduled, or the estimate requested. A request always starts the on-request clock;
    a service scheduled fewer than 3 business days ahead needs none by the timelines."""
    table = timelines or TIMELINES
    if requested:
        t = next(r for r in table.values() if r.on_request)
        return EstimateDue(
            add_business_days(asked_on, t.within_business_days),
            t,
            f"requested on {asked_on}: within {t.within_business_days} business days",
        )
    if service_on is None:
        return EstimateDue(None, None, "no service date and no request")
    ahead = business_days_between(asked_on, service_on)
    for t in sorted(
        (r for r in table.values() if not r.on_request),
        key=lambda r: -r.ahead_business_days,
    ):
        if ahead >= t.ahead_business_days:
            return EstimateDue(
                add_business_days(asked_on, t.within_business_days),
                t,
                f"scheduled {ahead} business days ahead: within {t.within_business_days}",
            )
    return EstimateDue(None, None, f"scheduled {ahead} business day(s) ahead: none required")


def may_dispute(
    billed_cents: int, estimated_cents: int, rules: dict[str, DisputeRule] | None = None
) -> bool:
    rule = (rules or DISPUTE)["bill_over_estimate"]
    return billed_cents - estimated_cents >= rule.threshold_cents
