"""Scores (CADSS, CADSS-6, MOAA/S, modified Aldrete), side effects, interventions given
and free notes: each a timestamped entry; a wrong one is marked entered in error."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.clinical import instruments, monitoring
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Invalid
from ketaclinic.sessions.models import SessionEntry
from ketaclinic.sessions.service import observations, summaries, view
from ketaclinic.sessions.service.common import (
    RUNNERS,
    charted_time,
    close_alarms_of_entry_in_error,
    load_open,
    reason_text,
    record,
    require,
)

SESSION_INSTRUMENTS = ("cadss", "cadss6", "moaas", "aldrete")
SEVERITIES = ("mild", "moderate", "severe")
ROUTES = ("iv", "im", "po", "sl", "sc", "inhaled", "intranasal", "topical")
UNITS = ("mg", "mcg", "g", "mL", "L/min", "units")


def _entry(
    db: Session,
    actor: Actor,
    session_id: int,
    *,
    kind: str,
    code: str,
    at: datetime | None,
    value: float | None = None,
    data: dict[str, Any] | None = None,
    text: str | None = None,
    now: datetime | None = None,
    detail: str = "",
) -> SessionEntry:
    require(actor, RUNNERS, "charting the session")
    row = load_open(db, session_id)
    entry = SessionEntry(
        session_id=row.id,
        kind=kind,
        code=code,
        at=charted_time(at, now=now),
        value=value,
        data=data or {},
        text=text,
        recorded_by=actor.username,
        recorded_at=now or utcnow(),
    )
    db.add(entry)
    db.flush()
    record(
        db,
        actor,
        f"{kind}.record",
        row,
        object_type="session_entry",
        object_id=entry.id,
        detail=detail or code,
    )
    db.flush()
    return entry


def record_score(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    instrument_id: str,
    answers: dict[str, int],
    at: datetime | None = None,
    now: datetime | None = None,
) -> SessionEntry:
    if instrument_id not in SESSION_INSTRUMENTS:
        raise Invalid(
            f"session scores are {', '.join(SESSION_INSTRUMENTS)}",
            fields={"instrument_id": "unknown"},
        )
    definition = instruments.get(instrument_id)
    missing = [item for item in definition.items if answers.get(item.id) is None]
    if missing:
        # Every item is answered by the nurse; nothing is assumed (a default would chart
        # a discharge-qualifying score in one click).
        raise Invalid(
            f"{definition.name}: answer "
            + ", ".join(item.label for item in missing)
            + " (every item is required)",
            fields={f"{instrument_id}_{item.id}": "required" for item in missing},
        )
    try:
        result = instruments.score(instrument_id, answers)
    except ValueError as exc:
        raise Invalid(str(exc), fields={"answers": str(exc)}) from exc
    assert result.total is not None
    entry = _entry(
        db,
        actor,
        session_id,
        kind="score",
        code=instrument_id,
        at=at,
        now=now,
        value=float(result.total),
        data={
            "answers": result.item_values,
            "severity": result.severity,
            "flags": sorted(result.flags),
        },
        detail=f"{instrument_id} total {result.total}",
    )
    if instrument_id == "moaas":
        # Deep sedation escalates and moderate sedation asks for closer watching
        # (``monitoring.sedation``), in the act that charts the rating.
        observations.raise_alarms(
            db, actor=actor, row=load_open(db, session_id), entry=entry, moaas=int(result.total)
        )
    summaries.refresh(db, entry.session_id)
    return entry


def record_side_effect(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    effect_id: str,
    severity: str,
    note: str = "",
    at: datetime | None = None,
    now: datetime | None = None,
) -> SessionEntry:
    known = {e.id: e for e in monitoring.side_effects()}
    effect = known.get(effect_id)
    if effect is None:
        raise Invalid(f"unknown side effect {effect_id!r}", fields={"effect_id": "unknown"})
    if severity not in SEVERITIES:
        raise Invalid("severity is mild, moderate or severe", fields={"severity": "invalid"})
    grade = getattr(effect, severity)
    entry = _entry(
        db,
        actor,
        session_id,
        kind="side_effect",
        code=effect_id,
        at=at,
        now=now,
        data={"label": effect.label, "severity": severity, "grade": grade},
        text=note.strip()[:2000] or None,
        detail=f"{effect_id} {severity}",
    )
    summaries.refresh(db, entry.session_id)
    return entry


def record_symptom(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    symptom_id: str,
    note: str = "",
    at: datetime | None = None,
    now: datetime | None = None,
) -> SessionEntry:
    """A symptom from the declared list (``monitoring.symptoms``), charted with its alarm
    and the prescriber's call in one act. The table says in which phases a symptom
    escalates; outside them (before dosing) it is refused, not charted without an alarm,
    as the start is then the prescriber's go/no-go decision."""
    require(actor, RUNNERS, "charting the session")
    row = load_open(db, session_id)
    known = {t.id: t for t in observations.symptom_choices(db)}
    trigger = known.get(symptom_id)
    if trigger is None:
        raise Invalid(
            f"unknown symptom {symptom_id!r}; the clinic's list is {', '.join(known)}",
            fields={"symptom_id": "unknown"},
        )
    text = note.strip()
    if len(text) > 2000:
        raise Invalid("keep the note under 2000 characters", fields={"note": "too long"})
    moment = charted_time(at, now=now)
    state = observations.charting_state(db, row, now=now or utcnow())
    phase = view.phase_at(state, moment)
    if phase not in trigger.phases:
        raise Conflict(
            f"{trigger.label}: symptom alarms apply during "
            + " and ".join(trigger.phases)
            + f", and this is {phase.replace('_', ' ')}. Before dosing, hold the start, "
            "write a note and call the prescriber for the go/no-go decision",
            fields={"symptom_id": f"not charted in {phase.replace('_', ' ')}"},
        )
    entry = _entry(
        db,
        actor,
        session_id,
        kind="symptom",
        code=symptom_id,
        at=moment,
        now=now,
        data={"label": trigger.label},
        text=text or None,
        detail=symptom_id,
    )
    observations.raise_alarms(
        db, actor=actor, row=row, entry=entry, symptoms=[symptom_id], state=state
    )
    summaries.refresh(db, entry.session_id)
    return entry


