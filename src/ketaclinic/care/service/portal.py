"""The patient's own plan in the portal (``my_plan``): sessions done and planned, therapy
sessions, and their scores over time in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.care.models import BoosterProposal, TherapySession
from ketaclinic.care.service.common import _open_proposal, _read
from ketaclinic.orders import service as orders
from ketaclinic.outcomes import service as outcomes
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.errors import Forbidden


@dataclass
class ScoreWords:
    instrument: str
    when: datetime
    total: int
    words: str


@dataclass
class PortalPlan:
    done: list[orders.PlannedSession]
    planned: list[orders.PlannedSession]
    therapy: list[TherapySession]
    scores: list[ScoreWords]
    proposal: BoosterProposal | None
    has_course: bool


_NAMES = {"phq9": "PHQ-9 (depression)", "gad7": "GAD-7 (anxiety)", "pcl5": "PCL-5 (PTSD)"}


def score_words(instrument_id: str, total: int, first: int | None, severity: str | None) -> str:
    """A score in plain words: its band, and how it compares with the first one (lower
    is better on every questionnaire shown here)."""
    band = f"{severity.replace('_', ' ')} range" if severity else "scored"
    if first is None or first == total:
        compare = "the same as your first score" if first is not None else "your first score"
    elif total < first:
        compare = f"{first - total} points lower than your first score ({first}), an improvement"
    else:
        compare = f"{total - first} points higher than your first score ({first})"
    return f"{total}: {band}; {compare}"


def my_plan(db: Session, *, actor: Actor) -> PortalPlan:
    """The patient's own plan: sessions done and planned, therapy sessions, and their
    scores over time in plain words."""
    if not actor.patient_only or actor.patient_id is None:
        raise Forbidden("the plan page is the patient's own")
    patient_id = actor.patient_id
    planned = orders.planned_sessions_of_patient(db, patient_id)
    course = orders.latest_course(db, patient_id)
    therapy = list(
        db.scalars(
            select(TherapySession)
            .where(TherapySession.patient_id == patient_id)
            .order_by(TherapySession.starts_at)
        )
    )
    points = outcomes.score_history(db, actor=actor, patient_id=patient_id)
    firsts: dict[str, int] = {}
    scores: list[ScoreWords] = []
    for p in points:
        if p.total is None or p.instrument_id not in _NAMES:
            continue
        first = firsts.get(p.instrument_id)
        if first is None:
            firsts[p.instrument_id] = p.total
        scores.append(
            ScoreWords(
                _NAMES[p.instrument_id],
                p.completed_at,
                p.total,
                score_words(p.instrument_id, p.total, first, p.severity),
            )
        )
    proposal = _open_proposal(db, course.id) if course is not None else None
    _read(db, actor, "care.portal_plan", patient_id, "planned_session", f"{len(planned)} sessions")
    db.flush()
    return PortalPlan(
        done=[p for p in planned if p.status == "completed"],
        planned=[p for p in planned if p.status in ("planned", "booked")],
        therapy=therapy,
        scores=list(reversed(scores)),
        proposal=proposal,
        has_course=course is not None and course.status == "active",
    )
