"""The outcomes area's background jobs (declared here, run by ``platform.jobs``).

By the clock, in this order in an in-process round: expire the questionnaire requests past
their window, make the requests that came due (with their link messages), escalate the
alerts nobody acknowledged in time, deliver the outbox (new messages, and retries of those
a transport refused). When something is written, on PostgreSQL: each outbox message
enqueues its own delivery, and each alert its escalation check at its escalation time.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from ketaclinic.outcomes.service import alerts, outbox, work
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.jobs import Job, JobContext

MINUTE = timedelta(minutes=1)


def expire_requests(ctx: JobContext) -> str:
    with ctx.transaction() as db:
        return f"{work.expire_requests(db, now=ctx.now)} questionnaire request(s) expired"


def make_due_requests(ctx: JobContext) -> str:
    with ctx.transaction() as db:
        return f"{work.make_due_requests(db, now=ctx.now)} questionnaire request(s) made"


def escalate_alerts(ctx: JobContext) -> str:
    with ctx.transaction() as db:
        return f"{len(alerts.escalate_due(db, now=ctx.now))} alert(s) escalated"


def escalate_alert(ctx: JobContext, *, alert_id: int) -> str:
    with ctx.transaction() as db:
        done = alerts.escalate_alert(db, alert_id=alert_id, now=ctx.now)
    return f"alert {alert_id} " + ("escalated" if done else "needed no escalation")


def send_reminders(ctx: JobContext) -> str:
    with ctx.transaction() as db:
        return f"{outbox.send_reminders(db, now=ctx.now)} reminder(s) queued"


def _send(ctx: JobContext, ids: list[int]) -> str:
    """Each claimed message in a transaction of its own, committed right after the send."""
    transport = outbox.default_transport()
    counts: Counter[str] = Counter()
    for message_id in ids:
        with ctx.transaction() as db:
            outcome = outbox.send_claimed(
                db, message_id=message_id, owner=ctx.owner, now=utcnow(), transport=transport
            )
        counts[outcome or "taken by another sender"] += 1
    if not counts:
        return "no message to send"
    return "messages: " + ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))


def deliver_outbox(ctx: JobContext) -> str:
    with ctx.transaction() as db:
        ids = outbox.claim(db, owner=ctx.owner, now=ctx.now)
    return _send(ctx, ids)


def deliver_message(ctx: JobContext, *, message_id: int) -> str:
    with ctx.transaction() as db:
        ids = outbox.claim(db, owner=ctx.owner, now=ctx.now, ids=[message_id])
    return _send(ctx, ids)


JOBS = [
    Job(
        "outcomes.expire_requests",
        "Close the questionnaire requests whose window has passed",
        expire_requests,
        every=MINUTE,
    ),
    Job(
        "outcomes.make_due_requests",
        "Make the questionnaire requests that came due, each with its link message",
        make_due_requests,
        every=MINUTE,
    ),
    Job(
        "outcomes.escalate_alerts",
        "Escalate every open suicidality alert past its time (a safety net on PostgreSQL, "
        "where each alert also has its own check)",
        escalate_alerts,
        every=MINUTE,
    ),
    Job(
        "outcomes.deliver_outbox",
        "Send the queued messages: new ones on SQLite, retries and messages whose sender "
        "died everywhere",
        deliver_outbox,
        every=MINUTE,
    ),
    Job(
        "outcomes.send_reminders",
        "Queue the reminders that came due (a questionnaire not answered, a visit not "
        "confirmed), a day apart, up to the clinic's reminder count",
        send_reminders,
        every=timedelta(minutes=15),
    ),
    Job(
        "outcomes.escalate_alert",
        "Escalate one alert at its escalation time unless it was acknowledged",
        escalate_alert,
        key=lambda alert_id: f"outcomes.escalate_alert:{alert_id}",
    ),
    Job(
        "outcomes.deliver_message",
        "Send one outbox message (a questionnaire link, an alert notice)",
        deliver_message,
        key=lambda message_id: f"outcomes.deliver_message:{message_id}",
    ),
]
