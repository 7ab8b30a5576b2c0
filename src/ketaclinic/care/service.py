"""What people do with the plan around a course. Every read and write of patient data
is audited; services flush, the request or job commits.

- the care team: prescriber of record, infusion nurses, therapist, the referring
  clinician outside the clinic, one primary clinician (``add_member``, ``end_member``,
  ``care_team``); a therapist reaches only the patients on their care teams (the
  patients area's wall asks ``care_team_patient_ids`` through ``platform.ports``);
- therapy sessions (preparation, in-session support, integration) booked in therapy
  rooms through scheduling, with a structured note signed by password and addenda
  (``schedule_therapy``, ``sign_therapy_note``, ``add_therapy_addendum``);
- the medication plan, whose changes during a course are shown with their interaction
  findings at the next order (``add_medication``, ``stop_medication``,
  ``medication_changes_for_order``);
- course decisions that create the next order draft and planned sessions (``decide``);
- boosters proposed by the relapse rule or asked for by the patient (``score_recorded``,
  ``request_booster``, ``accept_booster``, ``decline_booster``);
- the patient's own plan in the portal (``my_plan``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.candidacy import service as candidacy
from ketaclinic.care.models import (
    TEAM_ROLES,
    BoosterProposal,
    CareTeamMember,
    CourseDecision,
    MedicationEntry,
    TherapyNote,
    TherapySession,
)
from ketaclinic.clinical import calendar, dosing
from ketaclinic.clinical import course as clinical_course
from ketaclinic.clinical.course import plan as clinical_plan
from ketaclinic.configuration import service as configuration
from ketaclinic.orders import service as orders
from ketaclinic.outcomes import service as outcomes
from ketaclinic.patients import service as patients
from ketaclinic.platform import ports
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.clock import clinic_today
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid, NotFound
from ketaclinic.platform.roles import Role
from ketaclinic.platform.settings import get_settings
from ketaclinic.scheduling import service as scheduling
from ketaclinic.sessions import service as sessions

# Who keeps the care team: the prescriber and the front desk (who registers referrals).
TEAM_KEEPERS = frozenset({Role.prescriber, Role.front_desk})
TEAM_READERS = frozenset({Role.prescriber, Role.nurse, Role.front_desk, Role.therapist})
# Psychotherapy is written by therapists (and prescribers who give it themselves).
THERAPY_WRITERS = frozenset({Role.therapist, Role.prescriber})
THERAPY_READERS = frozenset({Role.therapist, Role.prescriber, Role.nurse})
THERAPY_BOOKERS = frozenset({Role.therapist, Role.prescriber, Role.front_desk})
MEDICATION_WRITERS = frozenset({Role.prescriber, Role.nurse})
MEDICATION_READERS = frozenset({Role.prescriber, Role.nurse, Role.therapist})
DECIDERS = frozenset({Role.prescriber})
PLAN_READERS = frozenset({Role.prescriber, Role.nurse, Role.front_desk})

PHASES = ("preparation", "support", "integration")
# Phases that hold a therapy room; in-session support sits beside the dosing session.
ROOM_PHASES = ("preparation", "integration")
CHOICES: dict[str, str] = {
    "extend": "Extend the induction",
    "titrate": "Titrate within the protocol's range",
    "maintenance": "Move to maintenance boosters",
    "switch_route": "Switch route",
    "stop": "Stop the course",
}
# Scores taken on the course's schedule or at a visit count for the relapse rule; a
# pre-session score is taken at a dosing session and a rapid-response score 24 hours
# after the first one, neither of which says whether maintenance holds.
RELAPSE_CONTEXTS = ("weekly", "monthly", "visit")
THERAPY_NOTE_MEANING = "authored this therapy note"
THERAPY_ADDENDUM_MEANING = "authored this addendum to the therapy note"
CARE_JOB = Actor(
    user_id=None,
    username="care-plan",
    full_name="care plan checks",
    roles=frozenset({Role.nurse}),
)


def _require(actor: Actor, roles: frozenset[Role], what: str) -> None:
    if not actor.roles & roles:
        raise Forbidden(f"your role does not permit you to {what}")


def _record(
    db: Session, actor: Actor, action: str, patient_id: int, kind: str, oid: object, detail: str
) -> None:
    audit.record(
        db,
        actor=actor,
        action=action,
        patient_id=patient_id,
        object_type=kind,
        object_id=oid,
        detail=detail[:300],
    )


def _read(db: Session, actor: Actor, action: str, patient_id: int, kind: str, detail: str) -> None:
    audit.note_read(
        db, actor=actor, action=action, patient_id=patient_id, object_type=kind, detail=detail
    )


def _text(value: str | None, *, field: str, what: str, required: bool, limit: int = 4000) -> str:
    cleaned = (value or "").strip()
    if required and len(cleaned) < 3:
        raise Invalid(f"write {what}", fields={field: "required"})
    if len(cleaned) > limit:
        raise Invalid(
            f"{what} is too long ({limit} characters at most)", fields={field: "too long"}
        )
    return cleaned


# ------------------------------------------------------------------ the care team


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


def _primaries(db: Session, patient_ids: set[int]) -> dict[int, str]:
    """``primary_clinician_username`` for several patients, in one query."""
    if not patient_ids:
        return {}
    return dict(
        db.execute(
            select(CareTeamMember.patient_id, User.username)
            .join(User, User.id == CareTeamMember.user_id)
            .where(
                CareTeamMember.patient_id.in_(sorted(patient_ids)),
                CareTeamMember.primary.is_(True),
                CareTeamMember.ended_at.is_(None),
                User.active.is_(True),
            )
        ).all()
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


def _current_members(db: Session, patient_id: int) -> list[CareTeamMember]:
    return list(
        db.scalars(
            select(CareTeamMember)
            .where(CareTeamMember.patient_id == patient_id, CareTeamMember.ended_at.is_(None))
            .order_by(CareTeamMember.primary.desc(), CareTeamMember.role, CareTeamMember.id)
        )
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


# ------------------------------------------------------------------ therapy


def _phase_rows(db: Session) -> dict[str, clinical_plan.TherapyPhase]:
    return clinical_plan.therapy_phases(configuration.clinic_overrides(db, "course.therapy_phases"))


def _therapist_on_team(db: Session, patient_id: int, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None or not user.active or Role.therapist.value not in user.role_names:
        raise Invalid("choose an active therapist", fields={"therapist_user_id": "not a therapist"})
    on_team = db.scalar(
        select(CareTeamMember.id).where(
            CareTeamMember.patient_id == patient_id,
            CareTeamMember.user_id == user_id,
            CareTeamMember.role == "therapist",
            CareTeamMember.ended_at.is_(None),
        )
    )
    if on_team is None:
        raise Invalid(
            f"{user.full_name} is not the therapist on this patient's care team: add them first",
            fields={"therapist_user_id": "not on the care team"},
        )
    return user


def schedule_therapy(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    phase: str,
    therapist_user_id: int,
    starts_at: datetime,
    room_id: int | None = None,
    minutes: int | None = None,
    now: datetime | None = None,
) -> TherapySession:
    """Plan a therapy session of ``phase`` with the patient's care-team therapist: a
    preparation or integration session holds a therapy room on the calendar (through
    scheduling); in-session support sits beside a dosing session."""
    _require(actor, THERAPY_BOOKERS, "book therapy sessions")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    rows = _phase_rows(db)
    if phase not in rows:
        raise Invalid(f"the phase must be one of {', '.join(PHASES)}", fields={"phase": phase})
    books_for_others = bool(actor.roles & {Role.prescriber, Role.front_desk})
    if not books_for_others and therapist_user_id != actor.user_id:
        raise Forbidden("a therapist books their own sessions")
    therapist = _therapist_on_team(db, patient_id, therapist_user_id)
    length = minutes if minutes is not None else rows[phase].minutes
    if not 10 <= length <= 240:
        raise Invalid("a therapy session lasts 10 to 240 minutes", fields={"minutes": "10-240"})
    ends_at = starts_at + timedelta(minutes=length)
    busy = [
        s
        for s in db.scalars(
            select(TherapySession).where(
                TherapySession.therapist_user_id == therapist.id,
                TherapySession.starts_at < ends_at,
                TherapySession.starts_at > starts_at - timedelta(hours=4),
            )
        )
        if s.starts_at + timedelta(minutes=s.minutes) > starts_at
    ]
    if busy:
        raise Conflict(
            f"{therapist.full_name} already has a therapy session then",
            fields={"starts_at": "therapist busy"},
        )
    appointment_id = None
    if phase in ROOM_PHASES:
        if room_id is None:
            raise Invalid("choose a therapy room", fields={"room_id": "required"})
        appointment = scheduling.book_therapy(
            db,
            actor=actor,
            patient_id=patient_id,
            room_id=room_id,
            starts_at=starts_at,
            minutes=length,
            label=f"{rows[phase].label} with {therapist.full_name}",
            now=now,
        )
        appointment_id = appointment.id
    course = orders.latest_course(db, patient_id)
    row = TherapySession(
        patient_id=patient_id,
        course_id=course.id if course is not None and course.status == "active" else None,
        phase=phase,
        therapist_user_id=therapist.id,
        appointment_id=appointment_id,
        starts_at=starts_at,
        minutes=length,
        status="booked",
        created_by=actor.username,
    )
    db.add(row)
    db.flush()
    _record(
        db,
        actor,
        "therapy.schedule",
        patient_id,
        "therapy_session",
        row.id,
        f"{phase} {starts_at.isoformat()} {length} min with {therapist.username}",
    )
    db.flush()
    return row


def _therapy_session(db: Session, actor: Actor, therapy_session_id: int) -> TherapySession:
    row = db.get(TherapySession, therapy_session_id)
    if row is None:
        raise NotFound(f"no therapy session {therapy_session_id}")
    patients.check_patient(db, actor=actor, patient_id=row.patient_id)
    return row


@dataclass
class TherapyRecord:
    session: TherapySession
    therapist: str
    notes: list[TherapyNote]


def therapy_sessions(db: Session, *, actor: Actor, patient_id: int) -> list[TherapyRecord]:
    """The patient's therapy sessions, newest first, each with its signed note and
    addenda."""
    _require(actor, THERAPY_READERS, "read therapy notes")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    sessions = list(
        db.scalars(
            select(TherapySession)
            .where(TherapySession.patient_id == patient_id)
            .order_by(TherapySession.starts_at.desc())
        )
    )
    notes: dict[int, list[TherapyNote]] = {}
    if sessions:
        for note in db.scalars(
            select(TherapyNote)
            .where(TherapyNote.therapy_session_id.in_([s.id for s in sessions]))
            .order_by(TherapyNote.version)
        ):
            notes.setdefault(note.therapy_session_id, []).append(note)
    names = (
        dict(
            db.execute(
                select(User.id, User.full_name).where(
                    User.id.in_({s.therapist_user_id for s in sessions})
                )
            ).all()
        )
        if sessions
        else {}
    )
    _read(db, actor, "therapy.list", patient_id, "therapy_session", f"{len(sessions)} sessions")
    db.flush()
    return [
        TherapyRecord(s, names.get(s.therapist_user_id, ""), notes.get(s.id, [])) for s in sessions
    ]


def get_therapy_session(db: Session, *, actor: Actor, therapy_session_id: int) -> TherapyRecord:
    _require(actor, THERAPY_READERS, "read therapy notes")
    row = _therapy_session(db, actor, therapy_session_id)
    notes = list(
        db.scalars(
            select(TherapyNote)
            .where(TherapyNote.therapy_session_id == row.id)
            .order_by(TherapyNote.version)
        )
    )
    therapist = db.get(User, row.therapist_user_id)
    _read(db, actor, "therapy.view", row.patient_id, "therapy_session", f"session {row.id}")
    db.flush()
    return TherapyRecord(row, therapist.full_name if therapist else "", notes)


def sign_therapy_note(
    db: Session,
    *,
    actor: Actor,
    therapy_session_id: int,
    password: str,
    goals: str = "",
    themes: str = "",
    homework: str = "",
    risk_review: str = "",
    cssrs_indicated: bool = False,
    cssrs_answers: Mapping[str, int] | None = None,
    now: datetime | None = None,
) -> TherapyNote:
    """The therapist's structured note, signed with their password; the session is then
    held. A C-SSRS screen, when the risk review calls for one, is recorded as the
    patient's questionnaire (which raises a suicidality alert on a positive screen, to
    the primary clinician first)."""
    _require(actor, THERAPY_WRITERS, "write therapy notes")
    row = _therapy_session(db, actor, therapy_session_id)
    if row.therapist_user_id != actor.user_id and Role.prescriber not in actor.roles:
        raise Forbidden("only the session's therapist writes its note")
    if db.scalar(select(TherapyNote.id).where(TherapyNote.therapy_session_id == row.id)):
        raise Conflict("this session's note is signed: add an addendum")
    goals = _text(goals, field="goals", what="the goals", required=True)
    themes = _text(themes, field="themes", what="the themes", required=row.phase != "preparation")
    homework = _text(homework, field="homework", what="the homework", required=False)
    risk_review = _text(risk_review, field="risk_review", what="the risk review", required=True)
    if cssrs_indicated and not cssrs_answers:
        raise Invalid(
            "the risk review calls for a C-SSRS screen: answer it", fields={"cssrs": "required"}
        )
    if not cssrs_indicated and cssrs_answers:
        raise Invalid(
            "tick that a C-SSRS screen is indicated to record one",
            fields={"cssrs": "not indicated"},
        )
    moment = now or utcnow()
    signature = accounts.confirm_signature(
        db,
        actor=actor,
        password=password,
        meaning=THERAPY_NOTE_MEANING,
        object_type="therapy_session",
        object_id=row.id,
        patient_id=row.patient_id,
        at=moment,
    )
    response_id = risk = None
    if cssrs_indicated and cssrs_answers:
        response = outcomes.record_response(
            db,
            actor=actor,
            patient_id=row.patient_id,
            instrument_id="cssrs_screen",
            answers=dict(cssrs_answers),
            context="visit",
            completed_at=moment,
        )
        response_id, risk = response.id, response.risk
    note = TherapyNote(
        therapy_session_id=row.id,
        patient_id=row.patient_id,
        kind="note",
        version=1,
        goals=goals,
        themes=themes or None,
        homework=homework or None,
        risk_review=risk_review,
        cssrs_indicated=cssrs_indicated,
        cssrs_response_id=response_id,
        cssrs_risk=risk,
        signed_by=signature.username,
        signed_by_name=signature.printed_name,
        signed_at=signature.at,
        signature_meaning=signature.meaning,
    )
    db.add(note)
    row.status = "completed"
    if row.appointment_id is not None:
        scheduling.complete_therapy(db, actor=actor, appointment_id=row.appointment_id)
    db.flush()
    _record(
        db,
        actor,
        "therapy.note_sign",
        row.patient_id,
        "therapy_note",
        note.id,
        f"{row.phase} note; C-SSRS {risk or 'not indicated'}; signed by "
        f"{signature.printed_name}: {signature.meaning}",
    )
    db.flush()
    return note


def add_therapy_addendum(
    db: Session, *, actor: Actor, therapy_session_id: int, text: str, password: str
) -> TherapyNote:
    """A signed addendum: the note's next version, the note itself unchanged."""
    _require(actor, THERAPY_WRITERS, "write therapy notes")
    row = _therapy_session(db, actor, therapy_session_id)
    versions = list(
        db.scalars(select(TherapyNote.version).where(TherapyNote.therapy_session_id == row.id))
    )
    if not versions:
        raise Conflict("sign the note before adding an addendum")
    body = _text(text, field="text", what="the addendum", required=True)
    signature = accounts.confirm_signature(
        db,
        actor=actor,
        password=password,
        meaning=THERAPY_ADDENDUM_MEANING,
        object_type="therapy_session",
        object_id=row.id,
        patient_id=row.patient_id,
    )
    note = TherapyNote(
        therapy_session_id=row.id,
        patient_id=row.patient_id,
        kind="addendum",
        version=max(versions) + 1,
        body=body,
        signed_by=signature.username,
        signed_by_name=signature.printed_name,
        signed_at=signature.at,
        signature_meaning=signature.meaning,
    )
    db.add(note)
    db.flush()
    _record(
        db, actor, "therapy.addendum", row.patient_id, "therapy_note", note.id, f"v{note.version}"
    )
    db.flush()
    return note


