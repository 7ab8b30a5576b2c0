"""E-mail over SMTP against a real local SMTP server (aiosmtpd), not a mock."""

from __future__ import annotations

import pytest

from ketaclinic.platform.messaging import DeliveryRefused
from ketaclinic.platform.messaging.smtp import SmtpTransport
from tests.platform.messaging.servers import free_port, smtp_server


def test_an_email_arrives_with_its_sender_recipient_subject_and_body() -> None:
    with smtp_server() as (port, inbox):
        transport = SmtpTransport(
            host="127.0.0.1", port=port, sender="clinic@clinic.test", security="none", timeout=5
        )
        transport.send(
            channel="email",
            recipient="maria@example.org",
            subject="A questionnaire from your clinic",
            body="Maria, please fill in: https://portal.clinic.test/q/abc",
        )
    [(envelope_to, message)] = inbox.received
    assert envelope_to == ["maria@example.org"]
    assert message["From"] == "clinic@clinic.test"
    assert message["To"] == "maria@example.org"
    assert message["Subject"] == "A questionnaire from your clinic"
    assert message["Message-ID"].endswith("@clinic.test>")
    assert (
        message.get_content().strip() == "Maria, please fill in: https://portal.clinic.test/q/abc"
    )


def test_a_mail_server_that_is_down_is_a_refusal_worth_retrying() -> None:
    transport = SmtpTransport(
        host="127.0.0.1", port=free_port(), sender="clinic@clinic.test", security="none", timeout=2
    )
    with pytest.raises(DeliveryRefused, match="could not be reached") as refused:
        transport.send(channel="email", recipient="a@example.org", subject="s", body="b")
    assert refused.value.permanent is False


def test_starttls_against_a_server_without_it_fails_rather_than_sending_in_clear() -> None:
    with smtp_server() as (port, inbox):
        transport = SmtpTransport(
            host="127.0.0.1", port=port, sender="clinic@clinic.test", security="starttls", timeout=5
        )
        with pytest.raises(DeliveryRefused):
            transport.send(channel="email", recipient="a@example.org", subject="s", body="b")
    assert inbox.received == []


def test_smtp_carries_no_text_messages() -> None:
    transport = SmtpTransport(host="127.0.0.1", port=25, sender="c@clinic.test")
    with pytest.raises(DeliveryRefused) as refused:
        transport.send(channel="sms", recipient="+15550000000", subject="s", body="b")
    assert refused.value.permanent is True
