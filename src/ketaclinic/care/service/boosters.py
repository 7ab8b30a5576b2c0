"""Boosters proposed by the relapse rule or asked for by the patient (``score_recorded``,
``request_booster``, ``accept_booster``, ``decline_booster``), escalated to every
prescriber when the primary clinician leaves them unanswered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.care.models import BoosterProposal, CourseDecision
from ketaclinic.care.service.common import (
    CARE_JOB,
    DECIDERS,
    _maintenance_since,
    _open_proposal,
    _primaries,
    _read,
    _record,
    _require,
    _text,
)
from ketaclinic.care.service.team import primary_clinician_username
from ketaclinic.clinical import calendar
from ketaclinic.clinical.course import plan as clinical_plan
from ketaclinic.configuration import service as configuration
from ketaclinic.orders import service as orders
from ketaclinic.outcomes import service as outcomes
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.clock import clinic_today
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Forbidden, NotFound
from ketaclinic.platform.settings import get_settings

# Scores taken on the course's schedule or at a visit count for the relapse rule; a
# pre-session score is taken at a dosing session and a rapid-response score 24 hours
# after the first one, neither of which says whether maintenance holds.
RELAPSE_CONTEXTS = ("weekly", "monthly", "visit")


def _tell_prescriber(db: Session, patient_id: int, subject: str, path: str) -> list[str]:
    """The primary clinician first; without one, every prescriber."""
    primary = primary_clinician_username(db, patient_id=patient_id)
    team = [primary] if primary else outcomes.prescriber_usernames(db)
    return outcomes.message_staff(
        db,
        usernames=team,
        kind="booster_proposal",
        subject=subject,
        body=f"{subject}. Review it:",
        patient_id=patient_id,
        path=path,
    )


def relapse_check(
    db: Session, *, patient_id: int, instrument_id: str
) -> tuple[orders.Course, clinical_plan.RelapseSignal] | None:
    """The relapse signal on the active course's maintenance scores, if any."""
    course = orders.latest_course(db, patient_id)
    if course is None or course.status != "active":
        return None
    since = _maintenance_since(db, course.id)
    if since is None:
        return None
    rules = clinical_plan.relapse_rules(configuration.clinic_overrides(db, "course.relapse"))
    for rule in rules.values():
        if rule.instrument_id != instrument_id:
            continue
        points = outcomes.score_history(
            db, actor=CARE_JOB, patient_id=patient_id, instrument_id=instrument_id
        )
        scores = [
            float(p.total)
            for p in points
            if p.total is not None and p.completed_at >= since and p.context in RELAPSE_CONTEXTS
        ]
        signal = clinical_plan.relapse_signal(rule, scores)
        if signal is not None:
            return course, signal
    return None


def score_recorded(db: Session, *, patient_id: int, instrument_id: str, response_id: int) -> None:
    """Answers ``platform.ports.score_recorded``: in maintenance, a score that completes
    the relapse rule proposes a booster to the prescriber (one open proposal at a time)."""
    if instrument_id not in {r.instrument_id for r in clinical_plan.RELAPSE.values()}:
        return
    _propose_on_signal(
        db, patient_id=patient_id, instrument_id=instrument_id, response_id=response_id
    )


def _propose_on_signal(
    db: Session, *, patient_id: int, instrument_id: str, response_id: int | None
) -> None:
    found = relapse_check(db, patient_id=patient_id, instrument_id=instrument_id)
    if found is None:
        return
    course, signal = found
    if _open_proposal(db, course.id) is not None:
        return
    proposal = BoosterProposal(
        course_id=course.id,
        patient_id=patient_id,
        source="relapse_rule",
        rule_id=signal.rule.id,
        signal=signal.reason,
        response_id=response_id,
        status="proposed",
        proposed_by=CARE_JOB.username,
        proposed_at=utcnow(),
    )
    db.add(proposal)
    db.flush()
    proposal.notified = _tell_prescriber(
        db, patient_id, "Booster proposed: relapse signal", f"/care/boosters/{proposal.id}"
    )
    _record(
        db,
        CARE_JOB,
        "booster.propose",
        patient_id,
        "booster_proposal",
        proposal.id,
        f"relapse rule {signal.rule.id}: {', '.join(f'{v:g}' for v in signal.values)}",
    )
    db.flush()


def relapse_sweep(db: Session) -> int:
    """The daily look at every course in maintenance (not only when a score is
    recorded): a relapse signal with no proposal waiting proposes a booster. Returns the
    number proposed."""
    patient_ids = sorted(
        set(
            db.scalars(
                select(CourseDecision.patient_id).where(CourseDecision.choice == "maintenance")
            )
        )
    )
    instruments = sorted({r.instrument_id for r in clinical_plan.RELAPSE.values()})
    before = len(db.scalars(select(BoosterProposal.id)).all())
    for patient_id in patient_ids:
        for instrument_id in instruments:
            _propose_on_signal(
                db, patient_id=patient_id, instrument_id=instrument_id, response_id=None
            )
    return len(db.scalars(select(BoosterProposal.id)).all()) - before


def escalation_due_at(db: Session, proposal: BoosterProposal) -> datetime:
    """The proposal's time plus the clinic's business days, at the same clinic time."""
    rule = clinical_plan.escalation_rules(configuration.clinic_overrides(db, "course.escalation"))[
        "booster_proposal"
    ]
    zone = get_settings().zone
    local = proposal.proposed_at.astimezone(zone)
    day = calendar.add_business_days(local.date(), rule.business_days, configuration.holidays(db))
    return datetime.combine(day, local.timetz())


