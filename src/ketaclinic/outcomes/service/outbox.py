"""Messages to patients and staff: recorded in the outbox, then handed to a transport.

A transport is anything with ``name`` and ``send(...)``; email and SMS gateways plug in
the same way. The default writes each message to ``<data dir>/outbox/messages.jsonl``
and logs who it went to, so nothing needs a network. Questionnaire links are minted at
delivery: the outbox row keeps a ``{link}`` placeholder, never the token.

Every link starts with the clinic's public address (``KETACLINIC_PUBLIC_URL``; in
development where ``serve`` listens); a body may say ``{public_url}`` for it. Which
transport carries a channel is the settings' choice (``platform.messaging``): e-mail
over SMTP or to the file, text messages through a provider's API or to the file. A text
message goes only to a patient who consented, and says only its kind's declared text
(``texts``). A refused send is tried again with exponential backoff (``retry_delay``)
until ``MAX_ATTEMPTS``, then stays failed for the front desk to see (``failures``); an
administrator may send it again or cancel it, audited. A message enqueued with
``remind=True`` is repeated by ``send_reminders`` (up to the clinic's
``reminder_count``, ``reminder_interval_hours`` apart) until its purpose is done.

A sender claims a message before sending it (``claim``: one conditional UPDATE), so two
senders (two workers, a worker and ``jobs run``) never send the same message; a sender that
dies after claiming is replaced once its claim is older than ``CLAIM_LEASE``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from uuid import uuid4

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ketaclinic.outcomes.models import OutboxMessage, QuestionnaireRequest, SuicidalityAlert
from ketaclinic.outcomes.service import config, texts
from ketaclinic.outcomes.service.links import mint_link
from ketaclinic.outcomes.service.texts import LINK, PUBLIC_URL
from ketaclinic.patients import service as patients
from ketaclinic.platform import jobs
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.errors import Conflict, Forbidden, NotFound
from ketaclinic.platform.roles import Role

if TYPE_CHECKING:
    from ketaclinic.platform.accounts.models import User

log = logging.getLogger("ketaclinic.outbox")
# Retries: the n-th refused attempt waits RETRY_BASE * 2**(n-1) (1, 2, 4, 8, 16 minutes),
# at most RETRY_CAP, before the next; after MAX_ATTEMPTS attempts (about half an hour
# of a mail server being down) the message stays failed for a person to look at. IT
# convention, like SMTP servers' own queues but shorter, since a link is time-bound.
MAX_ATTEMPTS = 6
RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=1)
CLAIM_LEASE = timedelta(minutes=5)  # a sender that claimed and died is replaced after this
#: Who may send a failed message again or cancel it.
FIXERS = frozenset({Role.admin})
#: Who sees the delivery failures (the front desk fixes addresses; the admin the server).
FAILURE_READERS = frozenset({Role.admin, Role.front_desk})
PENDING = ("queued", "failed")


def retry_delay(attempts: int) -> timedelta:
    """How long after its ``attempts``-th refused attempt a message is tried again."""
    return min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_CAP)


def public_url() -> str:
    """The clinic's public address, which every link in a message starts with."""
    from ketaclinic.platform.settings import get_settings

    return get_settings().effective_public_url


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
    """The transports the settings choose: e-mail over SMTP or to the outbox file, text
    messages through the provider or to the outbox file (development)."""
    from ketaclinic.platform.messaging import transports
    from ketaclinic.platform.settings import get_settings

    settings = get_settings()
    return transports.from_settings(settings, file_transport=FileTransport(settings.data_dir))


def _transport_name(transport: Transport, channel: str) -> str:
    name_for = getattr(transport, "name_for", None)
    return str(name_for(channel)) if callable(name_for) else transport.name