def record_intervention(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    drug: str,
    dose: float,
    unit: str,
    route: str,
    reason: str,
    at: datetime | None = None,
    now: datetime | None = None,
) -> SessionEntry:
    name = drug.strip()
    if not 2 <= len(name) <= 80:
        raise Invalid("name the drug (2 to 80 characters)", fields={"drug": "required"})
    if not 0 < dose < 100_000:
        raise Invalid("the dose must be a positive number", fields={"dose": "invalid"})
    if unit not in UNITS:
        raise Invalid(f"unit is one of {', '.join(UNITS)}", fields={"unit": "invalid"})
    if route not in ROUTES:
        raise Invalid(f"route is one of {', '.join(ROUTES)}", fields={"route": "invalid"})
    why = reason_text(reason, what="the reason it was given")
    entry = _entry(
        db,
        actor,
        session_id,
        kind="intervention",
        code=name.lower()[:40],
        at=at,
        now=now,
        value=dose,
        data={"drug": name, "dose": dose, "unit": unit, "route": route},
        text=why,
        detail=f"{name} {dose:g} {unit} {route}",
    )
    summaries.refresh(db, entry.session_id)
    return entry


def record_note(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    text: str,
    at: datetime | None = None,
    now: datetime | None = None,
) -> SessionEntry:
    body = text.strip()
    if not 1 <= len(body) <= 4000:
        raise Invalid("write the note (up to 4000 characters)", fields={"text": "required"})
    return _entry(db, actor, session_id, kind="note", code="note", at=at, now=now, text=body)


def mark_entry_in_error(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    entry_id: int,
    reason: str,
    now: datetime | None = None,
) -> SessionEntry:
    require(actor, RUNNERS, "correcting the chart")
    row = load_open(db, session_id)
    entry = db.get(SessionEntry, entry_id)
    if entry is None or entry.session_id != row.id:
        raise Invalid(f"no entry {entry_id} in this session", fields={"entry_id": "unknown"})
    if entry.entered_in_error_at is not None:
        raise Conflict("this entry is already marked entered in error")
    entry.entered_in_error_at = now or utcnow()
    entry.entered_in_error_by = actor.username
    entry.error_reason = reason_text(reason)
    record(
        db,
        actor,
        f"{entry.kind}.entered_in_error",
        row,
        object_type="session_entry",
        object_id=entry.id,
        detail=entry.error_reason,
    )
    close_alarms_of_entry_in_error(
        db, actor, row, entry_id=entry.id, reason=entry.error_reason, at=entry.entered_in_error_at
    )
    summaries.refresh(db, row.id)
    db.flush()
    return entry
