"""The record-keeping rules of a Schedule III controlled-substance ledger (United States,
DEA, 21 CFR parts 1301, 1304 and 1317), as a declared table a clinic may review and
override (``configuration.tables``: ``controlled.rules``).

Ketamine and esketamine are Schedule III (21 CFR 1308.13(c)) [confirmed]. Each row
carries its source and firmness; an override names who decided it and why. Pure data
and arithmetic: no database, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Evidence = Literal["confirmed", "secondary", "convention"]


@dataclass(frozen=True)
class LedgerRule:
    id: str
    label: str
    value: float
    unit: str
    source: str
    evidence: Evidence


RULES: dict[str, LedgerRule] = {
    r.id: r
    for r in (
        LedgerRule(
            "waste_witnesses",
            "Licensed witnesses who authenticate a waste",
            1,
            "witnesses",
            "No federal DEA rule sets a waste witness for practitioners; one licensed "
            "witness is common state-board and accreditation practice",
            "convention",
        ),
        LedgerRule(
            "destruction_witnesses",
            "Witnesses of a destruction of stock (DEA Form 41)",
            2,
            "witnesses",
            "21 CFR 1317.95(d): destruction is witnessed by two authorized employees; "
            "recorded on DEA Form 41 (21 CFR 1304.21(e))",
            "secondary",
        ),
        LedgerRule(
            "inventory_interval_years",
            "Biennial inventory: at most this many years after the previous one",
            2,
            "years",
            "21 CFR 1304.11(c): a new inventory at least every two years",
            "confirmed",
        ),
        LedgerRule(
            "estimate_limit_units",
            "An opened Schedule III container may be estimated unless it holds more than",
            1000,
            "units",
            "21 CFR 1304.11(e)(3)(ii): Schedule III-V opened containers: estimated count "
            "or measure, unless the container holds more than 1,000 tablets or capsules",
            "secondary",
        ),
        LedgerRule(
            "loss_notice_business_days",
            "Theft or significant loss: written notice to the DEA Field Division within",
            1,
            "business days",
            "21 CFR 1301.76(b): notify the Field Division Office in writing within one "
            "business day of discovery; then DEA Form 106",
            "secondary",
        ),
        LedgerRule(
            "retention_years",
            "Ledger records are kept and readily retrievable for at least",
            2,
            "years",
            "21 CFR 1304.04(a): every record is kept for at least two years",
            "confirmed",
        ),
    )
}


def dea_number_problem(number: str) -> str | None:
    """Why a DEA registration number is malformed, or None.

    Two letters and seven digits; the seventh digit is the last digit of (d1 + d3 + d5)
    + 2 x (d2 + d4 + d6) [secondary: DEA Diversion registration guidance as reproduced
    by pharmacy references; the check digit is a widely documented convention]."""
    text = number.strip().upper()
    if len(text) != 9 or not text[:2].isalpha() or not text[2:].isdigit():
        return "a DEA number is two letters and seven digits (e.g. AB1234563)"
    d = [int(c) for c in text[2:]]
    check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
    if check != d[6]:
        return f"the check digit does not match (expected {check} as the last digit)"
    return None


def may_estimate(container_units: float, limit: float) -> bool:
    """21 CFR 1304.11(e)(3)(ii): an opened Schedule III container may be estimated unless
    it holds more than ``limit`` units."""
    return container_units <= limit