def _clinic_name() -> str:
    from ketaclinic.platform.settings import get_settings

    return get_settings().clinic_name


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
    remind: bool = False,
    reminder_of: OutboxMessage | None = None,
) -> OutboxMessage:
    """Add a message inside the caller's transaction, and enqueue its delivery in the
    same transaction (on PostgreSQL; on SQLite the outbox job finds it).

    A text message (channel ``sms``) says its kind's declared text, not ``body``, and to
    a patient only with their consent: without it the message is kept as skipped, with
    the reason, and nothing is sent. ``remind=True`` asks for reminders until done."""
    status, error = "queued", None
    if channel == "sms":
        template = texts.text_for(kind, reminder=reminder_of is not None)
        if template is None:
            raise ValueError(f"no text message is declared for {kind!r} (outcomes texts)")
        body = texts.render(template, clinic=_clinic_name())
        if patient_id is not None and not patients.contact_for(db, patient_id).may_text:
            status, error = "skipped", "the patient has not consented to text messages"
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
        status=status,
        error=error,
        remind=remind and reminder_of is None,
        # Every reminder names the first message, whichever one it follows.
        reminder_of_id=(reminder_of.reminder_of_id or reminder_of.id) if reminder_of else None,
        reminder_number=reminder_of.reminder_number + 1 if reminder_of is not None else 0,
    )
    db.add(message)
    db.flush()
    if status == "queued":
        jobs.enqueue(db, "outcomes.deliver_message", message_id=message.id)
    return message


def staff_address(user: User) -> str | None:
    """Where a staff member's alerts go: their e-mail address, unless they asked for
    none; never their username (it is not an address)."""
    if user.alert_preference == "none" or not user.email:
        return None
    return user.email


def enqueue_for_staff(
    db: Session, user: User, *, kind: str, subject: str, body: str, **extra: int | None
) -> OutboxMessage | None:
    """A notice to one staff member by e-mail, unless they asked for none (the pages
    show every alert either way). A member with no address on file gets the message
    kept as failed, with that reason: the delivery-failures page shows it, so an
    administrator adds the address, and sends it again."""
    if user.alert_preference == "none":
        return None
    address = staff_address(user)
    message = enqueue(
        db,
        kind=kind,
        channel="email",
        recipient=address or "",
        recipient_username=user.username,
        subject=subject,
        body=body,
        **extra,  # type: ignore[arg-type]
    )
    if address is None:
        message.status = "failed"
        message.error = f"no e-mail address on file for {user.username}"
        db.flush()
    return message


def message_patient(
    db: Session, *, kind: str, patient_id: int, subject: str, body: str
) -> int | None:
    """A message to the patient by e-mail or text, as they prefer (another area's link,
    such as the day-before readiness check); None when the patient has neither."""
    contact = patients.contact_for(db, patient_id)
    # E-mail unless the patient asked for texts only and consented to them; a text only
    # with consent (``enqueue`` keeps it as skipped otherwise, with the reason).
    if contact.email and not (contact.preference == "text" and contact.may_text):
        channel, recipient = "email", contact.email
    elif contact.phone:
        channel, recipient = "sms", contact.phone
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

    admins = [u for u in accounts.list_users(db) if u.active and Role.admin in u.role_names]
    told = 0
    for user in admins:
        if enqueue_for_staff(db, user, kind=kind, subject=subject, body=body) is not None:
            told += 1
    return told


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
        or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
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
    if (
        message.channel == "sms"
        and message.patient_id is not None
        and not patients.contact_for(db, message.patient_id).may_text
    ):
        # Consent withdrawn after the message was queued: no text.
        message.status, message.error = "skipped", "the patient withdrew consent to texts"
        db.flush()
        return "skipped"
    base = public_url()
    if message.kind == "questionnaire_link" and message.request_id is not None:
        request = db.get(QuestionnaireRequest, message.request_id)
        if request is None or request.status != "open" or request.expires_at <= now:
            message.status, message.error = "skipped", "the questionnaire is no longer due"
            db.flush()
            return "skipped"
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
        body = body.replace(LINK, f"{base}{path}")
    body = body.replace(PUBLIC_URL, base)
    if message.kind in ("alert", "alert_escalation") and message.alert_id is not None:
        alert = db.get(SuicidalityAlert, message.alert_id)
        if alert is not None and alert.status != "open":
            message.status, message.error = "skipped", "the alert was already acknowledged"
            db.flush()
            return "skipped"
    message.attempts += 1
    message.last_attempt_at = now
    message.transport = _transport_name(transport, message.channel)
    try:
        transport.send(
            channel=message.channel,
            recipient=message.recipient,
            subject=message.subject,
            body=body,
        )
    except Exception as exc:  # noqa: BLE001 - any transport failure is recorded
        # The reason names the failure, never the body (it may hold the link).
        message.error = f"{type(exc).__name__}: {exc}"[:500]
        permanent = bool(getattr(exc, "permanent", False))
        if permanent or message.attempts >= MAX_ATTEMPTS:
            message.status, message.next_attempt_at = "failed", None
        else:
            message.status = "queued"
            message.next_attempt_at = now + retry_delay(message.attempts)
        message.claimed_at = None  # the next round retries it
        outcome = "failed"
    else:
        message.status, message.sent_at, message.error = "sent", now, None
        message.next_attempt_at = None
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


