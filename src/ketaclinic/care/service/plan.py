"""The care plan page of one patient (``care_plan``): the team, medications, therapy and
course, each part only for the roles that read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.care.models import CareTeamMember
from ketaclinic.care.service.common import (
    DECIDERS,
    MEDICATION_READERS,
    MEDICATION_WRITERS,
    PLAN_READERS,
    TEAM_KEEPERS,
    TEAM_READERS,
    THERAPY_BOOKERS,
    THERAPY_READERS,
    _require,
)
from ketaclinic.care.service.medications import MedicationView, medication_plan
from ketaclinic.care.service.team import care_team, team_candidates
from ketaclinic.care.service.therapy import TherapyRecord, therapy_sessions
from ketaclinic.orders import service as orders
from ketaclinic.outcomes import service as outcomes
from ketaclinic.patients import service as patients
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.actors import Actor
from ketaclinic.scheduling import service as scheduling


@dataclass
class CarePlan:
    """The care plan page of one patient, each part only for the roles that read it."""

    patient: patients.Patient
    team: list[CareTeamMember]
    medications: list[MedicationView] | None
    therapy: list[TherapyRecord] | None
    course: orders.Course | None
    candidates: dict[str, list[User]] | None
    rooms: list[Any]
    team_therapists: list[CareTeamMember]
    can_keep_team: bool
    can_change_medications: bool
    can_book_therapy: bool
    can_decide: bool
    scores: list[Any] = field(default_factory=list)  # outcomes.ScorePoint, newest first


def care_plan(db: Session, *, actor: Actor, patient_id: int) -> CarePlan:
    _require(actor, TEAM_READERS, "read care plans")
    patient = patients.get_patient(db, actor=actor, patient_id=patient_id, purpose="care_plan")
    team = care_team(db, actor=actor, patient_id=patient_id)
    meds = (
        medication_plan(db, actor=actor, patient_id=patient_id)
        if actor.roles & MEDICATION_READERS
        else None
    )
    therapy = (
        therapy_sessions(db, actor=actor, patient_id=patient_id)
        if actor.roles & THERAPY_READERS
        else None
    )
    course = (
        orders.active_course(db, actor=actor, patient_id=patient_id)
        if actor.roles & PLAN_READERS
        else None
    )
    keeper = bool(actor.roles & TEAM_KEEPERS)
    booker = bool(actor.roles & THERAPY_BOOKERS)
    return CarePlan(
        patient=patient,
        team=team,
        medications=meds,
        therapy=therapy,
        course=course,
        candidates=team_candidates(db, actor=actor) if keeper else None,
        rooms=scheduling.therapy_rooms(db) if booker else [],
        team_therapists=[m for m in team if m.role == "therapist" and m.user_id is not None],
        can_keep_team=keeper,
        can_change_medications=bool(actor.roles & MEDICATION_WRITERS),
        can_book_therapy=booker,
        can_decide=bool(actor.roles & DECIDERS),
        scores=list(reversed(outcomes.score_history(db, actor=actor, patient_id=patient_id)))[:12]
        if actor.roles & THERAPY_READERS
        else [],
    )