# ------------------------------------------------------------------ preparation


PREPARATION_LABEL = "Preparation therapy note signed before the first dose"


def preparation_check(
    db: Session, *, patient_id: int, protocol_id: str, course_id: int
) -> ports.PreparationCheck | None:
    """Answers ``platform.ports.preparation_check``: for a protocol whose row in the
    clinic's ``course.preparation`` table is required, whether the signed preparation
    notes (of sessions of this course, or of no course) are on file. Flush-free; the
    session's read audits itself."""
    rules = clinical_plan.preparation_requirements(
        configuration.overrides_for(db, "course.preparation")
    )
    rule = rules.get(protocol_id)
    if rule is None or not rule.required:
        return None
    signed = len(
        db.scalars(
            select(TherapyNote.id)
            .join(TherapySession, TherapySession.id == TherapyNote.therapy_session_id)
            .where(
                TherapySession.patient_id == patient_id,
                TherapySession.phase == "preparation",
                TherapyNote.kind == "note",
                (TherapySession.course_id == course_id) | TherapySession.course_id.is_(None),
            )
        ).all()
    )
    status = clinical_plan.preparation_status(rule, signed)
    return ports.PreparationCheck(
        id="preparation",
        label=PREPARATION_LABEL,
        met=status.met,
        text=status.text,
        basis=rule.source,
        evidence=rule.evidence,
    )