def recent_messages(db: Session, *, actor: Actor, limit: int = 200) -> list[OutboxMessage]:
    """The newest messages, for the administrator's outbox page (recipients shown masked,
    no body); the read is audited, as the addresses are patients' and staff's."""
    rows = list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)))
    audit.note_read(
        db,
        actor=actor,
        action="outbox.read",
        object_type="outbox_message",
        detail=f"{len(rows)} recent message(s) listed",
    )
    db.flush()
    return rows


# ------------------------------------------------------------------ delivery failures
def failures(db: Session, *, actor: Actor, limit: int = 200) -> list[OutboxMessage]:
    """Messages that failed for good, or are waiting for another try after a refusal,
    newest first: for the front desk (who fix an address) and the administrator. The
    page shows recipients masked and no body; the read is audited."""
    if not actor.roles & FAILURE_READERS:
        raise Forbidden("the front desk and administrators see delivery failures")
    rows = list(
        db.scalars(
            select(OutboxMessage)
            .where(
                or_(
                    OutboxMessage.status == "failed",
                    (OutboxMessage.status == "queued") & (OutboxMessage.attempts > 0),
                )
            )
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )
    audit.note_read(
        db,
        actor=actor,
        action="outbox.failures",
        object_type="outbox_message",
        detail=f"{len(rows)} failed or retrying message(s) listed",
    )
    db.flush()
    return rows


def _pending(db: Session, message_id: int) -> OutboxMessage:
    message = db.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"no message {message_id}")
    if message.status not in PENDING:
        raise Conflict(f"message {message_id} is {message.status}, not failed or waiting")
    return message


def retry(db: Session, *, actor: Actor, message_id: int, now: datetime) -> OutboxMessage:
    """An administrator sends a failed or waiting message again now (the mail server is
    back, the address fixed): a fresh round of attempts, audited."""
    if not actor.roles & FIXERS:
        raise Forbidden("only an administrator sends a failed message again")
    message = _pending(db, message_id)
    message.status, message.attempts, message.next_attempt_at = "queued", 0, None
    message.claimed_at = message.claimed_by = None
    # A fixed address is used: the message goes where the record says now.
    if message.recipient_username is not None:
        from ketaclinic.platform.accounts import service as accounts

        address = staff_address(accounts.get_user(db, username=message.recipient_username))
        if address is None:
            raise Conflict(
                f"{message.recipient_username} has no e-mail address for alerts: add one "
                "on the users page first"
            )
        message.recipient = address
    elif message.patient_id is not None and message.channel == "email":
        contact = patients.contact_for(db, message.patient_id)
        if contact.email:
            message.recipient = contact.email
    audit.record(
        db,
        actor=actor,
        action="outbox.retry",
        patient_id=message.patient_id,
        object_type="outbox_message",
        object_id=message.id,
        detail=f"{message.kind} by {message.channel}, sent again after: {message.error or '-'}"[
            :300
        ],
    )
    db.flush()
    jobs.enqueue(db, "outcomes.deliver_message", message_id=message.id)
    return message


