"""Which questionnaires are due when: pure rules over a course's facts (no database).

A slot names one occasion (``course7:pre_session:3``) so that the scheduled work makes
each request once however often it runs. Windows (how long a slot stays open) are
clinic convention unless marked otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ketaclinic.clinical.course import RULES as COURSE_RULES
from ketaclinic.outcomes.service.config import ANY, TIMING_CONTEXT, ScheduleRule

# Windows: clinic convention, no source; a clinic changes them here or by override.
BASELINE_OPEN_DAYS = 30  # without any session booked, a baseline stays open this long
PRE_SESSION_LEAD = timedelta(hours=48)  # a pre-session questionnaire opens 48 h ahead
WEEKLY = timedelta(days=7)
WEEKLY_WINDOW = timedelta(days=3)
MONTHLY = timedelta(days=28)
MONTHLY_WINDOW = timedelta(days=7)
# 24 hours after the first session, matched within half a day: the course rules
# rapid_response_day and rapid_response_window_day (clinical-reference section 5).
RAPID_DAY = timedelta(days=COURSE_RULES["rapid_response_day"].value)
RAPID_WINDOW = timedelta(days=COURSE_RULES["rapid_response_window_day"].value)


@dataclass(frozen=True)
class SessionTime:
    number: int
    at: datetime


@dataclass(frozen=True)
class CourseFacts:
    course_id: int
    patient_id: int
    indication: str
    protocol_id: str
    series_sessions: int
    created_at: datetime
    completed: Sequence[SessionTime] = ()
    upcoming: Sequence[SessionTime] = ()


@dataclass(frozen=True)
class Slot:
    instrument_id: str
    context: str
    slot: str
    due_at: datetime
    expires_at: datetime
    delivery: str


def applies(rule: ScheduleRule, facts: CourseFacts) -> bool:
    return rule.indication in (ANY, facts.indication)


def _occasions(
    rule: ScheduleRule, facts: CourseFacts, now: datetime
) -> Iterable[tuple[str, datetime, datetime]]:
    """(slot suffix, due, expires) for every occasion of the rule up to ``now``."""
    done = sorted(facts.completed, key=lambda s: s.at)
    first = done[0].at if done else None
    if rule.timing == "baseline":
        upcoming = sorted(s.at for s in facts.upcoming)
        closes = first or (upcoming[0] if upcoming else None)
        yield (
            "baseline",
            facts.created_at,
            closes or facts.created_at + timedelta(days=BASELINE_OPEN_DAYS),
        )
    elif rule.timing == "pre_session":
        for s in facts.upcoming:
            yield f"pre_session:{s.number}", s.at - PRE_SESSION_LEAD, s.at
    elif rule.timing == "rapid_response" and first is not None:
        due = first + RAPID_DAY
        yield "rapid_response", due, due + RAPID_WINDOW
    elif rule.timing == "weekly_induction" and first is not None:
        induction_end = (
            done[facts.series_sessions - 1].at if len(done) >= facts.series_sessions else None
        )
        k = 1
        while (due := first + k * WEEKLY) <= now:
            if induction_end is not None and due > induction_end:
                break
            yield f"weekly:{k}", due, due + WEEKLY_WINDOW
            k += 1
    elif rule.timing == "monthly_maintenance" and len(done) >= max(facts.series_sessions, 1):
        end = done[max(facts.series_sessions, 1) - 1].at
        k = 1
        while (due := end + k * MONTHLY) <= now:
            yield f"monthly:{k}", due, due + MONTHLY_WINDOW
            k += 1


def due_slots(rules: Iterable[ScheduleRule], facts: CourseFacts, now: datetime) -> list[Slot]:
    """The slots open at ``now`` (due and not yet expired)."""
    found: list[Slot] = []
    for rule in rules:
        if not applies(rule, facts):
            continue
        for suffix, due, expires in _occasions(rule, facts, now):
            if due <= now < expires:
                found.append(
                    Slot(
                        instrument_id=rule.instrument_id,
                        context=TIMING_CONTEXT[rule.timing],
                        slot=f"course{facts.course_id}:{suffix}",
                        due_at=due,
                        expires_at=expires,
                        delivery=rule.delivery,
                    )
                )
    return found
