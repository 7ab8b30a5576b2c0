"""Good-faith estimates under the No Surprises Act: when one is due, and when a bill may
be disputed; business days counted by ``clinical.calendar`` (without weekends and the
clinic's holidays, the US federal holidays by default). Counting business days so is the
clinic's convention: 45 CFR 149.610 leaves "business day" to the provider's days of
business.

Declared rows a clinic can review and override like clinical defaults (the numbers are
the regulation's; a clinic that counts business days as the days it is open may say so
by override of the holiday rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from ketaclinic.clinical.calendar import Holiday, add_business_days, business_days_between

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
    holidays: Mapping[str, Holiday] | None = None,
) -> EstimateDue:
    """When the estimate must reach the patient. ``asked_on``: the day the service was
    scheduled, or the estimate requested. A request always starts the on-request clock;
    a service scheduled fewer than 3 business days ahead needs none by the timelines."""
    table = timelines or TIMELINES
    if requested:
        t = next(r for r in table.values() if r.on_request)
        return EstimateDue(
            add_business_days(asked_on, t.within_business_days, holidays),
            t,
            f"requested on {asked_on}: within {t.within_business_days} business days",
        )
    if service_on is None:
        return EstimateDue(None, None, "no service date and no request")
    ahead = business_days_between(asked_on, service_on, holidays)
    for t in sorted(
        (r for r in table.values() if not r.on_request),
        key=lambda r: -r.ahead_business_days,
    ):
        if ahead >= t.ahead_business_days:
            return EstimateDue(
                add_business_days(asked_on, t.within_business_days, holidays),
                t,
                f"scheduled {ahead} business days ahead: within {t.within_business_days}",
            )
    return EstimateDue(None, None, f"scheduled {ahead} business day(s) ahead: none required")


def may_dispute(
    billed_cents: int, estimated_cents: int, rules: dict[str, DisputeRule] | None = None
) -> bool:
    rule = (rules or DISPUTE)["bill_over_estimate"]
    return billed_cents - estimated_cents >= rule.threshold_cents