def cancel(db: Session, *, actor: Actor, message_id: int, reason: str) -> OutboxMessage:
    """An administrator stops a failed or waiting message (a wrong address, no longer
    needed), with why; audited. Its reminders stop with it."""
    if not actor.roles & FIXERS:
        raise Forbidden("only an administrator cancels a message")
    if len(reason.strip()) < 3:
        from ketaclinic.platform.errors import Invalid

        raise Invalid("say why the message is cancelled", fields={"reason": "required"})
    message = _pending(db, message_id)
    message.status, message.next_attempt_at = "cancelled", None
    message.cancelled_by = actor.username
    message.error = f"cancelled by {actor.username}: {reason.strip()}"[:500]
    original = db.get(OutboxMessage, message.reminder_of_id) if message.reminder_of_id else message
    if original is not None:
        original.remind = False
    audit.record(
        db,
        actor=actor,
        action="outbox.cancel",
        patient_id=message.patient_id,
        object_type="outbox_message",
        object_id=message.id,
        detail=f"{message.kind} by {message.channel}: {reason.strip()}"[:300],
    )
    db.flush()
    return message


# ------------------------------------------------------------------------ reminders
#: Whether a message's purpose is done (no reminder then), per kind; another area that
#: asks for reminders declares its check with ``reminders_until``. A kind without one
#: is reminded the clinic's ``reminder_count`` times.
DoneCheck = Callable[[Session, OutboxMessage, datetime], bool]
DONE_CHECKS: dict[str, DoneCheck] = {}


def reminders_until(kind: str, done: DoneCheck) -> None:
    DONE_CHECKS[kind] = done


def _questionnaire_done(db: Session, message: OutboxMessage, now: datetime) -> bool:
    request = db.get(QuestionnaireRequest, message.request_id) if message.request_id else None
    return request is None or request.status != "open" or request.expires_at <= now


reminders_until("questionnaire_link", _questionnaire_done)


def send_reminders(db: Session, *, now: datetime) -> int:
    """Queue the reminders that came due inside the caller's transaction; how many. A
    message asked for reminders is repeated ``reminder_interval_hours`` after the last
    one was sent, until its purpose is done (the questionnaire answered, the visit
    confirmed), it was cancelled, or ``reminder_count`` reminders went; only between the
    clinic's ``reminder_earliest_hour`` and ``reminder_latest_hour``, its local time."""
    from ketaclinic.platform.settings import get_settings

    local_hour = now.astimezone(get_settings().zone).hour
    first_hour = int(config.setting(db, "reminder_earliest_hour"))
    last_hour = int(config.setting(db, "reminder_latest_hour"))
    if not first_hour <= local_hour < last_hour:
        return 0  # night at the clinic: the reminders wait for the morning
    count = int(config.setting(db, "reminder_count"))
    interval = timedelta(hours=int(config.setting(db, "reminder_interval_hours")))
    originals = list(
        db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.remind.is_(True), OutboxMessage.reminder_of_id.is_(None))
            .order_by(OutboxMessage.id)
        )
    )
    if not originals:
        return 0
    latest_ids = dict(
        db.execute(
            select(OutboxMessage.reminder_of_id, func.max(OutboxMessage.id))
            .where(OutboxMessage.reminder_of_id.in_([m.id for m in originals]))
            .group_by(OutboxMessage.reminder_of_id)
        ).all()
    )
    latest = {
        m.reminder_of_id: m
        for m in db.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(latest_ids.values())))
    }
    made = 0
    for original in originals:
        last = latest.get(original.id, original)
        if last.status == "queued":
            continue  # not sent yet: the next reminder counts from its sending
        done = DONE_CHECKS.get(original.kind)
        if (
            last.status != "sent"
            or last.reminder_number >= count
            or (done is not None and done(db, original, now))
        ):
            original.remind = False  # finished: failed, cancelled, done or all sent
            continue
        if last.sent_at is None or last.sent_at + interval > now:
            continue
        enqueue(
            db,
            kind=original.kind,
            channel=original.channel,
            recipient=original.recipient,
            recipient_username=original.recipient_username,
            subject=f"Reminder: {original.subject}"[:200],
            body=original.body,
            patient_id=original.patient_id,
            request_id=original.request_id,
            reminder_of=last,
        )
        made += 1
    db.flush()
    return made
