"""Clinic outcomes: response and remission rates by indication and protocol, with 95%
Wilson score intervals (Wilson EB, "Probable inference, the law of succession, and
statistical inference", J Am Stat Assoc 1927;22:209-212)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ketaclinic.outcomes.service import context
from ketaclinic.outcomes.service.progress import evaluated, scored_of
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
    groups: dict[tuple[str, str], list[tuple[bool, bool, bool | None]]] = {}
    # Every course's sessions and scores are read at once, in a fixed number of
    # statements however large the clinic: the standing is then the pure evaluation.
    courses = context.courses_created_between(db, start, end)
    pids = {c.patient_id for c in courses}
    given = context.sessions_given_of(db, patient_ids=pids)
    scored = scored_of(db, pids)
    for course in courses:
        found = evaluated(
            course, given.get(course.patient_id, []), scored.get(course.patient_id, []), now=end
        )
        key = (course.indication, course.protocol_id)
        c = found.primary
        groups.setdefault(key, []).append(
            (
                c is not None,
                bool(c and (c.response or c.remission)),
                None if c is None else c.remission,
            )
        )
    result = []
    for (indication, protocol), rows in sorted(groups.items()):
        evaluable = [r for r in rows if r[0]]
        with_cutoff = [r for r in evaluable if r[2] is not None]
        result.append(
            GroupOutcome(
                indication=indication,
                protocol_id=protocol,
                courses=len(rows),
                evaluable=len(evaluable),
                response=rate(sum(r[1] for r in evaluable), len(evaluable)),
                remission=rate(sum(bool(r[2]) for r in with_cutoff), len(with_cutoff)),
            )
        )
    audit.note_read(
        db,
        actor=actor,
        action="research.outcomes_summary",
        object_type="course",
        detail=f"{start:%Y-%m-%d} to {end:%Y-%m-%d}: {sum(g.courses for g in result)} courses",
    )
    db.flush()
    return result
