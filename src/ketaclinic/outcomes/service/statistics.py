"""Clinic outcomes: response and remission rates by indication and protocol, with 95%
Wilson score intervals (Wilson EB, "Probable inference, the law of succession, and
statistical inference", J Am Stat Assoc 1927;22:209-212)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ketaclinic.outcomes.models import CourseSummaryRow
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.errors import Invalid
from ketaclinic.platform.roles import Role

Z_95 = 1.959963984540054  # two-sided 95% normal quantile
READERS = frozenset({Role.prescriber, Role.admin, Role.researcher})


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for a proportion (closed form, Wilson 1927)."""
    if n <= 0:
        raise ValueError("an interval needs at least one observation")
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Rate:
    count: int
    n: int
    low: float | None
    high: float | None

    @property
    def rate(self) -> float | None:
        return self.count / self.n if self.n else None


def rate(count: int, n: int) -> Rate:
    low, high = wilson_interval(count, n) if n else (None, None)
    return Rate(count, n, low, high)


@dataclass(frozen=True)
class GroupOutcome:
    indication: str
    protocol_id: str
    courses: int
    evaluable: int
    response: Rate
    remission: Rate


def clinic_outcomes(
    db: Session, *, actor: Actor, start: datetime, end: datetime
) -> list[GroupOutcome]:
    """Courses created in [start, end): counts only, nothing that names a patient."""
    if not actor.roles & READERS:
        raise Invalid("clinic outcomes are for prescribers, the medical director and research")
    if end <= start:
        raise Invalid("the period must end after it starts", fields={"end": "before start"})
    # One aggregate statement over the kept course summaries (``summaries``), however
    # many courses, sessions and scores the clinic holds. A course is evaluable when its
    # primary instrument has a score against a baseline (``response`` is then set); its
    # remission counts where that instrument has a remission cut-off.
    kept = CourseSummaryRow
    responding = case((kept.response.is_(True) | kept.remission.is_(True), 1), else_=0)
    remitted = case((kept.remission.is_(True), 1), else_=0)
    rows = db.execute(
        select(
            kept.indication,
            kept.protocol_id,
            func.count(),
            func.count(kept.response),
            func.coalesce(func.sum(responding), 0),
            func.count(case((kept.response.is_not(None), kept.remission))),
            func.coalesce(func.sum(remitted), 0),
        )
        .where(kept.opened_at >= start, kept.opened_at < end)
        .group_by(kept.indication, kept.protocol_id)
        .order_by(kept.indication, kept.protocol_id)
    ).all()
    result = [
        GroupOutcome(
            indication=indication,
            protocol_id=protocol,
            courses=int(courses),
            evaluable=int(evaluable),
            response=rate(int(responded), int(evaluable)),
            remission=rate(int(remissions), int(with_cutoff)),
        )
        for indication, protocol, courses, evaluable, responded, with_cutoff, remissions in rows
    ]
    audit.note_read(
        db,
        actor=actor,
        action="research.outcomes_summary",
        object_type="course",
        detail=f"{start:%Y-%m-%d} to {end:%Y-%m-%d}: {sum(g.courses for g in result)} courses",
    )
    db.flush()
    return result
