"""The demo clinic's outcomes: months of baseline, pre-session, 24-hour, weekly and
monthly scores for every course with sessions (responders, remitters, non-responders
and one relapse), suicidality alerts (two acknowledged, one open) and due questionnaire
links waiting in the outbox."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ketaclinic.demo import DemoClinic
from ketaclinic.orders import service as orders
from ketaclinic.outcomes.service import acknowledge, context, responses
from ketaclinic.outcomes.service.work import make_due_requests
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.db import utcnow

PROFILES = ("responder", "remitter", "non_responder", "responder", "partial", "remitter")
MAINTENANCE = timedelta(days=28)


def _ratio(profile: str, day: float, relapse_from: float | None) -> float:
    """Score as a fraction of baseline, ``day`` days after the first session. Ketamine
    responders drop within 24 hours (e.g. PHQ-9 about 19 to 9)."""
    if day < 0:
        return 1.0
    if relapse_from is not None and day >= relapse_from:
        return 0.7 + min(0.15, (day - relapse_from) / 200)
    if profile == "remitter":
        return max(0.15, 0.45 - 0.02 * day)
    if profile == "responder" or profile == "relapse":
        return 0.48 if day < 2 else 0.42
    if profile == "partial":
        return 0.72 if day < 2 else 0.65
    return 0.92 if day < 7 else 0.88


def _answers(rng: random.Random, total: int, items: int, top: int, last: int = 0) -> list[int]:
    """Item values adding up to ``total`` (the last item fixed to ``last``)."""
    values = [0] * items
    values[-1] = last
    left = max(0, total - last)
    free = list(range(items - 1))
    while left > 0 and free:
        i = rng.choice(free)
        values[i] += 1
        left -= 1
        if values[i] == top:
            free.remove(i)
    return values


class _Course:
    def __init__(
        self, clinic: DemoClinic, course: orders.Course, sessions: list[datetime], profile: str
    ):
        self.rng = clinic.rng
        self.course = course
        self.sessions = sessions
        self.profile = profile
        self.first = sessions[0]
        self.relapse_from: float | None = None
        self.base = {
            "phq9": self.rng.randint(16, 22),
            "gad7": self.rng.randint(11, 17),
            "pcl5": self.rng.randint(44, 62),
        }

    def value(self, instrument: str, at: datetime) -> int:
        day = (at - self.first).total_seconds() / 86400
        noise = self.rng.choice((-1, 0, 0, 1)) * (3 if instrument == "pcl5" else 1)
        score = round(self.base[instrument] * _ratio(self.profile, day, self.relapse_from)) + noise
        top = {"phq9": 27, "gad7": 21, "pcl5": 80}[instrument]
        return max(0, min(top, score))


def build(db: Session, clinic: DemoClinic) -> None:
    nurse = clinic.staff["nurse.okafor"]
    courses = list(clinic.extra.get("courses", []))
    now = utcnow()
    plans: list[_Course] = []
    for index, course in enumerate(courses):
        opened = context.course_opened(course)
        given = [
            s.at
            for s in context.sessions_given(db, actor=nurse, patient_id=course.patient_id)
            if s.at >= opened - timedelta(days=1)
        ]
        if not given:
            continue
        plans.append(_Course(clinic, course, given, PROFILES[index % len(PROFILES)]))
    _one_relapse(plans, now)
    alert_slots = _alert_slots(plans, now)
    for plan in plans:
        _history(db, clinic, plan, nurse, now, alert_slots)
    make_due_requests(db, now=now)


def _one_relapse(plans: list[_Course], now: datetime) -> None:
    """The responder longest in maintenance relapses two months after induction."""
    candidates = [
        p
        for p in plans
        if p.profile == "responder"
        and len(p.sessions) >= p.course.series_sessions
        and now - p.sessions[p.course.series_sessions - 1] > 3 * MAINTENANCE
    ]
    if candidates:
        plan = min(candidates, key=lambda p: p.sessions[p.course.series_sessions - 1])
        plan.profile = "relapse"
        end = plan.sessions[plan.course.series_sessions - 1]
        plan.relapse_from = (end - plan.first).total_seconds() / 86400 + 2 * MAINTENANCE.days - 3


def _alert_slots(plans: list[_Course], now: datetime) -> dict[int, str]:
    """Two past positive item-9 answers (acknowledged) and one today (left open)."""
    slots: dict[int, str] = {}
    picks = [p for p in plans if p.profile in ("non_responder", "partial")]
    for plan, kind in zip(picks, ("acknowledged", "acknowledged_late", "open"), strict=False):
        slots[plan.course.id] = kind
    return slots


def _record(
    db: Session,
    plan: _Course,
    actor: Actor,
    instrument: str,
    at: datetime,
    context_: str,
    item9: int = 0,
) -> None:
    total = plan.value(instrument, at)
    size, top = {"phq9": (9, 3), "gad7": (7, 3), "pcl5": (20, 4)}[instrument]
    last = item9 if instrument == "phq9" else 0
    answers = _answers(plan.rng, max(total, last), size, top, last)
    responses.record(
        db,
        actor=actor,
        patient_id=plan.course.patient_id,
        instrument_id=instrument,
        answers=answers,
        context=context_,
        completed_at=at,
        via="link",
        now=at,
    )


def _history(
    db: Session,
    clinic: DemoClinic,
    plan: _Course,
    nurse: Actor,
    now: datetime,
    alert_slots: dict[int, str],
) -> None:
    rng = plan.rng
    extra = ["pcl5"] if plan.course.indication == "ptsd" else []
    baseline = plan.first - timedelta(days=rng.randint(2, 6), hours=rng.randint(0, 5))
    for instrument in ["phq9", "gad7", *extra]:
        _record(db, plan, nurse, instrument, baseline, "baseline")
    series = plan.course.series_sessions
    for number, at in enumerate(plan.sessions[1:series], start=2):
        _record(db, plan, nurse, "phq9", at - timedelta(hours=rng.randint(2, 20)), "pre_session")
        del number
    rapid = plan.first + timedelta(hours=24, minutes=rng.randint(-90, 90))
    if rapid < now:
        _record(db, plan, nurse, "phq9", rapid, "rapid_response")
    induction_end = plan.sessions[min(series, len(plan.sessions)) - 1]
    week = plan.first + timedelta(days=7)
    while week <= induction_end and week < now:
        for instrument in ["gad7", *extra]:
            _record(
                db, plan, nurse, instrument, week + timedelta(hours=rng.randint(1, 30)), "weekly"
            )
        week += timedelta(days=7)
    if len(plan.sessions) >= series:
        month = induction_end + MAINTENANCE
        while month + timedelta(days=2) < now:
            for instrument in ["phq9", "gad7", *extra]:
                _record(
                    db,
                    plan,
                    nurse,
                    instrument,
                    month + timedelta(hours=rng.randint(1, 40)),
                    "monthly",
                )
            month += MAINTENANCE
    kind = alert_slots.get(plan.course.id)
    if kind is not None:
        _alert(db, clinic, plan, nurse, now, kind)


def _alert(
    db: Session, clinic: DemoClinic, plan: _Course, nurse: Actor, now: datetime, kind: str
) -> None:
    if kind == "open":
        _record(db, plan, nurse, "phq9", now - timedelta(minutes=25), "visit", item9=1)
        return
    at = plan.sessions[min(2, len(plan.sessions) - 1)] - timedelta(hours=6)
    _record(db, plan, nurse, "phq9", at, "pre_session", item9=2 if kind == "acknowledged" else 1)
    alert = (
        db.query(responses.alerts.Alert)
        .filter_by(patient_id=plan.course.patient_id, status="open")
        .one()
    )
    if kind == "acknowledged":
        acknowledge(
            db,
            actor=clinic.staff["dr.rivera"],
            alert_id=alert.id,
            action="safety_plan_reviewed",
            note="Called within the hour; passive thoughts, no plan or intent. Safety plan "
            "reviewed with the patient and partner; session went ahead next day.",
            now=at + timedelta(minutes=35),
        )
    else:
        acknowledge(
            db,
            actor=clinic.staff["dr.chen"],
            alert_id=alert.id,
            action="crisis_line_given",
            note="Reached by phone; gave 988 and the clinic's after-hours line; seen in "
            "person before the session.",
            now=at + timedelta(minutes=50),
        )
