"""The consent area's background job (declared here, run by ``platform.jobs``): the day
before a treatment, ask the patient by link whether they are ready (ride home, fasting).
Hourly, so a booking made today for tomorrow is asked too; each appointment is asked
once (its readiness check is the claim)."""

from __future__ import annotations

from datetime import timedelta

from ketaclinic.consent import service
from ketaclinic.platform.jobs import Job, JobContext


def send_readiness_links(ctx: JobContext) -> str:
    with ctx.transaction() as db:
        queued = service.plan_readiness_links(db, now=ctx.now)
    return f"{queued} readiness link(s) queued for tomorrow's treatments"


JOBS = [
    Job(
        "consent.send_readiness_links",
        "Ask tomorrow's patients by link to confirm they are ready (ride home, fasting)",
        send_readiness_links,
        every=timedelta(hours=1),
    ),
]
