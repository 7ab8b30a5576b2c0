"""Typed ports: questions an area answers for an area below it in the layer order.

Area services call down, in the order a patient meets the areas (the import contracts
in ``pyproject.toml``). Now and then a lower area needs an answer only a higher one
has: discharge (sessions) must know whether a suicidality alert (outcomes) is open. The
lower area asks here; the answering area's service provides the named function, found
by name as routers and jobs are, and a missing one fails loudly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from importlib import import_module
from typing import Any, Protocol, cast

from sqlalchemy.orm import Session


class OpenAlertCheck(Protocol):
    def __call__(self, db: Session, *, patient_id: int) -> bool: ...


def open_suicidality_alert(db: Session, *, patient_id: int) -> bool:
    """Whether the patient has a suicidality alert nobody has acknowledged yet
    (answered by ``outcomes.service.has_open_alert``)."""
    check = cast(OpenAlertCheck, import_module("ketaclinic.outcomes.service").has_open_alert)
    return check(db, patient_id=patient_id)


class OpenAlertsOf(Protocol):
    def __call__(self, db: Session, *, patient_ids: Sequence[int]) -> set[int]: ...


def patients_with_open_alert(db: Session, *, patient_ids: Sequence[int]) -> set[int]:
    """Which of these patients have a suicidality alert nobody has acknowledged yet, in
    one query (answered by ``outcomes.service.patients_with_open_alert``)."""
    check = cast(
        OpenAlertsOf, import_module("ketaclinic.outcomes.service").patients_with_open_alert
    )
    return check(db, patient_ids=patient_ids)


class AdminNotice(Protocol):
    def __call__(self, db: Session, *, kind: str, subject: str, body: str) -> int: ...


def notify_admins(db: Session, *, kind: str, subject: str, body: str) -> int:
    """Tell every active administrator, as staff alerts are told, through the outbox
    (answered by ``outcomes.service.notify_admins``); how many were told."""
    notify = cast(AdminNotice, import_module("ketaclinic.outcomes.service").notify_admins)
    return notify(db, kind=kind, subject=subject, body=body)


@dataclass(frozen=True)
class InteractionFinding:
    """One current medication that matched a row of the clinical interaction table."""

    medication: str
    drug_class: str
    severity: str
    effect: str
    advice: str
    source: str
    evidence: str


@dataclass(frozen=True)
class MedicationSummary:
    """Current medications, allergies and their interaction findings, from the latest
    intake (taken on ``taken_on``)."""

    taken_on: date
    medications: tuple[str, ...]
    allergies: tuple[str, ...]
    findings: tuple[InteractionFinding, ...]
    unknown: tuple[str, ...]


class MedicationLookup(Protocol):
    def __call__(self, db: Session, *, actor: Any, patient_id: int) -> MedicationSummary | None: ...


def medication_summary(db: Session, *, actor: Any, patient_id: int) -> MedicationSummary | None:
    """What the patient takes, is allergic to, and how it interacts with ketamine, for the
    chart header (answered by ``candidacy.service.medication_summary``; None when there
    is no intake or the actor may not read intakes)."""
    lookup = cast(
        MedicationLookup, import_module("ketaclinic.candidacy.service").medication_summary
    )
    return lookup(db, actor=actor, patient_id=patient_id)


class StaffMessenger(Protocol):
    def __call__(
        self,
        db: Session,
        *,
        usernames: Sequence[str],
        kind: str,
        subject: str,
        body: str,
        patient_id: int | None,
        path: str,
    ) -> list[str]: ...


def message_staff(
    db: Session,
    *,
    usernames: Sequence[str],
    kind: str,
    subject: str,
    body: str,
    patient_id: int | None,
    path: str,
) -> list[str]:
    """Queue a message to each named active staff member through the outbox, inside the
    caller's transaction, with a link to ``path`` on the clinic's address; returns who was
    messaged (answered by ``outcomes.service.message_staff``). ``body`` carries no patient
    name: it may travel over email or SMS."""
    send = cast(StaffMessenger, import_module("ketaclinic.outcomes.service").message_staff)
    return send(
        db,
        usernames=usernames,
        kind=kind,
        subject=subject,
        body=body,
        patient_id=patient_id,
        path=path,
    )


class TeamLookup(Protocol):
    def __call__(self, db: Session) -> list[str]: ...


def escalation_team(db: Session) -> list[str]:
    """Who an unanswered alert escalates to: every prescriber and medical director, as for
    a suicidality alert (answered by ``outcomes.service.escalation_usernames``)."""
    team = cast(TeamLookup, import_module("ketaclinic.outcomes.service").escalation_usernames)
    return team(db)


def prescribers(db: Session) -> list[str]:
    """Every active prescriber (answered by ``outcomes.service.prescriber_usernames``)."""
    team = cast(TeamLookup, import_module("ketaclinic.outcomes.service").prescriber_usernames)
    return team(db)


class LeadAlert(Protocol):
    def __call__(self, db: Session, *, actor: Any, lead_id: int, detail: str) -> int: ...


def raise_lead_alert(db: Session, *, actor: Any, lead_id: int, detail: str) -> int:
    """Open a suicidality alert for a self-screen lead who reported suicidal thoughts,
    escalated as a patient's is; returns its id (answered by
    ``outcomes.service.raise_for_lead``). The public area and outcomes sit side by side,
    so neither service imports the other."""
    raise_alert = cast(LeadAlert, import_module("ketaclinic.outcomes.service").raise_for_lead)
    return raise_alert(db, actor=actor, lead_id=lead_id, detail=detail)


class LeadConversion(Protocol):
    def __call__(self, db: Session, *, actor: Any, lead_id: int, patient_id: int) -> int: ...


def lead_became_patient(db: Session, *, actor: Any, lead_id: int, patient_id: int) -> int:
    """A lead became a patient: their self-screen alerts now name the patient (answered by
    ``outcomes.service.attach_lead_alerts``); returns how many."""
    attach = cast(LeadConversion, import_module("ketaclinic.outcomes.service").attach_lead_alerts)
    return attach(db, actor=actor, lead_id=lead_id, patient_id=patient_id)


# The placeholder a patient message keeps where its link goes: the link is minted when
# the message is delivered, so the outbox never holds a token.
LINK = "{link}"


class PatientMessage(Protocol):
    def __call__(
        self, db: Session, *, kind: str, patient_id: int, subject: str, body: str
    ) -> int | None: ...


def message_patient(
    db: Session, *, kind: str, patient_id: int, subject: str, body: str
) -> int | None:
    """Queue a message to the patient's email, else phone, in the caller's transaction
    (answered by ``outcomes.service.message_patient``); the outbox message's id, or None
    when the patient has neither."""
    send = cast(PatientMessage, import_module("ketaclinic.outcomes.service").message_patient)
    return send(db, kind=kind, patient_id=patient_id, subject=subject, body=body)


# ------------------------------------------------------------------ the care team


class CareTeamPatients(Protocol):
    def __call__(self, db: Session, *, user_id: int | None) -> frozenset[int]: ...


def care_team_patient_ids(db: Session, *, user_id: int | None) -> frozenset[int]:
    """The patients on whose care teams this staff member sits today (answered by
    ``care.service.care_team_patient_ids``): the patients a therapist may reach."""
    found = cast(CareTeamPatients, import_module("ketaclinic.care.service").care_team_patient_ids)
    return found(db, user_id=user_id)


class PrimaryClinician(Protocol):
    def __call__(self, db: Session, *, patient_id: int) -> str | None: ...


def primary_clinician(db: Session, *, patient_id: int) -> str | None:
    """The username of the patient's primary clinician on the care team, if one is named
    and active (answered by ``care.service.primary_clinician_username``): suicidality
    alerts and course decisions go to them first."""
    primary = cast(
        PrimaryClinician, import_module("ketaclinic.care.service").primary_clinician_username
    )
    return primary(db, patient_id=patient_id)


@dataclass(frozen=True)
class MedicationChange:
    """A medication started or stopped since the course's current order was signed, with
    what the interaction table says of it against the course's drug."""

    medication: str
    change: str  # started|stopped
    on: date
    prescriber: str
    findings: tuple[InteractionFinding, ...]


