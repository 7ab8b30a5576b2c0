"""What every scheduling use case shares: who may do what, loading, auditing and the
appointments that hold a chair, a nurse or a patient."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.errors import Forbidden, NotFound
from ketaclinic.platform.roles import Role
from ketaclinic.platform.settings import get_settings
from ketaclinic.scheduling.models import Appointment

# Statuses in which an appointment still holds its chair, nurse and patient.
HOLDING = ("booked", "checked_in", "completed")
MANAGERS = frozenset({Role.admin, Role.front_desk})
BOOKERS = frozenset({Role.front_desk, Role.prescriber})
CONFIRMERS = frozenset({Role.front_desk, Role.prescriber, Role.nurse})
READERS = frozenset({Role.front_desk, Role.prescriber, Role.nurse})


def require(actor: Actor, roles: frozenset[Role], what: str) -> None:
    """The service's own wall, beside the route's: other areas call these functions."""
    if not actor.roles & roles:
        raise Forbidden(f"your role does not permit you to {what}")


def zone_or_default(zone: ZoneInfo | None) -> ZoneInfo:
    return zone if zone is not None else get_settings().zone


def load(db: Session, appointment_id: int) -> Appointment:
    row = db.get(Appointment, appointment_id)
    if row is None:
        raise NotFound(f"no appointment with id {appointment_id}")
    return row


def record(db: Session, actor: Actor, action: str, row: Appointment, detail: str = "") -> None:
    audit.record(
        db,
        actor=actor,
        action=f"appointment.{action}",
        patient_id=row.patient_id,
        object_type="appointment",
        object_id=row.id,
        detail=detail,
    )


def audit_reads(db: Session, actor: Actor, rows: list[Appointment], what: str) -> None:
    """One audit event per patient whose appointments were shown."""
    for patient_id in sorted({r.patient_id for r in rows}):
        count = sum(1 for r in rows if r.patient_id == patient_id)
        audit.note_read(
            db,
            actor=actor,
            action="appointment.read",
            patient_id=patient_id,
            object_type="appointment",
            detail=f"{what}: {count} appointment(s)",
        )


# The longest a visit may hold its chair and nurse: an outpatient visit ends the day it
# begins (ketaclinic's own bound, not a clinical number; a protocol's treatment and
# observation times come to hours). Booking refuses longer, so that a read of the
# visits overlapping a period can bound their start from below too: the start index
# then ranges over that period's visits, not every visit of the clinic's history.
LONGEST_VISIT = timedelta(hours=24)


def overlaps(starts_at: datetime, ends_at: datetime) -> Any:
    """The condition of the appointments that overlap [starts_at, ends_at)."""
    return (
        (Appointment.starts_at < ends_at)
        & (Appointment.ends_at > starts_at)
        & (Appointment.starts_at > starts_at - LONGEST_VISIT)
    )


def overlapping(
    db: Session,
    starts_at: datetime,
    ends_at: datetime,
    *,
    ignore_id: int | None = None,
    **match: Any,
) -> list[Appointment]:
    """Appointments that hold their resources during [starts_at, ends_at) and match
    ``match`` (e.g. ``chair_id=3``)."""
    query = select(Appointment).where(Appointment.status.in_(HOLDING), overlaps(starts_at, ends_at))
    for column, value in match.items():
        query = query.where(getattr(Appointment, column) == value)
    if ignore_id is not None:
        query = query.where(Appointment.id != ignore_id)
    return list(db.scalars(query.order_by(Appointment.starts_at)))
