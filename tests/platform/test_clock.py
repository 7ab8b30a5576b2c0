"""The clinic's date is the day in the clinic's time zone, not the UTC day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ketaclinic.platform.clock import clinic_today
from ketaclinic.platform.settings import get_settings


def test_late_evening_in_new_york_is_still_the_same_day_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KETACLINIC_TIME_ZONE", "America/New_York")
    get_settings.cache_clear()
    # 03:30 UTC on 2 December is 22:30 on 1 December in New York (EST, UTC-5).
    assert clinic_today(datetime(2026, 12, 2, 3, 30, tzinfo=UTC)) == date(2026, 12, 1)
    assert clinic_today(datetime(2026, 12, 2, 5, 0, tzinfo=UTC)) == date(2026, 12, 2)


def test_a_clinic_in_tokyo_is_already_in_the_next_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETACLINIC_TIME_ZONE", "Asia/Tokyo")
    get_settings.cache_clear()
    # 16:00 UTC on 1 December is 01:00 on 2 December in Tokyo (UTC+9).
    assert clinic_today(datetime(2026, 12, 1, 16, 0, tzinfo=UTC)) == date(2026, 12, 2)


def test_a_naive_time_has_no_clinic_date() -> None:
    with pytest.raises(ValueError, match="naive"):
        clinic_today(datetime(2026, 12, 1, 16, 0))
