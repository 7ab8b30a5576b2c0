"""The roles a ketaclinic account can hold."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    prescriber = "prescriber"
    nurse = "nurse"
    front_desk = "front_desk"
    researcher = "researcher"  # de-identified data only
    therapist = "therapist"  # only the patients on their care teams; no drugs
    patient = "patient"  # own portal only


STAFF = frozenset(
    {Role.admin, Role.prescriber, Role.nurse, Role.front_desk, Role.researcher, Role.therapist}
)
CLINICAL = frozenset({Role.prescriber, Role.nurse})
PATIENT_DEMOGRAPHICS = frozenset({Role.prescriber, Role.nurse, Role.front_desk})

LABELS = {
    Role.admin: "Administrator",
    Role.prescriber: "Prescriber",
    Role.nurse: "Infusion nurse",
    Role.front_desk: "Front desk",
    Role.researcher: "Researcher",
    Role.therapist: "Therapist",
    Role.patient: "Patient",
}

# Roles that reach every patient of the clinic; an account holding none of them but the
# therapist role reaches only the patients on its care teams (``care_team_only``).
CLINIC_WIDE = frozenset({Role.admin, Role.prescriber, Role.nurse, Role.front_desk})


def care_team_only(roles: frozenset[Role] | set[Role]) -> bool:
    """A therapist account (with no clinic-wide role) sees its care-team patients only."""
    return Role.therapist in roles and not roles & CLINIC_WIDE
