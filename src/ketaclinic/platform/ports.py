"""Typed ports: questions an area answers for an area below it in the layer order.

Area services call down, in the order a patient meets the areas (the import contracts
in ``pyproject.toml``). Now and then a lower area needs an answer only a higher one
has: discharge (sessions) must know whether a suicidality alert (outcomes) is open. The
lower area asks here; the answering area's service provides the named function, found
by name as routers and jobs are, and a missing one fails loudly.
"""

from __future__ import annotations

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
