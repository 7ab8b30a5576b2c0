"""The clinic's clock in message bodies, and masked recipients."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ketaclinic.platform.messaging import clinic_time, mask
from ketaclinic.platform.settings import get_settings


def test_a_time_in_a_message_is_the_clinics_local_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETACLINIC_TIME_ZONE", "America/New_York")
    get_settings.cache_clear()
    # 14:30 UTC on 2 December is 09:30 in New York (EST, UTC-5): computed by hand.
    assert clinic_time(datetime(2026, 12, 2, 14, 30, tzinfo=UTC)) == "2026-12-02 09:30 EST"
    monkeypatch.setenv("KETACLINIC_TIME_ZONE", "Europe/Berlin")
    get_settings.cache_clear()
    assert clinic_time(datetime(2026, 7, 1, 8, 0, tzinfo=UTC)) == "2026-07-01 10:00 CEST"
    get_settings.cache_clear()


def test_recipients_are_masked() -> None:
    assert mask("maria@example.org") == "m***@example.org"
    assert mask("+1 555 201 3344") == "***3344"
    assert mask("") == "***"