# ------------------------------------------------------------------ medication plan


@dataclass
class MedicationView:
    entry: MedicationEntry
    findings: tuple[clinical_course.Finding, ...]
    in_table: bool


def _findings(name: str) -> tuple[tuple[clinical_course.Finding, ...], bool]:
    report = clinical_course.check_medications([name])
    return report.findings, not report.unknown


def medication_plan(db: Session, *, actor: Actor, patient_id: int) -> list[MedicationView]:
    """The patient's medications, current first, each with its interaction findings."""
    _require(actor, MEDICATION_READERS, "read the medication plan")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    rows = list(
        db.scalars(
            select(MedicationEntry)
            .where(MedicationEntry.patient_id == patient_id)
            .order_by(MedicationEntry.stopped_on.is_not(None), MedicationEntry.started_on.desc())
        )
    )
    _read(db, actor, "medication.plan", patient_id, "medication_entry", f"{len(rows)} entries")
    db.flush()
    return [MedicationView(r, *_findings(r.name)) for r in rows]


def add_medication(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    name: str,
    kind: str,
    prescriber: str,
    started_on: date,
    dose: str = "",
) -> MedicationView:
    """A medication the patient takes from ``started_on``; its interaction findings
    against the course's drug come back at once and at the course's next order."""
    _require(actor, MEDICATION_WRITERS, "change the medication plan")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    name = _text(name, field="name", what="the medication's name", required=True, limit=200)
    if kind not in ("psychiatric", "other"):
        raise Invalid("the kind is psychiatric or other", fields={"kind": kind})
    prescriber = _text(
        prescriber, field="prescriber", what="who prescribes it", required=True, limit=200
    )
    if started_on > clinic_today() + timedelta(days=365):
        raise Invalid("the start date is more than a year ahead", fields={"started_on": "too far"})
    row = MedicationEntry(
        patient_id=patient_id,
        name=name,
        dose=dose.strip()[:120] or None,
        kind=kind,
        prescriber=prescriber,
        started_on=started_on,
        recorded_by=actor.username,
    )
    db.add(row)
    db.flush()
    findings, known = _findings(name)
    _record(
        db,
        actor,
        "medication.start",
        patient_id,
        "medication_entry",
        row.id,
        f"started {started_on}; "
        + (
            ", ".join(f.drug_class for f in findings) or ("no finding" if known else "not in table")
        ),
    )
    db.flush()
    return MedicationView(row, findings, known)


def stop_medication(
    db: Session, *, actor: Actor, entry_id: int, stopped_on: date, reason: str
) -> MedicationEntry:
    _require(actor, MEDICATION_WRITERS, "change the medication plan")
    row = db.get(MedicationEntry, entry_id)
    if row is None:
        raise NotFound(f"no medication entry {entry_id}")
    patients.check_patient(db, actor=actor, patient_id=row.patient_id)
    if row.stopped_on is not None:
        raise Conflict(f"{row.name} was already stopped on {row.stopped_on}")
    if stopped_on < row.started_on:
        raise Invalid("the stop date is before the start", fields={"stopped_on": "before start"})
    row.stop_reason = _text(reason, field="reason", what="why it stops", required=True)
    row.stopped_on = stopped_on
    row.stopped_by = actor.username
    row.stopped_at = utcnow()
    _record(
        db,
        actor,
        "medication.stop",
        row.patient_id,
        "medication_entry",
        row.id,
        f"stopped {stopped_on}",
    )
    db.flush()
    return row


def _port_finding(f: clinical_course.Finding) -> ports.InteractionFinding:
    return ports.InteractionFinding(
        medication=f.medication,
        drug_class=f.drug_class,
        severity=f.severity,
        effect=f.effect,
        advice=f.advice,
        source=f.source,
        evidence=f.evidence,
    )


def medication_changes_for_order(
    db: Session, *, actor: Actor, patient_id: int
) -> list[ports.MedicationChange]:
    """Answers ``platform.ports.medication_changes``: what the medication plan gained or
    lost since the active course's current order was signed (or since the course opened,
    before its first order), each with the interaction table re-run for it."""
    if not actor.roles & {Role.prescriber, Role.nurse}:
        return []
    course = orders.active_course(db, actor=actor, patient_id=patient_id)
    if course is None:
        return []
    current = orders.current_order(db, actor=actor, course_id=course.id)
    since = current.signed_at if current is not None and current.signed_at else course.created_at
    rows = list(
        db.scalars(
            select(MedicationEntry)
            .where(MedicationEntry.patient_id == patient_id)
            .order_by(MedicationEntry.recorded_at)
        )
    )
    changes: list[ports.MedicationChange] = []
    for row in rows:
        findings = tuple(_port_finding(f) for f in _findings(row.name)[0])
        if row.recorded_at > since:
            changes.append(
                ports.MedicationChange(
                    row.name, "started", row.started_on, row.prescriber, findings
                )
            )
        if row.stopped_at is not None and row.stopped_on is not None and row.stopped_at > since:
            changes.append(
                ports.MedicationChange(
                    row.name, "stopped", row.stopped_on, row.prescriber, findings
                )
            )
    if changes:
        _read(
            db,
            actor,
            "medication.changes",
            patient_id,
            "medication_entry",
            f"{len(changes)} change(s) since order {current.id if current else 'none'}",
        )
        db.flush()
    return changes


