"""Messages to patients and staff: recorded in the outbox, then handed to a transport.

A transport is anything with ``name`` and ``send(...)``; email and SMS gateways plug in
the same way. The default writes each message to ``<data dir>/outbox/messages.jsonl``
and logs who it went to, so nothing needs a network. Questionnaire links are minted at
delivery: the outbox row keeps a ``{link}`` placeholder, never the token.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.outcomes.models import OutboxMessage, QuestionnaireRequest, SuicidalityAlert
from ketaclinic.outcomes.service import config
from ketaclinic.outcomes.service.links import mint_link

log = logging.getLogger("ketaclinic.outbox")
LINK = "{link}"
MAX_ATTEMPTS = 3  # then the message stays failed for a person to look at


class Transport(Protocol):
    name: str

    def send(self, *, channel: str, recipient: str, subject: str, body: str) -> None:
        """Deliver or raise; the outbox records either."""


class FileTransport:
    """Appends each message to a file in the data directory and logs the recipient."""

    name = "file"

    def __init__(self, directory: Path) -> None:
        self.path = directory / "outbox" / "messages.jsonl"

    def send(self, *, channel: str, recipient: str, subject: str, body: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = {"channel": channel, "to": recipient, "subject": subject, "body": body}
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")
        # The body may hold a questionnaire link: it goes to the file only, not the log.
        log.info("outbox: %s to %s: %s (written to %s)", channel, recipient, subject, self.path)


@dataclass
class MemoryTransport:
    """Keeps messages in memory (tests, demos)."""

    name: str = "memory"
    sent: list[dict[str, str]] = field(default_factory=list)

    def send(self, *, channel: str, recipient: str, subject: str, body: str) -> None:
        self.sent.append({"channel": channel, "to": recipient, "subject": subject, "body": body})


def default_transport() -> Transport:
    from ketaclinic.platform.settings import get_settings

    return FileTransport(get_settings().data_dir)


def enqueue(
    db: Session,
    *,
    kind: str,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    patient_id: int | None = None,
    request_id: int | None = None,
    alert_id: int | None = None,
    recipient_username: str | None = None,
) -> OutboxMessage:
    """Add a message inside the caller's transaction."""
    message = OutboxMessage(
        kind=kind,
        channel=channel,
        recipient=recipient[:254],
        recipient_username=recipient_username,
        subject=subject[:200],
        body=body,
        patient_id=patient_id,
        request_id=request_id,
        alert_id=alert_id,
    )
    db.add(message)
    db.flush()
    return message


@dataclass(frozen=True)
class Delivery:
    sent: int
    failed: int
    skipped: int


def deliver_pending(
    db: Session, *, now: datetime, transport: Transport | None = None, limit: int = 500
) -> Delivery:
    """Send queued messages, each in its own transaction (a send cannot be rolled back)."""
    transport = transport or default_transport()
    base = str(config.setting(db, "link_base_url")).rstrip("/")
    valid = timedelta(hours=int(config.setting(db, "link_valid_hours")))
    queued = list(
        db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == "queued")
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )
    db.flush()
    sent = failed = skipped = 0
    for message in queued:
        body = message.body
        if message.kind == "questionnaire_link" and message.request_id is not None:
            request = db.get(QuestionnaireRequest, message.request_id)
            if request is None or request.status != "open" or request.expires_at <= now:
                message.status, message.error = "skipped", "the questionnaire is no longer due"
                db.flush()
                skipped += 1
                continue
            link, token = mint_link(
                db,
                request=request,
                channel=message.channel,
                created_by="outbox",
                now=now,
                valid_for=valid,
            )
            message.link_id = link.id
            body = body.replace(LINK, f"{base}/q/{token}")
        if message.kind == "alert" and message.alert_id is not None:
            alert = db.get(SuicidalityAlert, message.alert_id)
            if alert is not None and alert.status != "open":
                message.status, message.error = "skipped", "the alert was already acknowledged"
                db.flush()
                skipped += 1
                continue
        message.attempts += 1
        message.last_attempt_at = now
        message.transport = transport.name
        try:
            transport.send(
                channel=message.channel,
                recipient=message.recipient,
                subject=message.subject,
                body=body,
            )
        except Exception as exc:  # noqa: BLE001 - any transport failure is recorded
            message.error = f"{type(exc).__name__}: {exc}"[:500]
            message.status = "failed" if message.attempts >= MAX_ATTEMPTS else "queued"
            failed += 1
        else:
            message.status, message.sent_at, message.error = "sent", now, None
            sent += 1
        db.flush()
    return Delivery(sent=sent, failed=failed, skipped=skipped)


def recent_messages(db: Session, *, limit: int = 200) -> list[OutboxMessage]:
    return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)))
