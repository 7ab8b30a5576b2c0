"""What the care area's acts share: who may do what, the course decision's choices, the
care-plan checks that act on their own, auditing, text checks, and the reads several acts
make. Every read and write of patient data is audited; services flush, the request or job
commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.care.models import BoosterProposal, CareTeamMember, CourseDecision
from ketaclinic.clinical.course import plan as clinical_plan
from ketaclinic.configuration import service as configuration
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.errors import Forbidden, Invalid
from ketaclinic.platform.roles import Role

# Who keeps the care team: the prescriber and the front desk (who registers referrals).
TEAM_KEEPERS = frozenset({Role.prescriber, Role.front_desk})
TEAM_READERS = frozenset({Role.prescriber, Role.nurse, Role.front_desk, Role.therapist})
# Psychotherapy is written by therapists (and prescribers who give it themselves).
THERAPY_WRITERS = frozenset({Role.therapist, Role.prescriber})
THERAPY_READERS = frozenset({Role.therapist, Role.prescriber, Role.nurse})
THERAPY_BOOKERS = frozenset({Role.therapist, Role.prescriber, Role.front_desk})
MEDICATION_WRITERS = frozenset({Role.prescriber, Role.nurse})
MEDICATION_READERS = frozenset({Role.prescriber, Role.nurse, Role.therapist})
DECIDERS = frozenset({Role.prescriber})
PLAN_READERS = frozenset({Role.prescriber, Role.nurse, Role.front_desk})
CHOICES: dict[str, str] = {
    "extend": "Extend the induction",
    "titrate": "Titrate within the protocol's range",
    "maintenance": "Move to maintenance boosters",
    "switch_route": "Switch route",
    "stop": "Stop the course",
}
CARE_JOB = Actor(
    user_id=None,
    username="care-plan",
    full_name="care plan checks",
    roles=frozenset({Role.nurse}),
)


def _require(actor: Actor, roles: frozenset[Role], what: str) -> None:
    if not actor.roles & roles:
        raise Forbidden(f"your role does not permit you to {what}")


def _record(
    db: Session, actor: Actor, action: str, patient_id: int, kind: str, oid: object, detail: str
) -> None:
    audit.record(
        db,
        actor=actor,
        action=action,
        patient_id=patient_id,
        object_type=kind,
        object_id=oid,
        detail=detail[:300],
    )


def _read(db: Session, actor: Actor, action: str, patient_id: int, kind: str, detail: str) -> None:
    audit.note_read(
        db, actor=actor, action=action, patient_id=patient_id, object_type=kind, detail=detail
    )


def _text(value: str | None, *, field: str, what: str, required: bool, limit: int = 4000) -> str:
    cleaned = (value or "").strip()
    if required and len(cleaned) < 3:
        raise Invalid(f"write {what}", fields={field: "required"})
    if len(cleaned) > limit:
        raise Invalid(
            f"{what} is too long ({limit} characters at most)", fields={field: "too long"}
        )
    return cleaned


def _primaries(db: Session, patient_ids: set[int]) -> dict[int, str]:
    """``primary_clinician_username`` for several patients, in one query."""
    if not patient_ids:
        return {}
    return dict(
        db.execute(
            select(CareTeamMember.patient_id, User.username)
            .join(User, User.id == CareTeamMember.user_id)
            .where(
                CareTeamMember.patient_id.in_(sorted(patient_ids)),
                CareTeamMember.primary.is_(True),
                CareTeamMember.ended_at.is_(None),
                User.active.is_(True),
            )
        ).all()
    )


def _current_members(db: Session, patient_id: int) -> list[CareTeamMember]:
    return list(
        db.scalars(
            select(CareTeamMember)
            .where(CareTeamMember.patient_id == patient_id, CareTeamMember.ended_at.is_(None))
            .order_by(CareTeamMember.primary.desc(), CareTeamMember.role, CareTeamMember.id)
        )
    )


def _maintenance_rows(db: Session) -> dict[str, clinical_plan.MaintenanceSchedule]:
    overrides = configuration.clinic_overrides(db, "course.maintenance")
    return {k: clinical_plan.maintenance(k, overrides) for k in clinical_plan.MAINTENANCE}


def _decisions(db: Session, course_id: int) -> list[CourseDecision]:
    return list(
        db.scalars(
            select(CourseDecision)
            .where(CourseDecision.course_id == course_id)
            .order_by(CourseDecision.decided_at.desc(), CourseDecision.id.desc())
        )
    )


def _maintenance_since(db: Session, course_id: int) -> datetime | None:
    """When the course moved to maintenance, if it did."""
    for row in _decisions(db, course_id):
        if row.choice == "maintenance":
            return row.decided_at
    return None


def _open_proposal(db: Session, course_id: int) -> BoosterProposal | None:
    return db.scalars(
        select(BoosterProposal)
        .where(BoosterProposal.course_id == course_id, BoosterProposal.status == "proposed")
        .limit(1)
    ).first()