# ------------------------------------------------------------------ course decisions


@dataclass
class DecisionScreen:
    course: orders.Course
    patient: patients.Patient
    outcomes: Any  # outcomes.patient_outcomes: the standing and its classification
    given: list[Any]  # sessions.completed_sessions of the course: dose, CADSS, side effects
    course_orders: list[orders.Order]
    current: orders.Order | None
    planned: list[orders.PlannedSession]
    next_step: float | None
    schedules: list[clinical_plan.MaintenanceSchedule]
    decisions: list[CourseDecision]
    proposals: list[BoosterProposal]
    medication_changes: list[ports.MedicationChange]
    in_maintenance: bool = False
    switch_options: list[SwitchOption] = field(default_factory=list)


@dataclass(frozen=True)
class SwitchOption:
    """A protocol on another route the course may switch to, and whether the patient's
    candidacy decision covers that route (else where to evaluate it)."""

    protocol_id: str
    label: str
    route: str
    infusion: bool
    covered: bool
    why: str
    evaluate_path: str


def _other_routes(course: orders.Course) -> list[dosing.Protocol]:
    table = {p.id: p for p in dosing.protocols()}
    here = table[course.protocol_id].route if course.protocol_id in table else None
    return [p for p in table.values() if p.route != here]


def switch_options(db: Session, *, actor: Actor, course: orders.Course) -> list[SwitchOption]:
    """The protocols of the other routes, each with what the patient's current
    candidacy decision says of its route: a course opens only on a route a decision
    clears (``orders.open_course``)."""
    cleared = candidacy.clearance(db, actor=actor, patient_id=course.patient_id)
    decided_route = cleared.decision.route if cleared.decision is not None else None
    found = []
    for p in _other_routes(course):
        covered = cleared.cleared and decided_route == p.route
        if covered:
            why = f"candidacy decided for the {p.route} route: {cleared.why}"
        elif cleared.cleared:
            why = (
                f"the candidacy decision covers the {decided_route} route, not {p.route}: "
                f"record an intake for the {p.route} route and decide candidacy on it first"
            )
        else:
            why = f"no candidacy decision clears a course: {cleared.why}"
        found.append(
            SwitchOption(
                p.id,
                f"{p.name} ({p.route})",
                p.route,
                p.infusion,
                covered,
                why,
                f"/patients/{course.patient_id}/intake/new?route={p.route}",
            )
        )
    return found


def _maintenance_rows(db: Session) -> dict[str, clinical_plan.MaintenanceSchedule]:
    overrides = configuration.clinic_overrides(db, "course.maintenance")
    return {k: clinical_plan.maintenance(k, overrides) for k in clinical_plan.MAINTENANCE}


def _decisions(db: Session, course_id: int) -> list[CourseDecision]:
    return list(
        db.scalars(
            select(CourseDecision)
            .where(CourseDecision.course_id == course_id)
            .order_by(CourseDecision.decided_at.desc(), CourseDecision.id.desc())
        )
    )


def _maintenance_since(db: Session, course_id: int) -> datetime | None:
    """When the course moved to maintenance, if it did."""
    for row in _decisions(db, course_id):
        if row.choice == "maintenance":
            return row.decided_at
    return None


def decision_screen(
    db: Session, *, actor: Actor, course_id: int, now: datetime | None = None
) -> DecisionScreen:
    """Everything the prescriber decides on: the trajectory (scores against baseline,
    sessions given with doses, side effects and dissociation), the classification with its
    rule, the orders and planned sessions, and the choices with their schedules."""
    _require(actor, DECIDERS, "decide on a course")
    course = orders.get_course(db, actor=actor, course_id=course_id)
    seen = outcomes.patient_outcomes(db, actor=actor, patient_id=course.patient_id, now=now)
    given = [
        s
        for s in sessions.completed_sessions(db, actor=actor, patient_id=course.patient_id)
        if s.protocol_id == course.protocol_id
    ]
    rows = orders.course_orders(db, actor=actor, course_id=course.id)
    current = next((o for o in rows if o.status == "signed"), None)
    route = current.route if current is not None else None
    schedules = [
        s for s in _maintenance_rows(db).values() if route is None or s.route in (route, "")
    ] or list(_maintenance_rows(db).values())
    proposals = list(
        db.scalars(
            select(BoosterProposal)
            .where(BoosterProposal.course_id == course.id)
            .order_by(BoosterProposal.proposed_at.desc())
        )
    )
    return DecisionScreen(
        course=course,
        patient=seen.patient,
        outcomes=seen,
        given=given,
        course_orders=rows,
        current=current,
        planned=orders.planned_sessions(db, actor=actor, course_id=course.id),
        next_step=orders.next_titration_step(current) if current is not None else None,
        schedules=schedules,
        decisions=_decisions(db, course.id),
        proposals=proposals,
        medication_changes=medication_changes_for_order(
            db, actor=actor, patient_id=course.patient_id
        ),
        in_maintenance=_maintenance_since(db, course.id) is not None,
        switch_options=switch_options(db, actor=actor, course=course)
        if course.status == "active"
        else [],
    )


@dataclass
class Decided:
    decision: CourseDecision
    order: orders.Order | None
    planned: list[orders.PlannedSession] = field(default_factory=list)
    next_course: orders.Course | None = None


def _classification_words(db: Session, actor: Actor, patient_id: int) -> str:
    seen = outcomes.patient_outcomes(db, actor=actor, patient_id=patient_id)
    status = seen.standing.status
    if status is None:
        return seen.standing.problem or "no scores to classify"
    return "; ".join(status.reasons)[:4000]


