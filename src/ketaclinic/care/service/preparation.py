"""The preparation before the first dose: whether the signed preparation notes a
protocol asks for are on file (``platform.ports.preparation_check``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.care.models import TherapyNote, TherapySession
from ketaclinic.clinical.course import plan as clinical_plan
from ketaclinic.configuration import service as configuration
from ketaclinic.platform import ports

PREPARATION_LABEL = "Preparation therapy note signed before the first dose"


def preparation_check(
    db: Session, *, patient_id: int, protocol_id: str, course_id: int
) -> ports.PreparationCheck | None:
    """Answers ``platform.ports.preparation_check``: for a protocol whose row in the
    clinic's ``course.preparation`` table is required, whether the signed preparation
    notes (of sessions of this course, or of no course) are on file. Flush-free; the
    session's read audits itself."""
    rules = clinical_plan.preparation_requirements(
        configuration.overrides_for(db, "course.preparation")
    )
    rule = rules.get(protocol_id)
    if rule is None or not rule.required:
        return None
    signed = len(
        db.scalars(
            select(TherapyNote.id)
            .join(TherapySession, TherapySession.id == TherapyNote.therapy_session_id)
            .where(
                TherapySession.patient_id == patient_id,
                TherapySession.phase == "preparation",
                TherapyNote.kind == "note",
                (TherapySession.course_id == course_id) | TherapySession.course_id.is_(None),
            )
        ).all()
    )
    status = clinical_plan.preparation_status(rule, signed)
    return ports.PreparationCheck(
        id="preparation",
        label=PREPARATION_LABEL,
        met=status.met,
        text=status.text,
        basis=rule.source,
        evidence=rule.evidence,
    )