def escalate_unanswered_boosters(db: Session, *, now: datetime) -> int:
    """A proposal the primary clinician has not answered in time goes to every
    prescriber (those not told yet); a proposal already sent to every prescriber needs
    no escalation. Returns the number escalated."""
    escalated = 0
    prescribers = outcomes.prescriber_usernames(db)
    waiting = db.scalars(select(BoosterProposal).where(BoosterProposal.status == "proposed"))
    for proposal in list(waiting):
        told = set(proposal.notified or [])
        missing = [u for u in prescribers if u not in told]
        if not missing or escalation_due_at(db, proposal) > now:
            continue
        outcomes.message_staff(
            db,
            usernames=missing,
            kind="booster_proposal",
            subject="Booster proposal unanswered: escalated",
            body="A booster proposal waits past its time for an answer. Review it:",
            patient_id=proposal.patient_id,
            path=f"/care/boosters/{proposal.id}",
        )
        proposal.notified = sorted(told | set(missing))
        _record(
            db,
            CARE_JOB,
            "booster.escalate",
            proposal.patient_id,
            "booster_proposal",
            proposal.id,
            f"unanswered: to {len(missing)} prescriber(s)",
        )
        escalated += 1
    db.flush()
    return escalated


def request_booster(db: Session, *, actor: Actor, note: str = "") -> BoosterProposal:
    """The patient asks for a booster from the portal: a proposal for the prescriber."""
    if not actor.patient_only or actor.patient_id is None:
        raise Forbidden("a patient asks for a booster from their own portal")
    patient_id = actor.patient_id
    course = orders.latest_course(db, patient_id)
    if course is None or course.status != "active":
        raise Conflict("you have no active treatment course: call the clinic")
    if _open_proposal(db, course.id) is not None:
        raise Conflict("a booster is already waiting for your prescriber's answer")
    text = _text(note, field="note", what="a note", required=False, limit=1000)
    proposal = BoosterProposal(
        course_id=course.id,
        patient_id=patient_id,
        source="patient_request",
        signal=f"The patient asked for a booster{': ' + text if text else ''}",
        status="proposed",
        proposed_by=actor.username,
        proposed_at=utcnow(),
    )
    db.add(proposal)
    db.flush()
    proposal.notified = _tell_prescriber(
        db, patient_id, "Booster requested by the patient", f"/care/boosters/{proposal.id}"
    )
    _record(db, actor, "booster.request", patient_id, "booster_proposal", proposal.id, "portal")
    db.flush()
    return proposal


def _proposal(db: Session, actor: Actor, proposal_id: int) -> BoosterProposal:
    row = db.get(BoosterProposal, proposal_id)
    if row is None:
        raise NotFound(f"no booster proposal {proposal_id}")
    patients.check_patient(db, actor=actor, patient_id=row.patient_id)
    return row


def get_proposal(db: Session, *, actor: Actor, proposal_id: int) -> BoosterProposal:
    _require(actor, DECIDERS, "answer booster proposals")
    row = _proposal(db, actor, proposal_id)
    _read(db, actor, "booster.view", row.patient_id, "booster_proposal", f"proposal {row.id}")
    db.flush()
    return row


def accept_booster(
    db: Session, *, actor: Actor, proposal_id: int, earliest_on: date | None = None
) -> BoosterProposal:
    """The prescriber accepts: a planned booster session the front desk books."""
    _require(actor, DECIDERS, "answer booster proposals")
    row = _proposal(db, actor, proposal_id)
    if row.status != "proposed":
        raise Conflict(f"this proposal was already {row.status} by {row.decided_by}")
    planned = orders.add_planned_sessions(
        db,
        actor=actor,
        course_id=row.course_id,
        kind="booster",
        earliest_on=[earliest_on or clinic_today()],
        reason=f"booster proposal {row.id} accepted",
    )
    row.status = "accepted"
    row.decided_by = actor.username
    row.decided_at = utcnow()
    row.planned_session_id = planned[0].id
    _record(
        db,
        actor,
        "booster.accept",
        row.patient_id,
        "booster_proposal",
        row.id,
        f"planned session {planned[0].number}",
    )
    db.flush()
    return row


def decline_booster(db: Session, *, actor: Actor, proposal_id: int, reason: str) -> BoosterProposal:
    _require(actor, DECIDERS, "answer booster proposals")
    row = _proposal(db, actor, proposal_id)
    if row.status != "proposed":
        raise Conflict(f"this proposal was already {row.status} by {row.decided_by}")
    row.decline_reason = _text(
        reason, field="reason", what="why the booster is declined", required=True
    )
    row.status = "declined"
    row.decided_by = actor.username
    row.decided_at = utcnow()
    _record(
        db, actor, "booster.decline", row.patient_id, "booster_proposal", row.id, row.decline_reason
    )
    db.flush()
    return row


@dataclass
class ProposalRow:
    proposal: BoosterProposal
    patient_name: str
    mine: bool


def open_proposals(db: Session, *, actor: Actor) -> list[ProposalRow]:
    """Booster proposals waiting for a prescriber: the actor's own patients (they are the
    primary clinician) first."""
    _require(actor, DECIDERS, "answer booster proposals")
    rows = list(
        db.scalars(
            select(BoosterProposal)
            .where(BoosterProposal.status == "proposed")
            .order_by(BoosterProposal.proposed_at)
            .limit(100)
        )
    )
    names = patients.display_names(db, {r.patient_id for r in rows})
    primaries = _primaries(db, {r.patient_id for r in rows})
    result = [
        ProposalRow(r, names.get(r.patient_id, ""), primaries.get(r.patient_id) == actor.username)
        for r in rows
    ]
    for pid in sorted({r.patient_id for r in rows}):
        _read(db, actor, "booster.list", pid, "booster_proposal", "open proposals")
    db.flush()
    return sorted(result, key=lambda r: (not r.mine, r.proposal.proposed_at))