def decide(
    db: Session,
    *,
    actor: Actor,
    course_id: int,
    choice: str,
    reason: str,
    extra_sessions: int | None = None,
    schedule_id: str | None = None,
    weekly: int | None = None,
    fortnightly: int | None = None,
    monthly: int | None = None,
    protocol_id: str | None = None,
    concentration_mg_per_ml: float | None = None,
    bag_volume_ml: float | None = None,
    series_sessions: int | None = None,
    now: datetime | None = None,
) -> Decided:
    """Record the prescriber's decision with its reason and the classification it was
    made on, and do what it means through the orders service: the next order draft (to
    sign) and the planned sessions (for the front desk to book).

    Switching route (``protocol_id`` on another route) stops the course and opens the
    next one on that protocol, with its induction series planned and a draft order at
    the protocol's standard dose (``concentration_mg_per_ml`` and ``bag_volume_ml`` for
    an infusion; ``series_sessions`` where the protocol sets no series length), when
    the patient's candidacy decision covers that route. When it does not, nothing is
    changed: the refusal says so and where to evaluate candidacy for that route."""
    _require(actor, DECIDERS, "decide on a course")
    if choice not in CHOICES:
        raise Invalid(
            f"choose one of: {', '.join(CHOICES.values())}", fields={"choice": "required"}
        )
    reason = _text(reason, field="reason", what="the reason for the decision", required=True)
    course = orders.get_course(db, actor=actor, course_id=course_id)
    if course.status != "active":
        raise Conflict(f"the course is {course.status}: nothing left to decide")
    current = orders.current_order(db, actor=actor, course_id=course.id)
    words = _classification_words(db, actor, course.patient_id)
    order = None
    next_course = None
    planned: list[orders.PlannedSession] = []
    schedule: dict[str, Any] | None = None
    label = CHOICES[choice]
    if choice in ("extend", "titrate", "maintenance") and current is None:
        raise Conflict("the course has no signed order to continue: sign its first order")
    if choice == "extend":
        if extra_sessions is None or not 1 <= extra_sessions <= 12:
            raise Invalid("extend by 1 to 12 sessions", fields={"extra_sessions": "1 to 12"})
        planned = orders.add_planned_sessions(
            db,
            actor=actor,
            course_id=course.id,
            kind="induction",
            earliest_on=[None] * extra_sessions,
            reason=f"decision: extend by {extra_sessions}: {reason}",
        )
        assert current is not None
        order = orders.repeat_order(
            db, actor=actor, order_id=current.id, reason=f"induction extended by {extra_sessions}"
        )
    elif choice == "titrate":
        assert current is not None
        order = orders.titrate(db, actor=actor, order_id=current.id)
        if extra_sessions:
            if not 1 <= extra_sessions <= 12:
                raise Invalid("extend by 1 to 12 sessions", fields={"extra_sessions": "1 to 12"})
            planned = orders.add_planned_sessions(
                db,
                actor=actor,
                course_id=course.id,
                kind="induction",
                earliest_on=[None] * extra_sessions,
                reason=f"decision: titrate and extend by {extra_sessions}: {reason}",
            )
    elif choice == "maintenance":
        rows = _maintenance_rows(db)
        if schedule_id not in rows:
            raise Invalid("choose a maintenance schedule", fields={"schedule_id": "required"})
        declared = rows[schedule_id]
        counts = {
            "weekly": declared.weekly if weekly is None else weekly,
            "fortnightly": declared.fortnightly if fortnightly is None else fortnightly,
            "monthly": declared.monthly if monthly is None else monthly,
        }
        if any(not 0 <= v <= 12 for v in counts.values()) or not sum(counts.values()):
            raise Invalid(
                "plan 0 to 12 boosters of each spacing, at least one in all",
                fields={"weekly": "0 to 12"},
            )
        gaps = (7,) * counts["weekly"] + (14,) * counts["fortnightly"] + (28,) * counts["monthly"]
        changed = {
            k: {"declared": getattr(declared, k), "chosen": v}
            for k, v in counts.items()
            if v != getattr(declared, k)
        }
        schedule = {
            "schedule": declared.id,
            "gaps_days": list(gaps),
            "source": declared.source,
            "evidence": declared.evidence,
            "changed_for_this_course": changed,
        }
        dates = clinical_plan.booster_dates(clinic_today(), gaps)
        planned = orders.add_planned_sessions(
            db,
            actor=actor,
            course_id=course.id,
            kind="booster",
            earliest_on=list(dates),
            reason=f"decision: maintenance ({declared.id}): {reason}",
        )
        assert current is not None
        order = orders.repeat_order(
            db, actor=actor, order_id=current.id, reason=f"maintenance boosters ({declared.id})"
        )
        label = f"{label}: {declared.label}" + (" (changed for this course)" if changed else "")
    elif choice == "switch_route":
        target = _switch_target(db, actor, course, protocol_id)
        if target.infusion and concentration_mg_per_ml is None:
            raise Invalid(
                "give the drug concentration of the infusion's order",
                fields={"concentration_mg_per_ml": "required for an infusion"},
            )
        orders.end_course(
            db,
            actor=actor,
            course_id=course.id,
            status="stopped",
            reason=f"switching route to {target.protocol_id} ({target.route}): {reason}",
        )
        next_course = orders.open_course(
            db,
            actor=actor,
            patient_id=course.patient_id,
            protocol_id=target.protocol_id,
            indication=course.indication,
            series_sessions=series_sessions,
        )
        order = orders.draft_order(
            db,
            actor=actor,
            course_id=next_course.id,
            data=orders.OrderIn(
                concentration_mg_per_ml=concentration_mg_per_ml if target.infusion else None,
                bag_volume_ml=bag_volume_ml if target.infusion else None,
                notes=f"Route switched from course {course.id} ({course.protocol_id})",
            ),
        )
        planned = orders.planned_sessions(db, actor=actor, course_id=next_course.id)
        label = f"{label} to {target.label}: course {next_course.id}"
    else:
        orders.end_course(db, actor=actor, course_id=course.id, status="stopped", reason=reason)
    decision = CourseDecision(
        course_id=course.id,
        patient_id=course.patient_id,
        choice=choice,
        reason=reason,
        extra_sessions=extra_sessions,
        schedule_id=schedule_id if choice == "maintenance" else None,
        schedule=schedule,
        classification=words,
        order_id=order.id if order is not None else None,
        planned_session_ids=[p.id for p in planned],
        decided_by=actor.username,
        decided_at=now or utcnow(),
    )
    db.add(decision)
    db.flush()
    _record(
        db,
        actor,
        "course.decision",
        course.patient_id,
        "course_decision",
        decision.id,
        f"{label}: {reason}; {len(planned)} session(s) planned"
        + (f"; order draft {order.id}" if order is not None else ""),
    )
    db.flush()
    return Decided(decision, order, planned, next_course)


def _switch_target(
    db: Session, actor: Actor, course: orders.Course, protocol_id: str | None
) -> SwitchOption:
    """The protocol a switch goes to, refused (before anything is written) unless it is
    on another route and the patient's candidacy decision covers that route."""
    if not protocol_id:
        raise Invalid(
            "choose the protocol of the route to switch to", fields={"protocol_id": "required"}
        )
    options = {o.protocol_id: o for o in switch_options(db, actor=actor, course=course)}
    if protocol_id not in options:
        raise Invalid(
            f"{protocol_id} is not a protocol on another route than this course's",
            fields={"protocol_id": "not another route"},
        )
    target = options[protocol_id]
    if not target.covered:
        raise Conflict(
            f"the course is not switched: {target.why} ({target.evaluate_path})",
            fields={"protocol_id": "candidacy does not cover this route"},
        )
    return target


def course_decisions(db: Session, *, actor: Actor, course_id: int) -> list[CourseDecision]:
    _require(actor, PLAN_READERS, "read course decisions")
    course = orders.get_course(db, actor=actor, course_id=course_id)
    rows = _decisions(db, course.id)
    _read(db, actor, "course.decisions", course.patient_id, "course_decision", f"{len(rows)}")
    db.flush()
    return rows


# ------------------------------------------------------------------ boosters


def _tell_prescriber(db: Session, patient_id: int, subject: str, path: str) -> list[str]:
    """The primary clinician first; without one, every prescriber."""
    primary = primary_clinician_username(db, patient_id=patient_id)
    team = [primary] if primary else outcomes.prescriber_usernames(db)
    return outcomes.message_staff(
        db,
        usernames=team,
        kind="booster_proposal",
        subject=subject,
        body=f"{subject}. Review it:",
        patient_id=patient_id,
        path=path,
    )


def _open_proposal(db: Session, course_id: int) -> BoosterProposal | None:
    return db.scalars(
        select(BoosterProposal)
        .where(BoosterProposal.course_id == course_id, BoosterProposal.status == "proposed")
        .limit(1)
    ).first()


