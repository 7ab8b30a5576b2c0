"""Symptoms and sedation scores that escalate on their own (``monitoring.symptoms``,
``monitoring.sedation``): a charted entry is assessed once, its alarms are stored like a
reading's, and those that call for the prescriber open a call in the same act."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from ketaclinic.clinical import monitoring
from ketaclinic.configuration import service as configuration
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.errors import Invalid
from ketaclinic.sessions.models import InfusionSession, SessionAlarm, SessionEntry
from ketaclinic.sessions.service import calls, view
from ketaclinic.sessions.service.common import record, stored_alarm


def symptom_choices(db: Session) -> list[monitoring.SymptomTrigger]:
    """The symptoms staff pick from, with the clinic's overrides."""
    return monitoring.symptom_triggers(configuration.overrides_for(db, "monitoring.symptoms"))


def charting_state(db: Session, row: InfusionSession, *, now: datetime) -> view.SessionView:
    """The session's dosing timeline, which says the phase of a moment
    (``view.phase_at``); read once per act and handed to ``raise_alarms``."""
    return view.for_charting(db, row=row, now=now)


def raise_alarms(
    db: Session,
    *,
    actor: Actor,
    row: InfusionSession,
    entry: SessionEntry,
    symptoms: Sequence[str] = (),
    moaas: int | None = None,
    state: view.SessionView | None = None,
) -> list[SessionAlarm]:
    """Store the alarms ``entry`` raises and call the prescriber for those that call.
    ``state``: the act's ``charting_state`` when it read one already."""
    state = state or charting_state(db, row, now=entry.recorded_at)
    phase = view.phase_at(state, entry.at)
    overrides = [
        *configuration.overrides_for(db, "monitoring.symptoms"),
        *configuration.overrides_for(db, "monitoring.sedation"),
    ]
    try:
        found = monitoring.assess_observations(
            phase=phase,
            at_min=state.minutes_from_start(entry.at) or 0.0,
            symptoms=symptoms,
            moaas=moaas,
            overrides=overrides,
        )
    except ValueError as exc:
        raise Invalid(str(exc), fields={"symptom_id" if symptoms else "moaas": "invalid"}) from exc
    stored = [
        stored_alarm(
            alarm,
            session_id=row.id,
            phase=phase,
            raised_at=entry.recorded_at,
            entry_id=entry.id,
            taken_at=entry.at,
        )
        for alarm in found
    ]
    if not stored:
        return []
    db.add_all(stored)
    db.flush()
    record(
        db,
        actor,
        "alarm.raise",
        row,
        object_type="session_entry",
        object_id=entry.id,
        detail=", ".join(f"{a.rule_id} ({a.level})" for a in stored),
    )
    calls.call_for_alarms(
        db,
        actor=actor,
        row=row,
        prescriber=state.order.signed_by,
        alarms=stored,
        now=entry.recorded_at,
    )
    db.flush()
    return stored
