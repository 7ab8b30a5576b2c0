"""How messages leave the clinic: e-mail over SMTP, text messages through a provider's
HTTP API, or files in the data directory for development; and the clinic's clock for
the times a message body shows.

Area-neutral: the outbox (``outcomes.service.outbox``) decides what is sent to whom and
when; a transport here only delivers one message or raises. A refusal that retrying
cannot fix (an unknown address, bad credentials) raises ``DeliveryRefused`` with
``permanent=True`` so the outbox stops retrying at once.
"""

from __future__ import annotations

from datetime import datetime


class DeliveryRefused(Exception):
    """The mail server or text provider refused the message; ``permanent`` when sending
    it again cannot work."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


def clinic_time(moment: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time as the clinic's clock shows it, with the zone's abbreviation: a message
    body never shows UTC to people who live by local time."""
    from ketaclinic.platform.settings import get_settings

    local = moment.astimezone(get_settings().zone)
    return f"{local.strftime(fmt)} {local.tzname()}"


def mask(recipient: str) -> str:
    """An address or phone number shown to staff who need to know a message failed, not
    to whom: ``j***@example.org``, ``***4567``."""
    if "@" in recipient:
        name, _, domain = recipient.partition("@")
        return f"{name[:1]}***@{domain}"
    digits = [c for c in recipient if c.isdigit()]
    return "***" + "".join(digits[-4:]) if len(digits) > 4 else "***"


__all__ = ["DeliveryRefused", "clinic_time", "mask"]