def relapse_check(
    db: Session, *, patient_id: int, instrument_id: str
) -> tuple[orders.Course, clinical_plan.RelapseSignal] | None:
    """The relapse signal on the active course's maintenance scores, if any."""
    course = orders.latest_course(db, patient_id)
    if course is None or course.status != "active":
        return None
    since = _maintenance_since(db, course.id)
    if since is None:
        return None
    rules = clinical_plan.relapse_rules(configuration.clinic_overrides(db, "course.relapse"))
    for rule in rules.values():
        if rule.instrument_id != instrument_id:
            continue
        points = outcomes.score_history(
            db, actor=CARE_JOB, patient_id=patient_id, instrument_id=instrument_id
        )
        scores = [
            float(p.total)
            for p in points
            if p.total is not None and p.completed_at >= since and p.context in RELAPSE_CONTEXTS
        ]
        signal = clinical_plan.relapse_signal(rule, scores)
        if signal is not None:
            return course, signal
    return None


def score_recorded(db: Session, *, patient_id: int, instrument_id: str, response_id: int) -> None:
    """Answers ``platform.ports.score_recorded``: in maintenance, a score that completes
    the relapse rule proposes a booster to the prescriber (one open proposal at a time)."""
    if instrument_id not in {r.instrument_id for r in clinical_plan.RELAPSE.values()}:
        return
    _propose_on_signal(
        db, patient_id=patient_id, instrument_id=instrument_id, response_id=response_id
    )


def _propose_on_signal(
    db: Session, *, patient_id: int, instrument_id: str, response_id: int | None
) -> None:
    found = relapse_check(db, patient_id=patient_id, instrument_id=instrument_id)
    if found is None:
        return
    course, signal = found
    if _open_proposal(db, course.id) is not None:
        return
    proposal = BoosterProposal(
        course_id=course.id,
        patient_id=patient_id,
        source="relapse_rule",
        rule_id=signal.rule.id,
        signal=signal.reason,
        response_id=response_id,
        status="proposed",
        proposed_by=CARE_JOB.username,
        proposed_at=utcnow(),
    )
    db.add(proposal)
    db.flush()
    proposal.notified = _tell_prescriber(
        db, patient_id, "Booster proposed: relapse signal", f"/care/boosters/{proposal.id}"
    )
    _record(
        db,
        CARE_JOB,
        "booster.propose",
        patient_id,
        "booster_proposal",
        proposal.id,
        f"relapse rule {signal.rule.id}: {', '.join(f'{v:g}' for v in signal.values)}",
    )
    db.flush()


def relapse_sweep(db: Session) -> int:
    """The daily look at every course in maintenance (not only when a score is
    recorded): a relapse signal with no proposal waiting proposes a booster. Returns the
    number proposed."""
    patient_ids = sorted(
        set(
            db.scalars(
                select(CourseDecision.patient_id).where(CourseDecision.choice == "maintenance")
            )
        )
    )
    instruments = sorted({r.instrument_id for r in clinical_plan.RELAPSE.values()})
    before = len(db.scalars(select(BoosterProposal.id)).all())
    for patient_id in patient_ids:
        for instrument_id in instruments:
            _propose_on_signal(
                db, patient_id=patient_id, instrument_id=instrument_id, response_id=None
            )
    return len(db.scalars(select(BoosterProposal.id)).all()) - before


def escalation_due_at(db: Session, proposal: BoosterProposal) -> datetime:
    """The proposal's time plus the clinic's business days, at the same clinic time."""
    rule = clinical_plan.escalation_rules(configuration.clinic_overrides(db, "course.escalation"))[
        "booster_proposal"
    ]
    zone = get_settings().zone
    local = proposal.proposed_at.astimezone(zone)
    day = calendar.add_business_days(local.date(), rule.business_days, configuration.holidays(db))
    return datetime.combine(day, local.timetz())


def escalate_unanswered_boosters(db: Session, *, now: datetime) -> int:
    """A proposal the primary clinician has not answered in time goes to every
    prescriber (those not told yet); a proposal already sent to every prescriber needs
    no escalation. Returns the number escalated."""
    escalated = 0
    prescribers = outcomes.prescriber_usernames(db)
    waiting = db.scalars(select(BoosterProposal).where(BoosterProposal.status == "proposed"))
    for proposal in list(waiting):
        told = set(proposal.notified or [])
        missing = [u for u in prescribers if u not in told]
        if not missing or escalation_due_at(db, proposal) > now:
            continue
        outcomes.message_staff(
            db,
            usernames=missing,
            kind="booster_proposal",
            subject="Booster proposal unanswered: escalated",
            body="A booster proposal waits past its time for an answer. Review it:",
            patient_id=proposal.patient_id,
            path=f"/care/boosters/{proposal.id}",
        )
        proposal.notified = sorted(told | set(missing))
        _record(
            db,
            CARE_JOB,
            "booster.escalate",
            proposal.patient_id,
            "booster_proposal",
            proposal.id,
            f"unanswered: to {len(missing)} prescriber(s)",
        )
        escalated += 1
    db.flush()
    return escalated


def request_booster(db: Session, *, actor: Actor, note: str = "") -> BoosterProposal:
    """The patient asks for a booster from the portal: a proposal for the prescriber."""
    if not actor.patient_only or actor.patient_id is None:
        raise Forbidden("a patient asks for a booster from their own portal")
    patient_id = actor.patient_id
    course = orders.latest_course(db, patient_id)
    if course is None or course.status != "active":
        raise Conflict("you have no active treatment course: call the clinic")
    if _open_proposal(db, course.id) is not None:
        raise Conflict("a booster is already waiting for your prescriber's answer")
    text = _text(note, field="note", what="a note", required=False, limit=1000)
    proposal = BoosterProposal(
        course_id=course.id,
        patient_id=patient_id,
        source="patient_request",
        signal=f"The patient asked for a booster{': ' + text if text else ''}",
        status="proposed",
        proposed_by=actor.username,
        proposed_at=utcnow(),
    )
    db.add(proposal)
    db.flush()
    proposal.notified = _tell_prescriber(
        db, patient_id, "Booster requested by the patient", f"/care/boosters/{proposal.id}"
    )
    _record(db, actor, "booster.request", patient_id, "booster_proposal", proposal.id, "portal")
    db.flush()
    return proposal


def _proposal(db: Session, actor: Actor, proposal_id: int) -> BoosterProposal:
    row = db.get(BoosterProposal, proposal_id)
    if row is None:
        raise NotFound(f"no booster proposal {proposal_id}")
    patients.check_patient(db, actor=actor, patient_id=row.patient_id)
    return row


def get_proposal(db: Session, *, actor: Actor, proposal_id: int) -> BoosterProposal:
    _require(actor, DECIDERS, "answer booster proposals")
    row = _proposal(db, actor, proposal_id)
    _read(db, actor, "booster.view", row.patient_id, "booster_proposal", f"proposal {row.id}")
    db.flush()
    return row


def accept_booster(
    db: Session, *, actor: Actor, proposal_id: int, earliest_on: date | None = None
) -> BoosterProposal:
    """The prescriber accepts: a planned booster session the front desk books."""
    _require(actor, DECIDERS, "answer booster proposals")
    row = _proposal(db, actor, proposal_id)
    if row.status != "proposed":
        raise Conflict(f"this proposal was already {row.status} by {row.decided_by}")
    planned = orders.add_planned_sessions(
        db,
        actor=actor,
        course_id=row.course_id,
        kind="booster",
        earliest_on=[earliest_on or clinic_today()],
        reason=f"booster proposal {row.id} accepted",
    )
    row.status = "accepted"
    row.decided_by = actor.username
    row.decided_at = utcnow()
    row.planned_session_id = planned[0].id
    _record(
        db,
        actor,
        "booster.accept",
        row.patient_id,
        "booster_proposal",
        row.id,
        f"planned session {planned[0].number}",
    )
    db.flush()
    return row


