"""The outcomes area's parts of the home page: the prescriber's open suicidality
alerts, the medical director's response and remission rates."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.clinical import dosing
from ketaclinic.outcomes import service
from ketaclinic.outcomes.service import statistics
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import HomeSection
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.roles import Role

# The outcome rates' default window on the home page: courses begun in the last year
# (ketaclinic's own reporting period, not a clinical number; /outcomes/clinic takes any).
OUTCOME_DAYS = 365
# How the home names the indications of ``config.INDICATIONS``.
INDICATION_NAMES = {
    "treatment_resistant_depression": "Treatment-resistant depression",
    "ptsd": "PTSD",
    "suicidal_ideation": "Depression with suicidal ideation",
    "substance_use_disorder": "Substance use disorder",
}


def _alerts(db: Session, actor: Actor) -> Any:
    return service.open_alerts_named(db, actor=actor)


def _rates(db: Session, actor: Actor) -> Any:
    end = utcnow()
    start = end - timedelta(days=OUTCOME_DAYS)
    return {
        "groups": statistics.clinic_outcomes(db, actor=actor, start=start, end=end),
        "start": start,
        "end": end,
        "protocols": {p.id: p.name for p in dosing.protocols()},
        "indications": INDICATION_NAMES,
    }


HOME_SECTIONS = [
    HomeSection(
        "open_alerts",
        frozenset({Role.prescriber}),
        _alerts,
        Role.prescriber,
        "outcomes/_home_alerts.html",
    ),
    HomeSection(
        "outcome_rates", frozenset({Role.admin}), _rates, Role.admin, "outcomes/_home_rates.html"
    ),
]
