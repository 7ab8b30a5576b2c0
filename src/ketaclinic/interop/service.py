"""What the clinic does with a monitor message: chart it, or keep it for review.

``receive`` is the act of one message, in the caller's transaction (the listener
writes a group of messages in one transaction, each in a savepoint, and commits before
it acknowledges, so ``AA`` means the readings are stored). The
review of refused and held messages is for nurses and admins."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.interop.hl7 import pcd01
from ketaclinic.interop.models import Hl7DeadLetter, Hl7Message
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import ClinicError, Conflict, Forbidden, Invalid, NotFound
from ketaclinic.platform.roles import Role
from ketaclinic.sessions import service as sessions

REVIEWERS = frozenset({Role.nurse, Role.admin})
MAX_RAW_CHARS = 65536


@dataclass(frozen=True)
class Answer:
    code: str  # AA|AE|AR
    text: str  # the ACK message, HL7 text without MLLP framing
    charted: int = 0
    duplicate: bool = False


def device_actor(device_id: str) -> Actor:
    return Actor(user_id=None, username=f"device:{device_id}"[:80])


def receive(
    db: Session,
    *,
    raw: str,
    zone: tzinfo,
    peer: str | None = None,
    now: datetime | None = None,
) -> Answer:
    """Chart the readings of one ORU^R01 message, or keep it as a dead letter; the
    answer is the acknowledgement to send once the transaction commits."""
    now = now or utcnow()
    control = uuid.uuid4().hex[:20]
    message = None
    decoded: pcd01.Decoded | None = None
    try:
        message = pcd01.header(raw)
        decoded = pcd01.decode(message, zone=zone)
        if db.scalar(
            select(Hl7Message.id).where(
                Hl7Message.sender == decoded.sender, Hl7Message.control_id == decoded.control_id
            )
        ):
            return Answer("AA", pcd01.ack(message, "AA", control=control), duplicate=True)
        charted = _chart(db, decoded, now)
    except pcd01.Refused as refusal:
        return _refuse(db, raw, message, decoded, refusal, control, peer, now)
    return Answer("AA", pcd01.ack(message, "AA", control=control), charted=charted)


def _chart(db: Session, decoded: pcd01.Decoded, now: datetime) -> int:
    bound = sessions.session_of_device(db, decoded.device_id)
    if bound is None:
        if patients.patient_id_for_mrn(db, decoded.mrn) is None:
            raise pcd01.Refused(
                "AE",
                pcd01.UNKNOWN_KEY,
                "unknown patient and no session bound to this device",
                "PID-3",
            )
        raise pcd01.Refused(
            "AE",
            pcd01.UNKNOWN_KEY,
            f"no session in progress is bound to device {decoded.device_id}; kept for review",
            "OBX-18",
            held=True,
        )
    if bound.mrn != decoded.mrn:
        raise pcd01.Refused(
            "AE",
            pcd01.UNKNOWN_KEY,
            "the patient identifier does not match the patient of the bound session",
            "PID-3",
        )
    by_time: dict[datetime, dict[str, int]] = {}
    corrected: set[datetime] = set()
    for obs in decoded.observations:
        by_time.setdefault(obs.at, {})[obs.vital] = obs.value
        if obs.corrected:
            corrected.add(obs.at)
    readings = [sessions.Measured(taken_at=at, **values) for at, values in sorted(by_time.items())]
    actor = device_actor(decoded.device_id)
    detail = f"{decoded.sender} {decoded.control_id}"
    try:
        if corrected:
            # The earlier values are marked in error only if the corrected ones are
            # charted: a refused correction leaves the chart as it was.
            with db.begin_nested():
                sessions.correct_device_readings(
                    db,
                    actor=actor,
                    session_id=bound.session_id,
                    taken_at=sorted(corrected),
                    reason=f"corrected by the device (message {decoded.control_id})",
                    now=now,
                )
                rows, _alarms = sessions.chart_device_readings(
                    db,
                    actor=actor,
                    session_id=bound.session_id,
                    readings=readings,
                    detail=detail,
                    now=now,
                )
        else:
            rows, _alarms = sessions.chart_device_readings(
                db,
                actor=actor,
                session_id=bound.session_id,
                readings=readings,
                detail=detail,
                now=now,
            )
    except Invalid as exc:
        raise pcd01.Refused("AE", pcd01.DATA_TYPE_ERROR, exc.detail, "OBX-5") from None
    except ClinicError as exc:
        raise pcd01.Refused("AE", pcd01.APPLICATION_ERROR, exc.detail, "OBX") from None
    db.add(
        Hl7Message(
            sender=decoded.sender,
            control_id=decoded.control_id,
            device_id=decoded.device_id,
            session_id=bound.session_id,
            readings=len(rows),
            note="; ".join(decoded.skipped)[:2000] or None,
            received_at=now,
        )
    )
    db.flush()
    return len(rows)


def _refuse(
    db: Session,
    raw: str,
    message: object | None,
    decoded: pcd01.Decoded | None,
    refusal: pcd01.Refused,
    control: str,
    peer: str | None,
    now: datetime,
) -> Answer:
    patient_id = patients.patient_id_for_mrn(db, decoded.mrn) if decoded else None
    letter = Hl7DeadLetter(
        received_at=now,
        kind="held" if refusal.held else "refused",
        ack_code=refusal.ack,
        error_code=refusal.code,
        reason=refusal.text[:2000],
        sender=decoded.sender if decoded else None,
        control_id=decoded.control_id if decoded else None,
        device_id=decoded.device_id or None if decoded else None,
        patient_id=patient_id,
        peer=(peer or "")[:80] or None,
        raw=raw[:MAX_RAW_CHARS],
    )
    db.add(letter)
    db.flush()
    audit.record(
        db,
        actor=device_actor(decoded.device_id if decoded else "unknown"),
        action="hl7.refuse",
        patient_id=patient_id,
        object_type="hl7_dead_letter",
        object_id=letter.id,
        detail=f"{refusal.ack} {refusal.code}",
        at=now,
    )
    db.flush()
    return Answer(refusal.ack, pcd01.ack(message, refusal.ack, error=refusal, control=control))


def answer_garbage(db: Session, *, raw: str, why: str, peer: str | None) -> Answer:
    """A block that is not even framed or decodable: kept, and answered AR."""
    refusal = pcd01.Refused("AR", pcd01.SEGMENT_SEQUENCE_ERROR, why)
    return _refuse(db, raw, None, None, refusal, uuid.uuid4().hex[:20], peer, utcnow())


def monitored_chairs(db: Session) -> list[sessions.DeviceSession]:
    """Sessions in progress with a monitor bound: what the simulator sends for."""
    return sessions.monitored_sessions(db)


# Review -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Letter:
    row: Hl7DeadLetter
    patient_name: str | None


def dead_letters(db: Session, *, actor: Actor, include_reviewed: bool = False) -> list[Letter]:
    """Refused and held monitor messages, newest first, for review."""
    if not actor.roles & REVIEWERS:
        raise Forbidden("your role does not permit reviewing monitor messages")
    query = select(Hl7DeadLetter).order_by(
        Hl7DeadLetter.received_at.desc(), Hl7DeadLetter.id.desc()
    )
    if not include_reviewed:
        query = query.where(Hl7DeadLetter.reviewed_at.is_(None))
    rows = list(db.scalars(query.limit(500)))
    names = patients.display_names(db, {r.patient_id for r in rows if r.patient_id})
    for r in rows:
        audit.note_read(
            db,
            actor=actor,
            action="hl7.dead_letters",
            patient_id=r.patient_id,
            object_type="hl7_dead_letter",
            object_id=r.id,
        )
    return [Letter(r, names.get(r.patient_id) if r.patient_id else None) for r in rows]


def count_unreviewed(db: Session) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(Hl7DeadLetter)
            .where(Hl7DeadLetter.reviewed_at.is_(None))
        )
        or 0
    )


def review_dead_letter(
    db: Session, *, actor: Actor, letter_id: int, note: str, now: datetime | None = None
) -> Hl7DeadLetter:
    """Mark a refused or held message reviewed, saying what was done about it."""
    if not actor.roles & REVIEWERS:
        raise Forbidden("your role does not permit reviewing monitor messages")
    letter = db.get(Hl7DeadLetter, letter_id)
    if letter is None:
        raise NotFound(f"no monitor message {letter_id}")
    if letter.reviewed_at is not None:
        raise Conflict(f"already reviewed by {letter.reviewed_by}")
    text = (note or "").strip()
    if not 3 <= len(text) <= 2000:
        raise Invalid("say what was done (3 to 2000 characters)", fields={"note": "required"})
    letter.reviewed_at = now or utcnow()
    letter.reviewed_by = actor.username
    letter.review_note = text
    audit.record(
        db,
        actor=actor,
        action="hl7.review",
        patient_id=letter.patient_id,
        object_type="hl7_dead_letter",
        object_id=letter.id,
        detail=text,
    )
    db.flush()
    return letter