class MedicationChanges(Protocol):
    def __call__(self, db: Session, *, actor: Any, patient_id: int) -> list[MedicationChange]: ...


def medication_changes(db: Session, *, actor: Any, patient_id: int) -> list[MedicationChange]:
    """Changes to the medication plan the prescriber has not yet seen at an order of the
    active course (answered by ``care.service.medication_changes_for_order``)."""
    changes = cast(
        MedicationChanges, import_module("ketaclinic.care.service").medication_changes_for_order
    )
    return changes(db, actor=actor, patient_id=patient_id)


class ScoreRecorded(Protocol):
    def __call__(
        self, db: Session, *, patient_id: int, instrument_id: str, response_id: int
    ) -> None: ...


def score_recorded(db: Session, *, patient_id: int, instrument_id: str, response_id: int) -> None:
    """A final questionnaire score was recorded, inside its own transaction: the care plan
    checks its relapse rule (answered by ``care.service.score_recorded``)."""
    hook = cast(ScoreRecorded, import_module("ketaclinic.care.service").score_recorded)
    hook(db, patient_id=patient_id, instrument_id=instrument_id, response_id=response_id)


class AppointmentBooked(Protocol):
    def __call__(
        self,
        db: Session,
        *,
        actor: Any,
        appointment_id: int,
        patient_id: int,
        kind: str,
        service_on: date,
        booked_on: date,
    ) -> None: ...


