"""The care area's jobs with a hand-set clock: a booster proposal the primary clinician
leaves unanswered goes to every prescriber after 2 business days; the daily relapse
sweep proposes a booster from scores already recorded; a course decision due goes to the
primary clinician first, then to every prescriber."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.care import jobs as care_jobs
from ketaclinic.care import service
from ketaclinic.care.models import BoosterProposal
from ketaclinic.orders import service as orders
from ketaclinic.platform import jobs
from ketaclinic.platform.audit.models import AuditEvent
from tests.care.factories import a_patient_on_course, a_user, on_team
from tests.care.test_service import _monthly_phq9, _planned
from tests.orders.factories import signer


def _proposal_waiting(db: Session) -> BoosterProposal:
    if hasattr(_monthly_phq9, "nurse"):
        del _monthly_phq9.nurse
    patient, course = a_patient_on_course(db)
    a_user(db, "prescriber", "dr.other")
    primary = a_user(db, "prescriber", "dr.primary")
    on_team(db, patient, primary, "prescriber", primary=True)
    decided = service.decide(
        db,
        actor=signer(db),
        course_id=course.id,
        choice="maintenance",
        reason="remission",
        schedule_id="iv_taper",
    ).decision
    at = decided.decided_at + timedelta(minutes=1)
    _monthly_phq9(db, patient.id, 11, at)
    _monthly_phq9(db, patient.id, 13, at + timedelta(seconds=1))
    proposal = db.scalar(select(BoosterProposal))
    assert proposal is not None and proposal.notified == ["dr.primary"]
    return proposal


def test_an_unanswered_proposal_goes_to_every_prescriber_after_2_business_days(
    db: Session,
) -> None:
    proposal = _proposal_waiting(db)
    # Proposed on a Friday 10:00 UTC: 2 business days later is Tuesday 10:00 (the
    # weekend does not count), computed by hand.
    proposal.proposed_at = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    db.flush()
    monday = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert service.escalate_unanswered_boosters(db, now=monday) == 0
    assert proposal.notified == ["dr.primary"]
    tuesday = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert service.escalate_unanswered_boosters(db, now=tuesday) == 1
    assert {"dr.other", "dr.primary"} <= set(proposal.notified)
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "booster.escalate"))
    # Once everyone is told, it is not escalated again.
    assert service.escalate_unanswered_boosters(db, now=tuesday + timedelta(days=3)) == 0


def test_a_proposal_made_before_christmas_waits_past_the_holiday(db: Session) -> None:
    proposal = _proposal_waiting(db)
    # Thursday 24 December 2026 10:00 UTC (05:00 in New York); Friday 25 is Christmas
    # Day: 2 business days later is Tuesday 29 December at 05:00 clinic time, 10:00 UTC.
    proposal.proposed_at = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)
    db.flush()
    assert service.escalation_due_at(db, proposal) == datetime(2026, 12, 29, 10, 0, tzinfo=UTC)
    assert service.escalate_unanswered_boosters(db, now=datetime(2026, 12, 28, 23, tzinfo=UTC)) == 0
    assert service.escalate_unanswered_boosters(db, now=datetime(2026, 12, 29, 10, tzinfo=UTC)) == 1


def test_an_answered_proposal_is_not_escalated(db: Session) -> None:
    proposal = _proposal_waiting(db)
    service.accept_booster(db, actor=signer(db), proposal_id=proposal.id)
    later = proposal.proposed_at + timedelta(days=10)
    assert service.escalate_unanswered_boosters(db, now=later) == 0
    assert proposal.notified == ["dr.primary"]


def test_the_daily_sweep_proposes_from_scores_already_recorded(db: Session) -> None:
    proposal = _proposal_waiting(db)
    # The clinic removes the proposal (as if the scores had come in before the rule ran).
    db.delete(proposal)
    db.flush()
    assert db.scalar(select(BoosterProposal)) is None
    assert service.relapse_sweep(db) == 1
    assert service.relapse_sweep(db) == 0  # one open proposal at a time


def test_the_care_jobs_are_declared_on_the_clock() -> None:
    names = {job.name for job in jobs.scheduled()}
    assert {"care.escalate_boosters", "care.escalate_decisions", "care.relapse_sweep"} <= names
    assert jobs.get("care.relapse_sweep").cron == "0 2 * * *"
    assert care_jobs.JOBS[0].every == timedelta(minutes=15)


def test_a_decision_due_goes_to_the_primary_clinician_then_to_every_prescriber(
    db: Session,
) -> None:
    primary = a_user(db, "prescriber", "dr.primary")
    a_user(db, "prescriber", "dr.other")
    patient, course = a_patient_on_course(db)
    on_team(db, patient, primary, "prescriber", primary=True)
    for p in _planned(db, course.id)[:6]:
        orders.mark_planned_session(db, actor=primary, planned_session_id=p.id, status="completed")
    now = datetime.now(UTC)
    assert service.escalate_decisions_due(db, now=now) == (1, 0)
    sent = db.scalar(select(AuditEvent).where(AuditEvent.action == "course.decision_notify"))
    assert sent is not None and sent.detail == "to 1 clinician(s)"  # the primary alone
    assert service.escalate_decisions_due(db, now=now) == (0, 0)  # not twice, not yet
    # A week later (at least 2 business days whatever the weekday): every prescriber.
    week = now + timedelta(days=7)
    assert service.escalate_decisions_due(db, now=week) == (0, 1)
    assert service.escalate_decisions_due(db, now=week) == (0, 0)
    # Decided: nothing more is sent.
    service.decide(
        db, actor=primary, course_id=course.id, choice="extend", reason="partial", extra_sessions=2
    )
    assert service.escalate_decisions_due(db, now=week + timedelta(days=7)) == (0, 0)
