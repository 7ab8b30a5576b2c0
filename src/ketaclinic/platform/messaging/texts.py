"""Text messages through a provider's HTTP API. Twilio's shape: ``POST
{api}/2010-04-01/Accounts/{sid}/Messages.json``, form-encoded ``To``, ``From`` and
``Body``, HTTP basic auth with the account SID and auth token; 201 with the message's
``sid`` when accepted, a JSON ``code`` and ``message`` when not."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Protocol

from ketaclinic.platform.messaging import DeliveryRefused


class TextProvider(Protocol):
    """A text-message provider: sends one text or raises ``DeliveryRefused``."""

    name: str

    def send_text(self, *, to: str, body: str) -> str:
        """The provider's id for the accepted message."""


def phone_for_provider(number: str) -> str:
    """E.164 as providers want it: digits with a leading +; a 10-digit number is taken
    as North American (+1), the clinic's default country."""
    digits = "".join(c for c in number if c.isdigit())
    if number.strip().startswith("+"):
        return f"+{digits}"
    if len(digits) == 10:
        return f"+1{digits}"
    if len(digits) == 11 and digits.startswith("1"):
        return f"+{digits}"
    raise DeliveryRefused("not a phone number a text can go to", permanent=True)


class TwilioProvider:
    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        sender: str,
        api_url: str = "https://api.twilio.com",
        timeout: float = 15.0,
    ) -> None:
        self.account_sid, self.auth_token, self.sender = account_sid, auth_token, sender
        self.api_url, self.timeout = api_url.rstrip("/"), timeout

    def send_text(self, *, to: str, body: str) -> str:
        account = urllib.parse.quote(self.account_sid)
        url = f"{self.api_url}/2010-04-01/Accounts/{account}/Messages.json"
        if not url.startswith(("https://", "http://")):
            raise DeliveryRefused(
                "the text provider's address is not a web address", permanent=True
            )
        data = urllib.parse.urlencode(
            {"To": phone_for_provider(to), "From": self.sender, "Body": body}
        )
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - checked to be http(s) above
            url,
            data=data.encode(),
            method="POST",
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                problem = json.loads(exc.read() or b"{}")
            except ValueError:
                problem = {}
            reason = f"the text provider answered {exc.code}"
            if problem.get("code"):
                reason += f" (error {problem['code']})"
            # 429 and 5xx pass; any other 4xx (bad number, bad credentials) will not.
            raise DeliveryRefused(reason, permanent=exc.code < 500 and exc.code != 429) from exc
        except (OSError, ValueError) as exc:
            raise DeliveryRefused(
                f"the text provider could not be reached: {type(exc).__name__}"
            ) from exc
        return str(answer.get("sid", ""))


class TextTransport:
    """The outbox's transport for the ``sms`` channel over a ``TextProvider``."""

    def __init__(self, provider: TextProvider) -> None:
        self.provider = provider
        self.name = provider.name

    def send(self, *, channel: str, recipient: str, subject: str, body: str) -> None:
        if channel != "sms":
            raise DeliveryRefused(f"{self.name} sends text messages, not {channel}", permanent=True)
        self.provider.send_text(to=recipient, body=body)