def appointment_booked(
    db: Session,
    *,
    actor: Any,
    appointment_id: int,
    patient_id: int,
    kind: str,
    service_on: date,
    booked_on: date,
) -> None:
    """A visit was booked, inside the booking's transaction: billing opens the
    good-faith estimate a self-pay patient is owed (answered by
    ``billing.service.appointment_booked``)."""
    hook = cast(AppointmentBooked, import_module("ketaclinic.billing.service").appointment_booked)
    hook(
        db,
        actor=actor,
        appointment_id=appointment_id,
        patient_id=patient_id,
        kind=kind,
        service_on=service_on,
        booked_on=booked_on,
    )


# ------------------------------------------------------------------ kept summaries


class CourseFactsChanged(Protocol):
    def __call__(self, db: Session, *, patient_id: int) -> int: ...


def course_facts_changed(db: Session, *, patient_id: int) -> int:
    """A fact a course's standing is derived from changed (a session given, a course
    opened or extended, a visit completed): the patient's kept course summaries are
    derived again in the caller's transaction (answered by
    ``outcomes.service.refresh_course_summaries``); how many courses."""
    refresh = cast(
        CourseFactsChanged, import_module("ketaclinic.outcomes.service").refresh_course_summaries
    )
    return refresh(db, patient_id=patient_id)


def derive_missing_summaries(db: Session) -> tuple[int, int]:
    """Derive the kept summary of every session and course that has none from its facts,
    sessions first (answered by ``sessions.service.rebuild_summaries`` and
    ``outcomes.service.rebuild_course_summaries``); how many of each."""
    sessions = import_module("ketaclinic.sessions.service")
    outcomes = import_module("ketaclinic.outcomes.service")
    made = int(sessions.rebuild_summaries(db, only_missing=True))
    courses = int(outcomes.rebuild_course_summaries(db, only_missing=True))
    return made, courses


# ------------------------------------------------------------------ preparation


@dataclass(frozen=True)
class PreparationCheck:
    """The checklist item a course's first dosing session gets when its protocol asks for
    preparation (ketamine-assisted psychotherapy): met when the signed preparation notes
    the clinic's table asks for are on file."""

    id: str
    label: str
    met: bool
    text: str
    basis: str
    evidence: str


class PreparationLookup(Protocol):
    def __call__(
        self, db: Session, *, patient_id: int, protocol_id: str, course_id: int
    ) -> PreparationCheck | None: ...


def preparation_check(
    db: Session, *, patient_id: int, protocol_id: str, course_id: int
) -> PreparationCheck | None:
    """The preparation item of a course's first dosing session; None when the protocol
    asks for none (answered by ``care.service.preparation_check``)."""
    check = cast(PreparationLookup, import_module("ketaclinic.care.service").preparation_check)
    return check(db, patient_id=patient_id, protocol_id=protocol_id, course_id=course_id)
