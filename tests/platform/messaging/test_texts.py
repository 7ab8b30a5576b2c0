"""Text messages through Twilio's API shape, against a local HTTP server started here."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import pytest

from ketaclinic.platform.messaging import DeliveryRefused
from ketaclinic.platform.messaging.texts import TextTransport, TwilioProvider, phone_for_provider
from tests.platform.messaging.servers import Provider, text_provider


def _twilio(url: str) -> TwilioProvider:
    return TwilioProvider(
        account_sid="AC123",
        auth_token="secret-token",
        sender="+15550001111",
        api_url=url,
        timeout=5,
    )


def test_a_text_is_posted_form_encoded_with_basic_auth_to_the_messages_resource() -> None:
    provider = Provider()
    with text_provider(provider) as url:
        sid = _twilio(url).send_text(to="(555) 201-3344", body="Clinic: a form is waiting: L")
    assert sid == "SM0001"
    [request] = provider.requests
    assert request["path"] == "/2010-04-01/Accounts/AC123/Messages.json"
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    expected = base64.b64encode(b"AC123:secret-token").decode()
    assert request["headers"]["Authorization"] == f"Basic {expected}"
    assert parse_qs(request["body"]) == {
        "To": ["+15552013344"],
        "From": ["+15550001111"],
        "Body": ["Clinic: a form is waiting: L"],
    }


@pytest.mark.parametrize(
    ("status", "permanent"), [(400, True), (401, True), (429, False), (503, False)]
)
def test_a_refusal_says_whether_trying_again_can_help(status: int, permanent: bool) -> None:
    provider = Provider(status=status, answer={"code": 21211, "message": "invalid To"})
    with text_provider(provider) as url, pytest.raises(DeliveryRefused) as refused:
        TextTransport(_twilio(url)).send(
            channel="sms", recipient="+15552013344", subject="", body="x"
        )
    assert refused.value.permanent is permanent
    assert str(status) in str(refused.value)


def test_numbers_are_sent_in_e164() -> None:
    assert phone_for_provider("+44 20 7946 0958") == "+442079460958"
    assert phone_for_provider("1-555-201-3344") == "+15552013344"
    with pytest.raises(DeliveryRefused):
        phone_for_provider("12345")