def decline_booster(db: Session, *, actor: Actor, proposal_id: int, reason: str) -> BoosterProposal:
    _require(actor, DECIDERS, "answer booster proposals")
    row = _proposal(db, actor, proposal_id)
    if row.status != "proposed":
        raise Conflict(f"this proposal was already {row.status} by {row.decided_by}")
    row.decline_reason = _text(
        reason, field="reason", what="why the booster is declined", required=True
    )
    row.status = "declined"
    row.decided_by = actor.username
    row.decided_at = utcnow()
    _record(
        db, actor, "booster.decline", row.patient_id, "booster_proposal", row.id, row.decline_reason
    )
    db.flush()
    return row


@dataclass
class ProposalRow:
    proposal: BoosterProposal
    patient_name: str
    mine: bool


def open_proposals(db: Session, *, actor: Actor) -> list[ProposalRow]:
    """Booster proposals waiting for a prescriber: the actor's own patients (they are the
    primary clinician) first."""
    _require(actor, DECIDERS, "answer booster proposals")
    rows = list(
        db.scalars(
            select(BoosterProposal)
            .where(BoosterProposal.status == "proposed")
            .order_by(BoosterProposal.proposed_at)
            .limit(100)
        )
    )
    names = patients.display_names(db, {r.patient_id for r in rows})
    primaries = _primaries(db, {r.patient_id for r in rows})
    result = [
        ProposalRow(r, names.get(r.patient_id, ""), primaries.get(r.patient_id) == actor.username)
        for r in rows
    ]
    for pid in sorted({r.patient_id for r in rows}):
        _read(db, actor, "booster.list", pid, "booster_proposal", "open proposals")
    db.flush()
    return sorted(result, key=lambda r: (not r.mine, r.proposal.proposed_at))


# ------------------------------------------------------------------ the patient's plan


@dataclass
class ScoreWords:
    instrument: str
    when: datetime
    total: int
    words: str


@dataclass
class PortalPlan:
    done: list[orders.PlannedSession]
    planned: list[orders.PlannedSession]
    therapy: list[TherapySession]
    scores: list[ScoreWords]
    proposal: BoosterProposal | None
    has_course: bool


_NAMES = {"phq9": "PHQ-9 (depression)", "gad7": "GAD-7 (anxiety)", "pcl5": "PCL-5 (PTSD)"}
_PHASE_WORDS = {"preparation": "Preparation", "support": "Support", "integration": "Integration"}


def score_words(instrument_id: str, total: int, first: int | None, severity: str | None) -> str:
    """A score in plain words: its band, and how it compares with the first one (lower
    is better on every questionnaire shown here)."""
    band = f"{severity.replace('_', ' ')} range" if severity else "scored"
    if first is None or first == total:
        compare = "the same as your first score" if first is not None else "your first score"
    elif total < first:
        compare = f"{first - total} points lower than your first score ({first}), an improvement"
    else:
        compare = f"{total - first} points higher than your first score ({first})"
    return f"{total}: {band}; {compare}"


def my_plan(db: Session, *, actor: Actor) -> PortalPlan:
    """The patient's own plan: sessions done and planned, therapy sessions, and their
    scores over time in plain words."""
    if not actor.patient_only or actor.patient_id is None:
        raise Forbidden("the plan page is the patient's own")
    patient_id = actor.patient_id
    planned = orders.planned_sessions_of_patient(db, patient_id)
    course = orders.latest_course(db, patient_id)
    therapy = list(
        db.scalars(
            select(TherapySession)
            .where(TherapySession.patient_id == patient_id)
            .order_by(TherapySession.starts_at)
        )
    )
    points = outcomes.score_history(db, actor=actor, patient_id=patient_id)
    firsts: dict[str, int] = {}
    scores: list[ScoreWords] = []
    for p in points:
        if p.total is None or p.instrument_id not in _NAMES:
            continue
        first = firsts.get(p.instrument_id)
        if first is None:
            firsts[p.instrument_id] = p.total
        scores.append(
            ScoreWords(
                _NAMES[p.instrument_id],
                p.completed_at,
                p.total,
                score_words(p.instrument_id, p.total, first, p.severity),
            )
        )
    proposal = _open_proposal(db, course.id) if course is not None else None
    _read(db, actor, "care.portal_plan", patient_id, "planned_session", f"{len(planned)} sessions")
    db.flush()
    return PortalPlan(
        done=[p for p in planned if p.status == "completed"],
        planned=[p for p in planned if p.status in ("planned", "booked")],
        therapy=therapy,
        scores=list(reversed(scores)),
        proposal=proposal,
        has_course=course is not None and course.status == "active",
    )


def phase_label(phase: str) -> str:
    return _PHASE_WORDS.get(phase, phase)


# ------------------------------------------------------------------ the care page


@dataclass
class CarePlan:
    """The care plan page of one patient, each part only for the roles that read it."""

    patient: patients.Patient
    team: list[CareTeamMember]
    medications: list[MedicationView] | None
    therapy: list[TherapyRecord] | None
    course: orders.Course | None
    candidates: dict[str, list[User]] | None
    rooms: list[Any]
    team_therapists: list[CareTeamMember]
    can_keep_team: bool
    can_change_medications: bool
    can_book_therapy: bool
    can_decide: bool
    scores: list[Any] = field(default_factory=list)  # outcomes.ScorePoint, newest first


def care_plan(db: Session, *, actor: Actor, patient_id: int) -> CarePlan:
    _require(actor, TEAM_READERS, "read care plans")
    patient = patients.get_patient(db, actor=actor, patient_id=patient_id, purpose="care_plan")
    team = care_team(db, actor=actor, patient_id=patient_id)
    meds = (
        medication_plan(db, actor=actor, patient_id=patient_id)
        if actor.roles & MEDICATION_READERS
        else None
    )
    therapy = (
        therapy_sessions(db, actor=actor, patient_id=patient_id)
        if actor.roles & THERAPY_READERS
        else None
    )
    course = (
        orders.active_course(db, actor=actor, patient_id=patient_id)
        if actor.roles & PLAN_READERS
        else None
    )
    keeper = bool(actor.roles & TEAM_KEEPERS)
    booker = bool(actor.roles & THERAPY_BOOKERS)
    return CarePlan(
        patient=patient,
        team=team,
        medications=meds,
        therapy=therapy,
        course=course,
        candidates=team_candidates(db, actor=actor) if keeper else None,
        rooms=scheduling.therapy_rooms(db) if booker else [],
        team_therapists=[m for m in team if m.role == "therapist" and m.user_id is not None],
        can_keep_team=keeper,
        can_change_medications=bool(actor.roles & MEDICATION_WRITERS),
        can_book_therapy=booker,
        can_decide=bool(actor.roles & DECIDERS),
        scores=list(reversed(outcomes.score_history(db, actor=actor, patient_id=patient_id)))[:12]
        if actor.roles & THERAPY_READERS
        else [],
    )


@dataclass
class TherapistHome:
    patients: list[patients.Patient]
    upcoming: list[TherapySession]
    names: dict[int, str]
    now: datetime | None = None

    @property
    def to_write(self) -> list[TherapySession]:
        """Sessions held (their time has passed) whose note is not signed yet."""
        return [s for s in self.upcoming if self.now is not None and s.starts_at < self.now]

    @property
    def next_sessions(self) -> list[TherapySession]:
        return [s for s in self.upcoming if self.now is None or s.starts_at >= self.now]


