"""The care team: prescriber of record, infusion nurses, therapist, the referring
clinician outside the clinic, one primary clinician (``add_member``, ``end_member``,
``care_team``); a therapist reaches only the patients on their care teams (the patients
area's wall asks ``care_team_patient_ids`` through ``platform.ports``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.care.models import TEAM_ROLES, CareTeamMember
from ketaclinic.care.service.common import (
    TEAM_KEEPERS,
    TEAM_READERS,
    _current_members,
    _read,
    _record,
    _require,
    _text,
)
from ketaclinic.patients import service as patients
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Invalid, NotFound


def care_team_patient_ids(db: Session, *, user_id: int | None) -> frozenset[int]:
    """Answers ``platform.ports.care_team_patient_ids``: the patients whose current care
    team names this user."""
    if user_id is None:
        return frozenset()
    return frozenset(
        db.scalars(
            select(CareTeamMember.patient_id).where(
                CareTeamMember.user_id == user_id, CareTeamMember.ended_at.is_(None)
            )
        )
    )


def primary_clinician_username(db: Session, *, patient_id: int) -> str | None:
    """Answers ``platform.ports.primary_clinician``: the current primary clinician's
    username, if they are an active user."""
    return db.scalar(
        select(User.username)
        .join(CareTeamMember, CareTeamMember.user_id == User.id)
        .where(
            CareTeamMember.patient_id == patient_id,
            CareTeamMember.primary.is_(True),
            CareTeamMember.ended_at.is_(None),
            User.active.is_(True),
        )
        .limit(1)
    )


def care_team(db: Session, *, actor: Actor, patient_id: int) -> list[CareTeamMember]:
    """The patient's current care team, the primary clinician first."""
    _require(actor, TEAM_READERS, "read care teams")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    rows = _current_members(db, patient_id)
    _read(db, actor, "care_team.view", patient_id, "care_team", f"{len(rows)} members")
    db.flush()
    return rows


def add_member(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    role: str,
    user_id: int | None = None,
    name: str = "",
    organisation: str = "",
    phone: str = "",
    email: str = "",
    primary: bool = False,
) -> CareTeamMember:
    """Add someone to the patient's care team. A clinic member is a user holding the role
    they take on the team; the referring clinician is outside the clinic and needs a name
    and a phone or an e-mail. Naming a new primary clinician ends the old one's mark."""
    _require(actor, TEAM_KEEPERS, "change care teams")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    if role not in TEAM_ROLES:
        raise Invalid(f"the role must be one of {', '.join(TEAM_ROLES)}", fields={"role": role})
    current = _current_members(db, patient_id)
    if role == "referring":
        if user_id is not None:
            raise Invalid(
                "the referring clinician is outside the clinic: give their contact details",
                fields={"user_id": "not for a referring clinician"},
            )
        name = _text(name, field="name", what="the referring clinician's name", required=True)
        if not (phone.strip() or email.strip()):
            raise Invalid("give a phone number or an e-mail address", fields={"phone": "required"})
        if primary:
            raise Invalid(
                "the primary clinician is a member of the clinic", fields={"primary": "clinic only"}
            )
        shown = name
    else:
        if user_id is None:
            raise Invalid("choose the clinic member", fields={"user_id": "required"})
        user = db.get(User, user_id)
        if user is None or not user.active or role not in user.role_names:
            raise Invalid(
                f"choose an active user who holds the {role} role",
                fields={"user_id": "not a " + role},
            )
        if any(m.user_id == user_id and m.role == role for m in current):
            raise Conflict(f"{user.full_name} is already on this care team as {role}")
        shown = user.full_name or user.username
    if primary:
        for member in current:
            member.primary = False
    row = CareTeamMember(
        patient_id=patient_id,
        role=role,
        user_id=user_id,
        name=shown,
        organisation=organisation.strip() or None,
        phone=phone.strip() or None,
        email=email.strip() or None,
        primary=primary,
        added_by=actor.username,
    )
    db.add(row)
    db.flush()
    _record(
        db,
        actor,
        "care_team.add",
        patient_id,
        "care_team_member",
        row.id,
        f"{role}{' (primary clinician)' if primary else ''}",
    )
    db.flush()
    return row


def _member(db: Session, member_id: int) -> CareTeamMember:
    row = db.get(CareTeamMember, member_id)
    if row is None or row.ended_at is not None:
        raise NotFound(f"no current care-team member {member_id}")
    return row


def make_primary(db: Session, *, actor: Actor, member_id: int) -> CareTeamMember:
    _require(actor, TEAM_KEEPERS, "change care teams")
    row = _member(db, member_id)
    if row.user_id is None:
        raise Invalid(
            "the primary clinician is a member of the clinic", fields={"primary": "clinic"}
        )
    for member in _current_members(db, row.patient_id):
        member.primary = member.id == row.id
    _record(db, actor, "care_team.primary", row.patient_id, "care_team_member", row.id, row.role)
    db.flush()
    return row


def end_member(db: Session, *, actor: Actor, member_id: int, reason: str) -> CareTeamMember:
    """Someone leaves the care team: kept with the date and the reason."""
    _require(actor, TEAM_KEEPERS, "change care teams")
    row = _member(db, member_id)
    patients.check_patient(db, actor=actor, patient_id=row.patient_id)
    row.end_reason = _text(reason, field="reason", what="why they leave the team", required=True)
    row.ended_at = utcnow()
    row.ended_by = actor.username
    row.primary = False
    _record(db, actor, "care_team.end", row.patient_id, "care_team_member", row.id, row.end_reason)
    db.flush()
    return row


def team_candidates(db: Session, *, actor: Actor) -> dict[str, list[User]]:
    """The active users who can take each clinic role on a care team."""
    _require(actor, TEAM_KEEPERS, "change care teams")
    users = list(db.scalars(select(User).where(User.active.is_(True)).order_by(User.full_name)))
    return {
        role: [u for u in users if role in u.role_names]
        for role in ("prescriber", "nurse", "therapist")
    }


def my_patients(db: Session, *, actor: Actor, query: str = "") -> list[patients.Patient]:
    """The register as this actor may see it: a therapist's search finds only the patients
    on their care teams (the patients area's wall)."""
    _require(actor, TEAM_READERS, "search patients")
    return patients.search_patients(db, actor=actor, query=query, limit=100)
