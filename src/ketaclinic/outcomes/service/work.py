"""The background work, run as a command (``ketaclinic jobs run``): make the
questionnaire requests that have come due, expire old ones, escalate alerts nobody has
acknowledged, and deliver the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ketaclinic.outcomes.models import QuestionnaireRequest, QuestionnaireResponse
from ketaclinic.outcomes.service import alerts, config, context, schedule
from ketaclinic.outcomes.service.access import JOB
from ketaclinic.outcomes.service.outbox import Delivery, Transport, deliver_pending
from ketaclinic.outcomes.service.requests import create_request
from ketaclinic.patients import service as patients
from ketaclinic.platform.audit import service as audit


@dataclass(frozen=True)
class WorkReport:
    requests_created: int
    requests_expired: int
    alerts_escalated: int
    delivery: Delivery | None

    def summary(self) -> str:
        parts = [
            f"{self.requests_created} questionnaire request(s) made",
            f"{self.requests_expired} expired",
            f"{self.alerts_escalated} alert(s) escalated",
        ]
        if self.delivery is not None:
            d = self.delivery
            parts.append(f"messages: {d.sent} sent, {d.failed} failed, {d.skipped} skipped")
        return "; ".join(parts)


def expire_requests(db: Session, *, now: datetime) -> int:
    result = db.execute(
        update(QuestionnaireRequest)
        .where(QuestionnaireRequest.status == "open", QuestionnaireRequest.expires_at <= now)
        .values(status="expired")
    )
    db.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def make_due_requests(db: Session, *, now: datetime) -> int:
    """A savepoint per course, so a course another run has just served does not stop
    the others."""
    rules = config.schedule(db)
    made = 0
    for course in context.active_courses(db):
        facts = context.course_facts(db, actor=JOB, course=course, now=now)
        slots = schedule.due_slots(rules, facts, now)
        existing = set(
            db.execute(
                select(QuestionnaireRequest.instrument_id, QuestionnaireRequest.slot).where(
                    QuestionnaireRequest.patient_id == course.patient_id
                )
            ).all()
        )
        answered = db.execute(
            select(QuestionnaireResponse.instrument_id, QuestionnaireResponse.completed_at).where(
                QuestionnaireResponse.patient_id == course.patient_id,
                QuestionnaireResponse.status == "final",
            )
        ).all()
        # A questionnaire already filled in the slot's window (at a visit, on the portal)
        # is not asked again.
        new = [
            s
            for s in slots
            if (s.instrument_id, s.slot) not in existing
            and not any(
                i == s.instrument_id and s.due_at <= at < s.expires_at for i, at in answered
            )
        ]
        if not new:
            continue
        patient = patients.get_patient(
            db, actor=JOB, patient_id=course.patient_id, purpose="questionnaire_schedule"
        )
        try:
            with db.begin_nested():
                for s in new:
                    create_request(
                        db,
                        patient=patient,
                        course_id=course.id,
                        instrument_id=s.instrument_id,
                        context=s.context,
                        slot=s.slot,
                        delivery=s.delivery,
                        due_at=s.due_at,
                        expires_at=s.expires_at,
                        created_by=JOB.username,
                    )
                audit.record(
                    db,
                    actor=JOB,
                    action="questionnaire.schedule",
                    patient_id=patient.id,
                    object_type="course",
                    object_id=course.id,
                    detail=", ".join(f"{s.instrument_id} {s.slot}" for s in new),
                )
        except IntegrityError:
            continue  # another run made them first
        made += len(new)
    return made


def run_due_work(
    db: Session, *, now: datetime, transport: Transport | None = None, deliver: bool = True
) -> WorkReport:
    expired = expire_requests(db, now=now)
    made = make_due_requests(db, now=now)
    escalated = alerts.escalate_due(db, now=now)
    delivery = deliver_pending(db, now=now, transport=transport) if deliver else None
    return WorkReport(made, expired, len(escalated), delivery)
