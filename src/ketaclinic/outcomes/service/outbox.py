"""Messages to patients and staff: recorded in the outbox, then handed to a transport.

A transport is anything with ``name`` and ``send(...)``; email and SMS gateways plug in
the same way. The default writes each message to ``<data dir>/outbox/messages.jsonl``
and logs who it went to, so nothing needs a network. Questionnaire links are minted at
delivery: the outbox row keeps a ``{link}`` placeholder, never the token.

A sender claims a message before sending it (``claim``: one conditional UPDATE), so two
senders (two workers, a worker and ``jobs run``) never send the same message; a sender that
dies after claiming is replaced once its claim is older than ``CLAIM_LEASE``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol
from uuid import uuid4

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ketaclinic.outcomes.models import OutboxMessage, QuestionnaireRequest, SuicidalityAlert
from ketaclinic.outcomes.service import config
from ketaclinic.outcomes.service.links import mint_link
from ketaclinic.platform import jobs

log = logging.getLogger("ketaclinic.outbox")
LINK = "{link}"
MAX_ATTEMPTS = 3  # then the message stays failed for a person to look at
CLAIM_LEASE = timedelta(minutes=5)  # a sender that claimed and died is replaced after this


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
    """Add a message inside the caller's transaction, and enqueue its delivery in the
    same transaction (on PostgreSQL; on SQLite the outbox job finds it)."""
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
    jobs.enqueue(db, "outcomes.deliver_message", message_id=message.id)
    return message


def message_patient(
    db: Session, *, kind: str, patient_id: int, subject: str, body: str
) -> int | None:
    """A message to the patient's email, else phone (another area's link, such as the
    day-before readiness check); None when the patient has neither."""
    from ketaclinic.patients import service as patients

    patient = patients.patient_by_id(db, patient_id)
    if patient.email:
        channel, recipient = "email", patient.email
    elif patient.phone:
        channel, recipient = "sms", patient.phone
    else:
        return None
    message = enqueue(
        db,
        kind=kind,
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        patient_id=patient_id,
    )
    return message.id


def notify_admins(db: Session, *, kind: str, subject: str, body: str) -> int:
    """Tell every active administrator (a failed backup, say), inside the caller's
    transaction; how many were told. The body carries no patient data."""
    from ketaclinic.platform.accounts import service as accounts
    from ketaclinic.platform.roles import Role

    admins = [u for u in accounts.list_users(db) if u.active and Role.admin in u.role_names]
    for user in admins:
        enqueue(
            db,
            kind=kind,
            channel="email",
            recipient=user.email or user.username,
            recipient_username=user.username,
            subject=subject,
            body=body,
        )
    return len(admins)


@dataclass(frozen=True)
class Delivery:
    sent: int
    failed: int
    skipped: int


def claim(
    db: Session,
    *,
    owner: str,
    now: datetime,
    ids: list[int] | None = None,
    limit: int = 500,
    lease: timedelta = CLAIM_LEASE,
) -> list[int]:
    """Claim queued messages for ``owner`` with one atomic UPDATE (on PostgreSQL the rows
    are picked with ``FOR UPDATE SKIP LOCKED``): a message claimed by another sender is
    left alone until its claim is older than ``lease`` (the sender died after claiming).
    Returns the ids now ``owner``'s to send, oldest first."""
    claimable = (
        OutboxMessage.status == "queued",
        or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at < now - lease),
    )
    pick = select(OutboxMessage.id).where(*claimable).order_by(OutboxMessage.id).limit(limit)
    if ids is not None:
        pick = pick.where(OutboxMessage.id.in_(ids))
    if db.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    claimed = db.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(pick.scalar_subquery()), *claimable)
        .values(claimed_by=owner, claimed_at=now)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session="fetch")
    ).all()
    db.flush()
    return sorted(claimed)


def send_claimed(
    db: Session,
    *,
    message_id: int,
    owner: str,
    now: datetime,
    transport: Transport | None = None,
) -> str | None:
    """Send one message ``owner`` has claimed: "sent", "failed" (to be retried) or
    "skipped" (no longer needed); None when the claim is no longer ``owner``'s. The
    caller commits right after: a send cannot be rolled back."""
    transport = transport or default_transport()
    message = db.get(OutboxMessage, message_id, populate_existing=True)
    if message is None or message.status != "queued" or message.claimed_by != owner:
        return None
    body = message.body
    if message.kind == "questionnaire_link" and message.request_id is not None:
        request = db.get(QuestionnaireRequest, message.request_id)
        if request is None or request.status != "open" or request.expires_at <= now:
            message.status, message.error = "skipped", "the questionnaire is no longer due"
            db.flush()
            return "skipped"
        base = str(config.setting(db, "link_base_url")).rstrip("/")
        valid = timedelta(hours=int(config.setting(db, "link_valid_hours")))
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
    if message.kind == "readiness_link":
        from ketaclinic.consent import service as consent

        path = consent.readiness_link_for_message(db, message_id=message.id, now=now)
        if path is None:
            message.status, message.error = "skipped", "the session is no longer ahead"
            db.flush()
            return "skipped"
        base = str(config.setting(db, "link_base_url")).rstrip("/")
        body = body.replace(LINK, f"{base}{path}")
    if message.kind in ("alert", "alert_escalation") and message.alert_id is not None:
        alert = db.get(SuicidalityAlert, message.alert_id)
        if alert is not None and alert.status != "open":
            message.status, message.error = "skipped", "the alert was already acknowledged"
            db.flush()
            return "skipped"
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
        message.claimed_at = None  # the next round retries it
        outcome = "failed"
    else:
        message.status, message.sent_at, message.error = "sent", now, None
        outcome = "sent"
    db.flush()
    return outcome


def deliver_pending(
    db: Session,
    *,
    now: datetime,
    transport: Transport | None = None,
    limit: int = 500,
    owner: str | None = None,
) -> Delivery:
    """Claim and send queued messages inside the caller's transaction (the job that
    delivers the outbox commits the claim first and each message on its own)."""
    transport = transport or default_transport()
    owner = owner or f"deliver:{uuid4().hex[:12]}"
    counts = {"sent": 0, "failed": 0, "skipped": 0}
    for message_id in claim(db, owner=owner, now=now, limit=limit):
        outcome = send_claimed(db, message_id=message_id, owner=owner, now=now, transport=transport)
        if outcome is not None:
            counts[outcome] += 1
    return Delivery(**counts)


def recent_messages(db: Session, *, limit: int = 200) -> list[OutboxMessage]:
    return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)))
