"""The transports the settings choose, one per channel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ketaclinic.platform.messaging import DeliveryRefused

if TYPE_CHECKING:
    from ketaclinic.platform.settings import Settings


class ChannelTransport(Protocol):
    name: str

    def send(self, *, channel: str, recipient: str, subject: str, body: str) -> None: ...


class ByChannel:
    """Sends each message through its channel's transport (e-mail, sms)."""

    def __init__(self, **by_channel: ChannelTransport) -> None:
        self.by_channel = by_channel
        self.name = "+".join(sorted({t.name for t in by_channel.values()}))

    def name_for(self, channel: str) -> str:
        found = self.by_channel.get(channel)
        return found.name if found is not None else self.name

    def send(self, *, channel: str, recipient: str, subject: str, body: str) -> None:
        transport = self.by_channel.get(channel)
        if transport is None:
            raise DeliveryRefused(f"no transport for {channel} messages", permanent=True)
        transport.send(channel=channel, recipient=recipient, subject=subject, body=body)


def from_settings(settings: Settings, *, file_transport: ChannelTransport) -> ByChannel:
    """E-mail and text transports as the settings say; "file" uses ``file_transport``."""
    email: ChannelTransport = file_transport
    text: ChannelTransport = file_transport
    if settings.email_transport == "smtp":
        from ketaclinic.platform.messaging.smtp import SmtpTransport

        email = SmtpTransport(
            host=settings.smtp_host or "",
            port=settings.smtp_port,
            sender=settings.smtp_from or "",
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout=settings.smtp_timeout_seconds,
        )
    if settings.text_transport == "twilio":
        from ketaclinic.platform.messaging.texts import TextTransport, TwilioProvider

        text = TextTransport(
            TwilioProvider(
                account_sid=settings.twilio_account_sid or "",
                auth_token=settings.twilio_auth_token or "",
                sender=settings.twilio_from or "",
                api_url=settings.twilio_api_url,
                timeout=settings.text_timeout_seconds,
            )
        )
    return ByChannel(email=email, sms=text)