def therapist_home(db: Session, *, actor: Actor) -> TherapistHome | None:
    """A therapist's home: their care-team patients and their sessions still to write."""
    if Role.therapist not in actor.roles or actor.user_id is None:
        return None
    mine = my_patients(db, actor=actor)
    upcoming = list(
        db.scalars(
            select(TherapySession)
            .where(
                TherapySession.therapist_user_id == actor.user_id,
                TherapySession.status == "booked",
            )
            .order_by(TherapySession.starts_at)
            .limit(20)
        )
    )
    names = patients.display_names(db, {s.patient_id for s in upcoming})
    for pid in sorted({s.patient_id for s in upcoming}):
        _read(db, actor, "therapy.upcoming", pid, "therapy_session", "therapist home")
    db.flush()
    return TherapistHome(mine, upcoming, names, utcnow())


@dataclass
class DecisionDue:
    course: orders.Course
    patient_name: str
    mine: bool


def _courses_due(db: Session) -> list[tuple[orders.Course, datetime | None]]:
    """The courses waiting for a decision, each with the time of its latest decision."""
    courses = orders.courses_with_induction_done(db)
    if not courses:
        return []
    latest: dict[int, CourseDecision] = {}
    for row in db.scalars(
        select(CourseDecision)
        .where(CourseDecision.course_id.in_([c.id for c in courses]))
        .order_by(CourseDecision.decided_at, CourseDecision.id)
    ):
        latest[row.course_id] = row
    return [
        (c, latest[c.id].decided_at if c.id in latest else None)
        for c in courses
        if c.id not in latest
        or (latest[c.id].choice in ("extend", "titrate") and latest[c.id].extra_sessions)
    ]


def _told_at(db: Session, action: str, course_id: int, since: datetime | None) -> datetime | None:
    """When the job last sent this course's decision ``action`` (after its latest
    decision), from the audit trail that records each message."""
    query = select(AuditEvent.at).where(
        AuditEvent.action == action,
        AuditEvent.object_type == "course",
        AuditEvent.object_id == str(course_id),
    )
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    return db.scalar(query.order_by(AuditEvent.at.desc()).limit(1))


def escalate_decisions_due(db: Session, *, now: datetime) -> tuple[int, int]:
    """A course decision that came due is sent to the primary clinician first (every
    prescriber without one); unanswered after the clinic's business days, to every
    prescriber. Returns (sent first, escalated)."""
    rule = clinical_plan.escalation_rules(configuration.clinic_overrides(db, "course.escalation"))[
        "course_decision"
    ]
    zone = get_settings().zone
    first = escalated = 0
    for course, since in _courses_due(db):
        path = f"/care/courses/{course.id}/decision"
        told = _told_at(db, "course.decision_notify", course.id, since)
        if told is None:
            primary = primary_clinician_username(db, patient_id=course.patient_id)
            team = [primary] if primary else outcomes.prescriber_usernames(db)
            outcomes.message_staff(
                db,
                usernames=team,
                kind="course_decision",
                subject="Course decision due",
                body="The induction series is given: the course waits for a decision:",
                patient_id=course.patient_id,
                path=path,
            )
            _record(
                db,
                CARE_JOB,
                "course.decision_notify",
                course.patient_id,
                "course",
                course.id,
                f"to {len(team)} clinician(s)",
            )
            first += 1
            continue
        local = told.astimezone(zone)
        due_at = datetime.combine(
            calendar.add_business_days(
                local.date(), rule.business_days, configuration.holidays(db)
            ),
            local.timetz(),
        )
        if due_at > now or _told_at(db, "course.decision_escalate", course.id, since):
            continue
        team = outcomes.prescriber_usernames(db)
        outcomes.message_staff(
            db,
            usernames=team,
            kind="course_decision",
            subject="Course decision unanswered: escalated",
            body="A course decision waits past its time. Decide:",
            patient_id=course.patient_id,
            path=path,
        )
        _record(
            db,
            CARE_JOB,
            "course.decision_escalate",
            course.patient_id,
            "course",
            course.id,
            f"unanswered: to {len(team)} prescriber(s)",
        )
        escalated += 1
    db.flush()
    return first, escalated


def decisions_due(db: Session, *, actor: Actor) -> list[DecisionDue]:
    """Courses whose induction series is given and that wait for the prescriber's
    decision: the courses whose primary clinician is the actor first, then the rest of
    the clinic's (so that a decision reaches the primary clinician first, and is not lost
    when they are away)."""
    _require(actor, DECIDERS, "decide on a course")
    due = [course for course, _ in _courses_due(db)]
    if not due:
        return []
    ids = {c.patient_id for c in due}
    names = patients.display_names(db, ids)
    primaries = _primaries(db, ids)
    for pid in sorted(ids):
        _read(db, actor, "course.decision_due", pid, "course", "decisions due")
    db.flush()
    rows = [
        DecisionDue(c, names.get(c.patient_id, ""), primaries.get(c.patient_id) == actor.username)
        for c in due
    ]
    return sorted(rows, key=lambda r: (not r.mine, r.course.id))


# ------------------------------------------------------------------ the progress report


@dataclass
class ReportPlan:
    """The current plan as a progress report prints it: the course's next sessions,
    maintenance, the psychotherapy around it, and who referred the patient."""

    course: orders.Course | None
    done: int
    next_sessions: list[orders.PlannedSession]
    decision: str | None  # the prescriber's latest course decision, in words
    maintenance: str | None  # the maintenance schedule when the course is in maintenance
    therapy_done: int
    therapy_next: list[TherapySession]
    referring: list[CareTeamMember]


def report_plan(db: Session, *, actor: Actor, patient_id: int) -> ReportPlan:
    """The patient's own plan, or a care-team reader's; audited as one read."""
    if actor.patient_only:
        if actor.patient_id != patient_id:
            raise NotFound("no such patient")
    else:
        _require(actor, TEAM_READERS, "read care plans")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    course = orders.latest_course(db, patient_id)
    planned = [
        p
        for p in orders.planned_sessions_of_patient(db, patient_id)
        if course is None or p.course_id == course.id
    ]
    decisions = _decisions(db, course.id) if course is not None else []
    latest = decisions[0] if decisions else None
    maintenance = None
    if latest is not None and latest.choice == "maintenance" and latest.schedule_id:
        rows = _maintenance_rows(db)
        row = rows.get(latest.schedule_id)
        gaps = (latest.schedule or {}).get("gaps_days") or []
        maintenance = (
            f"{row.label if row else latest.schedule_id}: {len(gaps)} boosters planned "
            f"from {latest.decided_at.astimezone(get_settings().zone):%Y-%m-%d}"
        )
    therapy = list(
        db.scalars(
            select(TherapySession)
            .where(TherapySession.patient_id == patient_id)
            .order_by(TherapySession.starts_at)
        )
    )
    referring = [m for m in _current_members(db, patient_id) if m.role == "referring"]
    _read(db, actor, "care.report_plan", patient_id, "planned_session", f"{len(planned)} sessions")
    db.flush()
    return ReportPlan(
        course=course,
        done=sum(1 for p in planned if p.status == "completed"),
        next_sessions=[p for p in planned if p.status in ("planned", "booked")],
        decision=(
            f"{CHOICES.get(latest.choice, latest.choice)} "
            f"({latest.decided_at.astimezone(get_settings().zone):%Y-%m-%d}, {latest.decided_by})"
            if latest is not None
            else None
        ),
        maintenance=maintenance,
        therapy_done=sum(1 for t in therapy if t.status == "completed"),
        therapy_next=[t for t in therapy if t.status == "booked"],
        referring=referring,
    )
