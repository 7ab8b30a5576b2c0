"""The day-before confirmation and what happens on the day: check-in, completion
(by the session), no-show."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.orders import service as orders
from ketaclinic.platform import ports
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid
from ketaclinic.platform.roles import Role
from ketaclinic.scheduling.models import Appointment
from ketaclinic.scheduling.service.common import (
    CONFIRMERS,
    load,
    overlapping,
    record,
    require,
    zone_or_default,
)

# Which role may move an appointment to which status, and from where.
TRANSITIONS: dict[str, tuple[tuple[str, ...], frozenset[Role]]] = {
    "checked_in": (("booked",), frozenset({Role.front_desk, Role.nurse, Role.prescriber})),
    "completed": (("checked_in",), frozenset({Role.nurse, Role.prescriber})),
    "no_show": (("booked",), frozenset({Role.front_desk, Role.nurse, Role.prescriber})),
}
# What the planned session of the course becomes when its appointment does.
PLANNED_SESSION_AFTER = {"completed": "completed", "no_show": "planned"}


def confirm(
    db: Session,
    *,
    actor: Actor,
    appointment_id: int,
    fasting: bool,
    ride_home: bool,
    no_nasal_decongestant: bool | None,
    note: str = "",
    now: datetime | None = None,
) -> Appointment:
    """Record the day-before call. The decongestant question (no nasal decongestant or
    corticosteroid within the hour before dosing) is asked for esketamine only.
    A second call is kept: earlier answers move to ``confirmation["earlier"]``."""
    require(actor, CONFIRMERS, "confirm appointments")
    row = load(db, appointment_id)
    if row.status != "booked":
        raise Conflict(f"this appointment is {row.status.replace('_', ' ')}: nothing to confirm")
    if row.kind == "esketamine" and no_nasal_decongestant is None:
        raise Invalid(
            "for esketamine, ask whether the patient will avoid nasal decongestants and "
            "nasal corticosteroids in the hour before dosing",
            fields={"no_nasal_decongestant": "required for esketamine"},
        )
    if row.kind != "esketamine":
        no_nasal_decongestant = None
    if len(note) > 1000:
        raise Invalid("the note is longer than 1000 characters", fields={"note": "too long"})
    moment = now or utcnow()
    answers: dict[str, Any] = {
        "fasting": fasting,
        "ride_home": ride_home,
        "no_nasal_decongestant": no_nasal_decongestant,
        "note": note.strip(),
    }
    if row.confirmation:
        earlier = list(row.confirmation.get("earlier", []))
        previous = {k: v for k, v in row.confirmation.items() if k != "earlier"}
        previous |= {
            "by": row.confirmed_by,
            "at": row.confirmed_at.isoformat() if row.confirmed_at else None,
        }
        answers["earlier"] = [*earlier, previous]
    row.confirmation = answers
    row.confirmed_by = actor.username
    row.confirmed_at = moment
    concerns = confirmation_concerns(row)
    record(db, actor, "confirm", row, "; ".join(concerns) if concerns else "all answers yes")
    db.flush()
    return row


def confirmation_concerns(row: Appointment) -> list[str]:
    """What the day-before call flagged, in words (empty when all is well)."""
    answers = row.confirmation or {}
    concerns = []
    if answers.get("fasting") is False:
        concerns.append("will not be fasting")
    if answers.get("ride_home") is False:
        concerns.append("no ride home")
    if answers.get("no_nasal_decongestant") is False:
        concerns.append("may use a nasal decongestant or corticosteroid")
    return concerns


def mark_appointment(
    db: Session,
    *,
    actor: Actor,
    appointment_id: int,
    status: str,
    now: datetime | None = None,
) -> Appointment:
    """Move an appointment on: checked_in, completed (by the session) or no_show."""
    if status not in TRANSITIONS:
        raise Invalid(
            f"status must be one of {', '.join(TRANSITIONS)}", fields={"status": "unknown"}
        )
    sources, roles = TRANSITIONS[status]
    if not actor.roles & roles:
        raise Forbidden(f"your role does not permit marking an appointment {status}")
    row = load(db, appointment_id)
    if row.status not in sources:
        raise Conflict(
            f"this appointment is {row.status.replace('_', ' ')} and cannot become "
            f"{status.replace('_', ' ')}"
        )
    moment = now or utcnow()
    if status == "no_show" and moment < row.starts_at:
        raise Conflict("a patient can be marked as not come only once the visit has started")
    row.status = status
    record(db, actor, status, row)
    after = PLANNED_SESSION_AFTER.get(status)
    if after and row.planned_session_id is not None:
        orders.mark_planned_session(
            db,
            actor=actor,
            planned_session_id=row.planned_session_id,
            status=after,
        )
    db.flush()
    if status == "completed":
        # A visit given changes where the patient's courses stand (outcomes keeps that).
        ports.course_facts_changed(db, patient_id=row.patient_id)
    return row


def follow_early_start(
    db: Session, *, actor: Actor, appointment_id: int, started_at: datetime
) -> Appointment:
    """The session of this appointment opened at ``started_at``. If that is before the
    booked start, the appointment moves to it (keeping its length), so the day view
    shows the chair and nurse taken from the real start and frees the later slot; the
    booked time stays in the audit trail. A start at or after the booked time changes
    nothing. A move that would take a chair another appointment holds is refused, as a
    booking would be: the nurse settles the chair first."""
    require(actor, frozenset({Role.nurse, Role.prescriber}), "opening a session")
    row = load(db, appointment_id)
    if started_at >= row.starts_at:
        return row
    booked = row.starts_at
    length = row.ends_at - row.starts_at
    if row.chair_id is not None:
        taken = overlapping(
            db, started_at, started_at + length, ignore_id=row.id, chair_id=row.chair_id
        )
        if taken:
            zone = zone_or_default(None)
            raise Conflict(
                f"starting now moves this appointment onto the chair's booking from "
                f"{taken[0].starts_at.astimezone(zone):%H:%M} to "
                f"{taken[0].ends_at.astimezone(zone):%H:%M}: move that appointment or this "
                f"patient's chair first, or start at the booked time "
                f"{booked.astimezone(zone):%H:%M}",
                fields={"chair_id": "double booking"},
            )
    row.starts_at = started_at
    row.ends_at = started_at + length
    record(
        db,
        actor,
        "moved_to_actual_start",
        row,
        detail=f"booked {booked:%Y-%m-%d %H:%M} UTC, started {started_at:%Y-%m-%d %H:%M} UTC",
    )
    db.flush()
    return row
