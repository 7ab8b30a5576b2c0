"""The roles a ketaclinic account can hold."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    prescriber = "prescriber"
    nurse = "nurse"
    front_desk = "front_desk"
    researcher = "researcher"  # de-identified data only
    patient = "patient"  # own portal only


STAFF = frozenset({Role.admin, Role.prescriber, Role.nurse, Role.front_desk, Role.researcher})
CLINICAL = frozenset({Role.prescriber, Role.nurse})
PATIENT_DEMOGRAPHICS = frozenset({Role.prescriber, Role.nurse, Role.front_desk})

LABELS = {
    Role.admin: "Administrator",
    Role.prescriber: "Prescriber",
    Role.nurse: "Infusion nurse",
    Role.front_desk: "Front desk",
    Role.researcher: "Researcher",
    Role.patient: "Patient",
}
