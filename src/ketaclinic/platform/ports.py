"""Typed ports: questions an area answers for an area below it in the layer order.

Area services call down, in the order a patient meets the areas (the import contracts
in ``pyproject.toml``). Now and then a lower area needs an answer only a higher one
has: discharge (sessions) must know whether a suicidality alert (outcomes) is open. The
lower area asks here; the answering area's service provides the named function, found
by name as routers and jobs are, and a missing one fails loudly.
"""

from __future__ import annotations

from importlib import import_module
from typing import Protocol, cast

from sqlalchemy.orm import Session


class OpenAlertCheck(Protocol):
    def __call__(self, db: Session, *, patient_id: int) -> bool: ...


def open_suicidality_alert(db: Session, *, patient_id: int) -> bool:
    """Whether the patient has a suicidality alert nobody has acknowledged yet
    (answered by ``outcomes.service.has_open_alert``)."""
    check = cast(OpenAlertCheck, import_module("ketaclinic.outcomes.service").has_open_alert)
    return check(db, patient_id=patient_id)
