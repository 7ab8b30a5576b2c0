"""The sessions area's background jobs (declared here, run by ``platform.jobs``): escalate
the calls for the prescriber nobody answered in the clinic's time. On PostgreSQL each call
also enqueues its own check at its escalation time, as a suicidality alert does."""

from __future__ import annotations

from datetime import timedelta

from ketaclinic.platform.jobs import Job, JobContext
from ketaclinic.sessions.service import calls

MINUTE = timedelta(minutes=1)


def escalate_prescriber_calls(ctx: JobContext) -> str:
    with ctx.transaction() as db:
        return f"{len(calls.escalate_due(db, now=ctx.now))} call(s) for the prescriber escalated"


def escalate_prescriber_call(ctx: JobContext, *, call_id: int) -> str:
    with ctx.transaction() as db:
        done = calls.escalate_call(db, call_id=call_id, now=ctx.now)
    return f"call {call_id} " + ("escalated" if done else "needed no escalation")


JOBS = [
    Job(
        "sessions.escalate_prescriber_calls",
        "Escalate every call for the prescriber left unanswered past its time",
        escalate_prescriber_calls,
        every=MINUTE,
    ),
    Job(
        "sessions.escalate_prescriber_call",
        "Escalate one call for the prescriber at its time unless it was answered",
        escalate_prescriber_call,
        key=lambda call_id: f"sessions.escalate_prescriber_call:{call_id}",
    ),
]
