"""Who may do what with outcome data, beyond the roles each route declares."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.errors import Forbidden, NotFound
from ketaclinic.platform.roles import Role

CLINICIANS = frozenset({Role.prescriber, Role.nurse})
# Who reads and records a patient's outcome data: the clinicians, and a therapist for
# the patients on their care teams (the patients area's wall keeps them to those).
CARE_TEAM = CLINICIANS | {Role.therapist}
# The scheduled work reads what a nurse reads (courses, sessions) to make requests.
JOB = Actor(
    user_id=None,
    username="outcomes-job",
    full_name="scheduled outcomes work",
    roles=frozenset({Role.nurse}),
)


def check_patient(db: Session, actor: Actor, patient_id: int) -> None:
    """A patient account reaches only its own record; staff need a clinical role; and
    the patient exists (an unknown id is a 404, never an audit row for nobody)."""
    if actor.patient_only:
        if actor.patient_id != patient_id:
            raise NotFound("no such patient")
    elif actor is not JOB and not actor.roles & CARE_TEAM:
        raise Forbidden("outcome data is for the care team (prescribers, nurses, therapists)")
    patients.check_patient(db, actor=actor, patient_id=patient_id)


def require(actor: Actor, roles: frozenset[Role], what: str) -> None:
    if not actor.roles & roles:
        raise Forbidden(f"your role does not permit {what}")
