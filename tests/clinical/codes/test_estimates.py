"""Good-faith estimate deadlines and business days, computed by hand on a 2026 calendar."""

from __future__ import annotations

from datetime import date

import pytest

from ketaclinic.clinical.codes import estimates as gfe


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
