"""Chairs (and rooms) and the spans when staff are on duty. Chairs are never deleted:
a chair out of use is deactivated, so that past appointments still name it."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.errors import Conflict, Invalid, NotFound
from ketaclinic.platform.roles import Role
from ketaclinic.scheduling.models import Chair, StaffAvailability
from ketaclinic.scheduling.schemas import AvailabilityIn, ChairIn, ChairUpdate
from ketaclinic.scheduling.service.common import MANAGERS, READERS, require, zone_or_default

# Who can be put on duty: nurses watch the chairs, prescribers see consultations.
ON_DUTY_ROLES = frozenset({Role.nurse, Role.prescriber})


def list_chairs(db: Session, *, actor: Actor, include_inactive: bool = True) -> list[Chair]:
    require(actor, MANAGERS | READERS, "see the chairs")
    query = select(Chair).order_by(Chair.active.desc(), Chair.name)
    if not include_inactive:
        query = query.where(Chair.active.is_(True))
    return list(db.scalars(query))


def _folded(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold().strip()


def _name_free(db: Session, name: str, chair_id: int | None = None) -> None:
    # Compared in Python: SQLite's lower() folds ASCII only, so "Sala É" and "sala é"
    # would pass a SQL check and then differ only in case. A clinic has a few chairs.
    wanted = _folded(name)
    for other_id, other in db.execute(select(Chair.id, Chair.name)):
        if other_id != chair_id and _folded(other) == wanted:
            raise Conflict(f"a chair named {other!r} already exists", fields={"name": "taken"})


def add_chair(db: Session, *, actor: Actor, data: ChairIn) -> Chair:
    require(actor, MANAGERS, "add chairs")
    _name_free(db, data.name)
    chair = Chair(name=data.name, kind=data.kind, notes=data.notes, active=True)
    db.add(chair)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="chair.add",
        object_type="chair",
        object_id=chair.id,
        detail=chair.name,
    )
    db.flush()
    return chair


def update_chair(db: Session, *, actor: Actor, chair_id: int, data: ChairUpdate) -> Chair:
    """Rename, (re)activate or annotate a chair; there is no delete."""
    require(actor, MANAGERS, "change chairs")
    chair = db.get(Chair, chair_id)
    if chair is None:
        raise NotFound(f"no chair with id {chair_id}")
    changes: list[str] = []
    if data.name is not None and data.name != chair.name:
        _name_free(db, data.name, chair.id)
        changes.append(f"renamed {chair.name!r} to {data.name!r}")
        chair.name = data.name
    if data.active is not None and data.active != chair.active:
        chair.active = data.active
        changes.append("reactivated" if data.active else "deactivated")
    if data.notes is not None and data.notes != (chair.notes or ""):
        chair.notes = data.notes or None
        changes.append("notes changed")
    if not changes:
        raise Invalid("nothing changed")
    audit.record(
        db,
        actor=actor,
        action="chair.update",
        object_type="chair",
        object_id=chair.id,
        detail="; ".join(changes),
    )
    db.flush()
    return chair


def on_duty_staff(db: Session) -> list[User]:
    """Active accounts that can be put on duty (nurses and prescribers)."""
    return [
        u
        for u in accounts.list_users(db)
        if u.active and u.role_names & {r.value for r in ON_DUTY_ROLES}
    ]


def nurses(db: Session) -> list[User]:
    return [u for u in on_duty_staff(db) if Role.nurse.value in u.role_names]


def staff_names(db: Session) -> dict[int, str]:
    return {u.id: u.full_name for u in accounts.list_users(db)}


def add_availability(
    db: Session, *, actor: Actor, data: AvailabilityIn, zone: ZoneInfo | None = None
) -> StaffAvailability:
    """Record an on-duty span typed in the clinic's local time; stored in UTC."""
    require(actor, MANAGERS, "record staff availability")
    tz = zone_or_default(zone)
    user = db.get(User, data.user_id)
    if user is None or not user.active:
        raise Invalid(
            f"no active staff member with id {data.user_id}", fields={"user_id": "unknown"}
        )
    if not user.role_names & {r.value for r in ON_DUTY_ROLES}:
        raise Invalid(
            f"{user.full_name} is neither a nurse nor a prescriber", fields={"user_id": "role"}
        )
    starts = data.starts_at.replace(tzinfo=tz).astimezone(UTC)
    ends = data.ends_at.replace(tzinfo=tz).astimezone(UTC)
    clash = db.scalar(
        select(StaffAvailability).where(
            StaffAvailability.user_id == user.id,
            StaffAvailability.starts_at < ends,
            StaffAvailability.ends_at > starts,
        )
    )
    if clash is not None:
        raise Conflict(
            f"{user.full_name} already has an on-duty span from "
            f"{clash.starts_at.astimezone(tz):%Y-%m-%d %H:%M} to "
            f"{clash.ends_at.astimezone(tz):%H:%M} overlapping this one",
            fields={"starts_at": "overlaps"},
        )
    span = StaffAvailability(
        user_id=user.id, starts_at=starts, ends_at=ends, created_by=actor.username
    )
    db.add(span)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="availability.add",
        object_type="staff_availability",
        object_id=span.id,
        detail=f"user {user.username} {starts.isoformat()} to {ends.isoformat()}",
    )
    db.flush()
    return span


def availability(
    db: Session,
    *,
    actor: Actor,
    starts: datetime,
    ends: datetime,
    user_id: int | None = None,
) -> list[StaffAvailability]:
    """On-duty spans meeting [starts, ends). Nurses and prescribers who do not manage
    the rota see only their own."""
    require(actor, MANAGERS | READERS, "see staff availability")
    if not actor.roles & MANAGERS:
        user_id = actor.user_id
    query = select(StaffAvailability).where(
        StaffAvailability.starts_at < ends, StaffAvailability.ends_at > starts
    )
    if user_id is not None:
        query = query.where(StaffAvailability.user_id == user_id)
    return list(db.scalars(query.order_by(StaffAvailability.starts_at)))


def day_rota(
    db: Session, *, actor: Actor, starts: datetime, ends: datetime
) -> list[StaffAvailability]:
    """Everyone's on-duty spans meeting [starts, ends): the rota the day's calendar shows.
    Whoever reads the calendar sees the nurses its visits name, so the rota beside it is
    the whole one (``availability`` keeps a nurse's own list to her own spans)."""
    require(actor, MANAGERS | READERS, "see the duty rota")
    return list(
        db.scalars(
            select(StaffAvailability)
            .where(StaffAvailability.starts_at < ends, StaffAvailability.ends_at > starts)
            .order_by(StaffAvailability.starts_at, StaffAvailability.id)
        )
    )


def uncovered(spans: list[StaffAvailability], starts: datetime, ends: datetime) -> datetime | None:
    """The first moment of [starts, ends) not covered by ``spans``, or None."""
    cursor = starts
    for span in sorted(spans, key=lambda s: s.starts_at):
        if span.starts_at > cursor:
            break
        cursor = max(cursor, span.ends_at)
        if cursor >= ends:
            return None
    return cursor if cursor < ends else None
