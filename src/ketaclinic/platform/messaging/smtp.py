"""E-mail over SMTP with the standard library: STARTTLS (port 587), implicit TLS (465)
or, for a relay on the same machine only, neither; credentials and timeouts from the
settings."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ketaclinic.platform.messaging import DeliveryRefused


class SmtpTransport:
    name = "smtp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 15.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in ("starttls", "tls", "none"):
            raise ValueError(f"unknown SMTP security {security!r}")
        self.host, self.port, self.sender = host, port, sender
        self.security, self.username, self.password = security, username, password
        self.timeout = timeout
        self.tls_context = tls_context

    def _connect(self) -> smtplib.SMTP:
        context = self.tls_context or ssl.create_default_context()
        if self.security == "tls":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            server.starttls(context=context)
        return server

    def send(self, *, channel: str, recipient: str, subject: str, body: str) -> None:
        if channel != "email":
            raise DeliveryRefused(f"SMTP sends e-mail, not {channel}", permanent=True)
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = recipient
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(body)
        try:
            with self._connect() as server:
                if self.username:
                    server.login(self.username, self.password or "")
                server.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryRefused(
                f"the mail server refused the login ({exc.smtp_code})", permanent=True
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            permanent = all(500 <= code < 600 for code in codes)
            raise DeliveryRefused(
                f"the mail server refused the recipient ({codes})", permanent=permanent
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryRefused(
                f"the mail server answered {exc.smtp_code}", permanent=500 <= exc.smtp_code < 600
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            # Down, unreachable, timed out, TLS failed: worth another try later.
            raise DeliveryRefused(
                f"the mail server could not be reached: {type(exc).__name__}"
            ) from exc
