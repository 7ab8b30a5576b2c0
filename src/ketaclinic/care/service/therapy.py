"""Therapy sessions (preparation, in-session support, integration) booked in therapy
rooms through scheduling, with a structured note signed by password and addenda
(``schedule_therapy``, ``sign_therapy_note``, ``add_therapy_addendum``), and the
therapist's home."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.care.models import CareTeamMember, TherapyNote, TherapySession
from ketaclinic.care.service.common import (
    THERAPY_BOOKERS,
    THERAPY_READERS,
    THERAPY_WRITERS,
    _read,
    _record,
    _require,
    _text,
)
from ketaclinic.care.service.team import my_patients
from ketaclinic.clinical.course import plan as clinical_plan
from ketaclinic.configuration import service as configuration
from ketaclinic.orders import service as orders
from ketaclinic.outcomes import service as outcomes
from ketaclinic.patients import service as patients
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid, NotFound
from ketaclinic.platform.roles import Role
from ketaclinic.scheduling import service as scheduling

PHASES = ("preparation", "support", "integration")
# Phases that hold a therapy room; in-session support sits beside the dosing session.
ROOM_PHASES = ("preparation", "integration")
THERAPY_NOTE_MEANING = "authored this therapy note"
THERAPY_ADDENDUM_MEANING = "authored this addendum to the therapy note"


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


_PHASE_WORDS = {"preparation": "Preparation", "support": "Support", "integration": "Integration"}


def phase_label(phase: str) -> str:
    return _PHASE_WORDS.get(phase, phase)


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
