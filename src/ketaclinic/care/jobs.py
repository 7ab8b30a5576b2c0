"""The care area's background jobs (declared here, run by ``platform.jobs``): booster
proposals the primary clinician left unanswered go to every prescriber, and once a day
the relapse rule looks at every course in maintenance."""

from __future__ import annotations

from datetime import timedelta

from ketaclinic.care import service
from ketaclinic.platform.jobs import Job, JobContext


def escalate_boosters(ctx: JobContext) -> str:
    with ctx.transaction() as db:
        return (
            f"{service.escalate_unanswered_boosters(db, now=ctx.now)} booster proposal(s) escalated"
        )


def escalate_decisions(ctx: JobContext) -> str:
    with ctx.transaction() as db:
        first, escalated = service.escalate_decisions_due(db, now=ctx.now)
    return f"course decisions: {first} sent to the primary clinician, {escalated} escalated"


def relapse_sweep(ctx: JobContext) -> str:
    with ctx.transaction() as db:
        return f"{service.relapse_sweep(db)} booster(s) proposed by the relapse rule"


JOBS = [
    Job(
        "care.escalate_boosters",
        "Send every booster proposal the primary clinician left unanswered past the "
        "clinic's business days to every prescriber",
        escalate_boosters,
        every=timedelta(minutes=15),
    ),
    Job(
        "care.escalate_decisions",
        "Send each course decision that came due to the primary clinician, and to every "
        "prescriber when unanswered past the clinic's business days",
        escalate_decisions,
        every=timedelta(minutes=15),
    ),
    Job(
        "care.relapse_sweep",
        "Look at every course in maintenance with the relapse rule, once a day",
        relapse_sweep,
        every=timedelta(days=1),
    ),
]
