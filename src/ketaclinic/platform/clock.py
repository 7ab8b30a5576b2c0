"""The clinic's calendar day: times are stored in UTC and days are the clinic's, in the
clinic's time zone (``Settings.time_zone``, an IANA name)."""

from __future__ import annotations

from datetime import date, datetime

from ketaclinic.platform.db import utcnow
from ketaclinic.platform.settings import get_settings


def clinic_today(now: datetime | None = None) -> date:
    """The clinic's date at ``now`` (an aware time; default: this moment)."""
    moment = now if now is not None else utcnow()
    if moment.tzinfo is None:
        raise ValueError("a naive time has no clinic date: give an aware time")
    return moment.astimezone(get_settings().zone).date()
