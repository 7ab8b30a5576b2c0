"""The patient portal: a patient's own sessions, questionnaires, scores and documents.

The patient id always comes from the logged-in account (``actor.patient_id``), never
from a URL or a form. Scheduling, outcomes and sessions are other areas written in
parallel: each is called through its service only if it provides the function, so the
portal shows "nothing yet" until it does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module
from importlib.util import find_spec
from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.patients import service as patients
from ketaclinic.patients.models import BodyMeasurement, Patient
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.charts import Chart, Series, render_svg
from ketaclinic.platform.errors import ClinicError, Forbidden
from ketaclinic.platform.roles import Role

# (module, function) of each section's source in another area.
SOURCES = {
    "upcoming": ("ketaclinic.scheduling.service", "upcoming_for_patient"),
    "due": ("ketaclinic.outcomes.service", "due_questionnaires"),
    "scores": ("ketaclinic.outcomes.service", "score_history"),
    "notes": ("ketaclinic.sessions.service", "completed_sessions"),
}


def provider(key: str) -> Callable[..., Any] | None:
    """The other area's service function for a section, or None while it does not exist."""
    module_name, function = SOURCES[key]
    try:
        if find_spec(module_name) is None:
            return None
    except ModuleNotFoundError:  # the area package itself is not there yet
        return None
    found = getattr(import_module(module_name), function, None)
    return found if callable(found) else None


@dataclass
class Section:
    available: bool  # False while the area providing it does not exist yet
    items: list[Any] = field(default_factory=list)
    problem: str | None = None


@dataclass
class Portal:
    patient: Patient
    measurements: list[BodyMeasurement]
    upcoming: Section
    due: Section
    scores: Section
    notes: Section
    chart_svg: str = ""


def own_patient_id(actor: Actor) -> int:
    if Role.patient not in actor.roles or actor.patient_id is None:
        raise Forbidden("this account is not linked to a patient record")
    return actor.patient_id


def _section(db: Session, key: str, actor: Actor, patient_id: int) -> Section:
    call = provider(key)
    if call is None:
        return Section(available=False)
    try:
        items = list(call(db, actor=actor, patient_id=patient_id) or [])
    except Forbidden:
        # The area does not (yet) let patient accounts read this: show nothing, not an error.
        db.rollback()
        return Section(available=False)
    except ClinicError as exc:
        db.rollback()
        return Section(available=True, problem=exc.detail)
    return Section(available=True, items=items)


def section(db: Session, *, actor: Actor, key: str) -> Section:
    """One portal section for the logged-in patient (for the JSON API)."""
    patient_id = own_patient_id(actor)
    return _section(db, key, actor, patient_id)


def scores_chart(points: list[Any]) -> str:
    """One line per questionnaire over days since the first score."""
    # Risk-only instruments (C-SSRS screener) have no total to draw.
    dated = [
        p
        for p in points
        if getattr(p, "completed_at", None) is not None and getattr(p, "total", None) is not None
    ]
    if not dated:
        return ""
    start: datetime = min(p.completed_at for p in dated)
    by_instrument: dict[str, list[tuple[float, float]]] = {}
    for p in sorted(dated, key=lambda p: p.completed_at):
        days = (p.completed_at - start).total_seconds() / 86400
        by_instrument.setdefault(str(p.instrument_id), []).append((days, float(p.total)))
    chart = Chart(
        title="My questionnaire scores",
        x_label="days since my first questionnaire",
        y_label="total score",
        series=[Series(label=k, points=v) for k, v in sorted(by_instrument.items())],
        y_min=0,
    )
    return render_svg(chart)


def overview(db: Session, *, actor: Actor) -> Portal:
    """Everything the portal shows, for the logged-in patient only."""
    patient_id = own_patient_id(actor)
    patient = patients.get_patient(db, actor=actor, patient_id=patient_id, purpose="portal")
    measurements = [m for m in patient.measurements if m.entered_in_error_at is None]
    portal = Portal(
        patient=patient,
        measurements=measurements,
        upcoming=_section(db, "upcoming", actor, patient_id),
        due=_section(db, "due", actor, patient_id),
        scores=_section(db, "scores", actor, patient_id),
        notes=_section(db, "notes", actor, patient_id),
    )
    portal.chart_svg = scores_chart(portal.scores.items)
    audit.note_read(
        db,
        actor=actor,
        action="portal.view",
        patient_id=patient_id,
        object_type="patient",
        object_id=patient_id,
    )
    db.flush()
    return portal


def first(item: Any, *names: str) -> Any:
    """The first attribute (or key) of ``item`` that is set, for items whose shape the
    other area decides."""
    for name in names:
        value = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
        if value is not None:
            return value
    return None
