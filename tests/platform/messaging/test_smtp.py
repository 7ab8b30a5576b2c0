"""E-mail over SMTP against a real local SMTP server (aiosmtpd), not a mock."""

from __future__ import annotations

from pathlib import Path

import pytest

from ketaclinic.platform.messaging import DeliveryRefused
from ketaclinic.platform.messaging.smtp import SmtpTransport
from tests.platform.messaging.servers import (
    free_port,
    self_signed,
    smtp_server,
    smtp_server_with_starttls,
)


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


def test_starttls_and_a_login_before_the_mail_is_accepted(tmp_path: Path) -> None:
    server_tls, client_tls = self_signed(tmp_path)
    with smtp_server_with_starttls(server_tls, username="clinic", password="s3cret") as (
        port,
        inbox,
        logins,
    ):
        transport = SmtpTransport(
            host="127.0.0.1",
            port=port,
            sender="clinic@clinic.test",
            security="starttls",
            username="clinic",
            password="s3cret",
            timeout=5,
            tls_context=client_tls,
        )
        transport.send(channel="email", recipient="a@example.org", subject="Hello", body="Hi")
        wrong = SmtpTransport(
            host="127.0.0.1",
            port=port,
            sender="clinic@clinic.test",
            username="clinic",
            password="wrong",
            timeout=5,
            tls_context=client_tls,
        )
        with pytest.raises(DeliveryRefused, match="refused the login") as refused:
            wrong.send(channel="email", recipient="a@example.org", subject="Hello", body="Hi")
    assert refused.value.permanent is True
    assert logins == ["clinic"]
    [(to, message)] = inbox.received
    assert to == ["a@example.org"] and message["Subject"] == "Hello"


def test_a_certificate_the_client_does_not_trust_is_refused(tmp_path: Path) -> None:
    server_tls, _ = self_signed(tmp_path)
    with smtp_server_with_starttls(server_tls, username="u", password="p") as (port, inbox, _):
        transport = SmtpTransport(
            host="127.0.0.1", port=port, sender="c@clinic.test", username="u", password="p"
        )
        with pytest.raises(DeliveryRefused, match="could not be reached"):
            transport.send(channel="email", recipient="a@example.org", subject="s", body="b")
    assert inbox.received == []
