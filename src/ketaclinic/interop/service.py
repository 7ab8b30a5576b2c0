"""What the clinic does with a monitor message: chart it, or keep it for review.

``receive`` is the act of one message, in the caller's transaction (the listener
writes a group of messages in one transaction, each in a savepoint, and commits before
it acknowledges, so ``AA`` means the readings are stored). The
review of refused and held messages is for nurses and admins."""

from __future__ import annotations

import functools
import threading
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, cast

from sqlalchemy import ARRAY, String, Table, any_, bindparam, func, insert, select
from sqlalchemy.orm import Session

from ketaclinic.clinical.codes import mdc
from ketaclinic.clinical.overrides import apply
from ketaclinic.configuration import service as configuration
from ketaclinic.interop.fhir import deidentify
from ketaclinic.interop.hl7 import pcd01
from ketaclinic.interop.models import FhirImport, Hl7DeadLetter, Hl7Message, ImportedFact
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import ClinicError, Conflict, Forbidden, Invalid, NotFound
from ketaclinic.platform.roles import Role
from ketaclinic.platform.settings import get_settings
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
        decoded = pcd01.decode(message, zone=zone, codes=codebook(db))
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


@dataclass
class Incoming:
    """One message of a group, as the listener hands it over."""

    raw: str
    peer: str | None = None
    why: str | None = None  # set: a block that could not even be read as text


@dataclass
class _Pending:
    index: int
    message: pcd01.Message
    decoded: pcd01.Decoded
    readings: list[sessions.Measured]


def receive_group(
    db: Session,
    *,
    group: list[Incoming],
    zone: tzinfo,
    now: datetime | None = None,
) -> list[Answer | None]:
    """The messages of one group in the caller's transaction, charted per session in
    one pass: each decoded alone; one query finds the control ids already stored, one
    pair the sessions their devices are bound to; the clinic's alarm limits are read
    once; then each session's readings are charted together (``chart_device_messages``:
    one insert, one prior-window read, one audit row naming the messages).

    A message refused (malformed, unknown patient or device, an implausible value) is
    kept as a dead letter in a savepoint of its own and answered ``AE``/``AR``; the
    others are charted. ``None`` for a message this pass leaves to ``receive`` alone
    (a correction, or a session's batch that failed as a whole): the caller handles it
    in its own savepoint, so one fault never costs the rest of the group."""
    now = now or utcnow()
    answers: list[Answer | None] = [None] * len(group)
    pending: list[_Pending] = []
    tables = configuration.overrides_by_table(db, *_GROUP_TABLES)
    codes = codebook(db, tables)
    for index, item in enumerate(group):
        if item.why is not None:
            answers[index] = _refuse_alone(
                db, item, None, None, pcd01.Refused("AR", pcd01.SEGMENT_SEQUENCE_ERROR, item.why)
            )
            continue
        message = None
        decoded = None
        try:
            message = pcd01.header(item.raw)
            decoded = pcd01.decode(message, zone=zone, codes=codes)
        except pcd01.Refused as refusal:
            answers[index] = _refuse_alone(db, item, message, decoded, refusal, now)
            continue
        except Exception:  # noqa: S112 - left to ``receive``, which refuses or fails it alone
            continue
        if any(o.corrected for o in decoded.observations):
            continue  # a correction marks earlier readings in error: ``receive`` alone
        pending.append(_Pending(index, message, decoded, _readings(decoded)))
    if not pending:
        return answers
    stored = _stored(db, {(p.decoded.sender, p.decoded.control_id) for p in pending})
    bound = sessions.sessions_of_devices(db, {p.decoded.device_id for p in pending})
    by_session: dict[int, list[_Pending]] = {}
    first: dict[tuple[str, str], int] = {}
    again: list[tuple[_Pending, int]] = []
    for p in pending:
        key = (p.decoded.sender, p.decoded.control_id)
        if key in stored:
            # Stored before: acknowledged again, charted once.
            answers[p.index] = Answer("AA", _ack_text(p.message, "AA"), duplicate=True)
            continue
        if key in first:
            again.append((p, first[key]))  # answered once the first one is
            continue
        try:
            session_id = _matched(db, p.decoded, bound.get(p.decoded.device_id))
        except pcd01.Refused as refusal:
            answers[p.index] = _refuse_alone(db, group[p.index], p.message, p.decoded, refusal, now)
            continue
        first[key] = p.index
        by_session.setdefault(session_id, []).append(p)
    if by_session:
        _chart_sessions(db, group, by_session, answers, now, tables["monitoring.limits"])
    for p, earlier in again:
        # The same message twice in one group: acknowledged again only if the first was
        # stored; otherwise ``receive`` takes it alone, after the first.
        answer = answers[earlier]
        if answer is not None and answer.code == "AA":
            answers[p.index] = Answer("AA", _ack_text(p.message, "AA"), duplicate=True)
    return answers


# The clinic's tables a group of messages is decoded and charted with, read together.
_GROUP_TABLES = ("codes.mdc", "codes.mdc_units", "monitoring.limits")


def codebook(db: Session, found: dict[str, list[Any]] | None = None) -> mdc.Codebook:
    """The MDC rows and converted units with the clinic's overrides of them
    (``codes.mdc``, ``codes.mdc_units``; ``found``: as ``overrides_by_table`` read them
    for a group), read with one statement for a message alone; the declared tables' own
    when the clinic overrides neither."""
    if found is None:
        found = configuration.overrides_by_table(db, "codes.mdc", "codes.mdc_units")
    rows, units = tuple(found["codes.mdc"]), tuple(found["codes.mdc_units"])
    if not rows and not units:
        return mdc.DEFAULT
    try:
        return _clinic_codebook(rows, units)
    except TypeError:  # an override value that cannot be hashed: made for this look
        return _clinic_codebook.__wrapped__(rows, units)


@functools.lru_cache(maxsize=8)
def _clinic_codebook(rows: tuple[Any, ...], units: tuple[Any, ...]) -> mdc.Codebook:
    """A clinic's codebook, made once for each set of its overrides (and with it, what
    the decoder made of its codes), until the overrides change."""
    return mdc.codebook(apply(mdc.MDC, rows), apply(mdc.CONVERTED_UNITS, units))


def _readings(decoded: pcd01.Decoded) -> list[sessions.Measured]:
    by_time: dict[datetime, dict[str, Any]] = {}
    for obs in decoded.observations:
        by_time.setdefault(obs.at, {})[obs.vital] = obs.value
    return [sessions.Measured(taken_at=at, **values) for at, values in sorted(by_time.items())]


def _stored(db: Session, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (sender, control id) pairs are stored already: one query, a probe
    of the (control_id, sender) key a control id (the pairs' senders are matched here;
    a sender IN list beside it would probe every sender with every control id)."""
    controls = sorted({control for _, control in keys})
    if db.get_bind().dialect.name == "postgresql":
        # One array parameter: the statement's text is the same for every group, so the
        # server plans it once (an IN list of each group's length is planned each time).
        where = Hl7Message.control_id == any_(bindparam("controls", controls, type_=ARRAY(String)))
    else:
        where = Hl7Message.control_id.in_(controls)
    found = db.execute(select(Hl7Message.sender, Hl7Message.control_id).where(where)).all()
    return {(sender, control) for sender, control in found} & keys


class _Controls:
    """Control ids (MSH-10, at most 20 characters) for the acknowledgements of a group:
    one random prefix a group and a counter, instead of a random draw (a system call)
    for each message."""

    def __init__(self) -> None:
        self.prefix = uuid.uuid4().hex[:14]
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return f"{self.prefix}{self.count:06d}"


_controls = threading.local()


def _ack_text(message: pcd01.Message, code: str) -> str:
    controls = getattr(_controls, "current", None)
    if controls is None or controls.count >= 999_999:
        controls = _controls.current = _Controls()
    return pcd01.ack(message, code, control=controls.next())


def _matched(db: Session, decoded: pcd01.Decoded, bound: sessions.DeviceSession | None) -> int:
    """The session a message charts to, or ``Refused`` (unknown patient or device, no
    session in progress, a patient who is not the bound session's)."""
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
    return bound.session_id


def _chart_sessions(
    db: Session,
    group: list[Incoming],
    by_session: dict[int, list[_Pending]],
    answers: list[Answer | None],
    now: datetime,
    limit_overrides: list[Any],
) -> None:
    """Every session's messages charted in one pass (``chart_device_groups``), their
    control ids stored with one insert. A fault here fails the group's pass as a whole
    (the caller's savepoint), and its messages are then handled alone."""
    groups = []
    for session_id, batch in by_session.items():
        devices = sorted({p.decoded.device_id for p in batch})
        groups.append(
            sessions.SessionMessages(
                session_id,
                device_actor("+".join(devices)),
                " ".join(sorted({p.decoded.sender for p in batch})),
                [sessions.DeviceMessage(p.decoded.control_id, p.readings) for p in batch],
            )
        )
    done = sessions.chart_device_groups(db, groups=groups, now=now, limit_overrides=limit_overrides)
    stored = [
        (batch[i], len(rows), session_id)
        for session_id, batch in by_session.items()
        for i, rows in sorted(done[session_id].charted.items())
    ]
    if stored:
        db.execute(
            insert(cast(Table, Hl7Message.__table__)),
            [
                {
                    "sender": p.decoded.sender,
                    "control_id": p.decoded.control_id,
                    "device_id": p.decoded.device_id,
                    "session_id": session_id,
                    "readings": count,
                    "note": "; ".join(p.decoded.skipped)[:2000] or None,
                    "received_at": now,
                }
                for p, count, session_id in stored
            ],
        )
    for p, count, _ in stored:
        answers[p.index] = Answer("AA", _ack_text(p.message, "AA"), charted=count)
    for session_id, batch in by_session.items():
        for i, exc in done[session_id].refused.items():
            p = batch[i]
            refusal = pcd01.Refused("AE", pcd01.DATA_TYPE_ERROR, exc.detail, "OBX-5")
            answers[p.index] = _refuse_alone(db, group[p.index], p.message, p.decoded, refusal, now)


def _refuse_alone(
    db: Session,
    item: Incoming,
    message: pcd01.Message | None,
    decoded: pcd01.Decoded | None,
    refusal: pcd01.Refused,
    now: datetime | None = None,
) -> Answer | None:
    """The refusal kept in a savepoint of its own; ``None`` (left to ``receive``) if
    even that fails."""
    try:
        with db.begin_nested():
            return _refuse(
                db,
                item.raw,
                message,
                decoded,
                refusal,
                uuid.uuid4().hex[:20],
                item.peer,
                now or utcnow(),
            )
    except Exception:
        return None


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
    by_time: dict[datetime, dict[str, Any]] = {}
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
    message: pcd01.Message | None,
    decoded: pcd01.Decoded | None,
    refusal: pcd01.Refused,
    control: str,
    peer: str | None,
    now: datetime,
) -> Answer:
    # What the message says of itself, decoded or, where decoding stopped, its header.
    said = (
        pcd01.Named(decoded.sender, decoded.control_id, decoded.mrn, decoded.device_id or None)
        if decoded
        else pcd01.named(message)
    )
    patient_id = patients.patient_id_for_mrn(db, said.mrn) if said.mrn else None
    letter = Hl7DeadLetter(
        received_at=now,
        kind="held" if refusal.held else "refused",
        ack_code=refusal.ack,
        error_code=refusal.code,
        reason=refusal.text[:2000],
        sender=said.sender,
        control_id=said.control_id,
        device_id=said.device_id,
        patient_id=patient_id,
        peer=(peer or "")[:80] or None,
        raw=raw[:MAX_RAW_CHARS],
    )
    db.add(letter)
    db.flush()
    audit.record(
        db,
        actor=device_actor(said.device_id or "unknown"),
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


@dataclass(frozen=True)
class IntakeFacts:
    """What a patient's imported records offer the intake form: field values, and
    beside each field the mark "imported from <source>, <date>" the clinician reviews.
    Diagnoses that name one of the candidacy indications by its code answer that
    question; every imported diagnosis is listed with its mark."""

    values: dict[str, Any]
    marks: dict[str, str]
    diagnoses: list[str]


def _mark(source: str, effective: str | None, imported_on: datetime) -> str:
    # The sender's date of the fact when it gave one, else the day it was imported.
    when = (effective or "")[:10] or imported_on.date().isoformat()
    return f"imported from {source}, {when}"


def imported_intake_facts(db: Session, *, actor: Actor, patient_id: int) -> IntakeFacts:
    """Diagnoses, current medications, allergies, the latest blood pressure and weight
    from the patient's imported facts, for a new intake to pre-fill (nothing is saved here)."""
    from ketaclinic.interop.fhir import codes

    patients.check_patient(db, actor=actor, patient_id=patient_id)
    audit.note_read(
        db, actor=actor, action="patient.imported", patient_id=patient_id, object_type="fhir"
    )
    facts = list(
        db.scalars(
            select(ImportedFact)
            .where(ImportedFact.patient_id == patient_id)
            .order_by(ImportedFact.id)
        )
    )
    sources = {
        row.id: row
        for row in db.scalars(
            select(FhirImport).where(FhirImport.id.in_({f.import_id for f in facts}))
        )
    }
    by_code = {i.icd10cm[0]: key for key, i in codes.INDICATIONS.items() if i.icd10cm}
    values: dict[str, Any] = {}
    marks: dict[str, str] = {}
    diagnoses: list[str] = []
    medications: list[str] = []
    medication_marks: list[str] = []
    allergies: list[str] = []
    allergy_marks: list[str] = []

    def mark(fact: Any) -> str:
        batch = sources[fact.import_id]
        return _mark(batch.source, fact.effective, batch.imported_at)

    def newest(kind_code: str) -> Any:
        found = [f for f in facts if f.kind == "vital" and f.code == kind_code]
        # ISO dates sort as text; an undated fact counts as the oldest, then by arrival.
        return max(found, key=lambda f: (f.effective or "", f.id), default=None)

    for fact in facts:
        if fact.kind == "condition":
            diagnoses.append(f"{fact.text}{f' ({fact.code})' if fact.code else ''} · {mark(fact)}")
            indication = by_code.get(fact.code or "") if fact.system == codes.ICD10CM else None
            if indication is not None:
                values[f"finding.{indication}"] = "yes"
                marks[f"finding.{indication}"] = mark(fact)
        elif fact.kind == "medication" and fact.text not in medications:
            medications.append(fact.text)
            medication_marks.append(mark(fact))
        elif fact.kind == "allergy" and fact.text.lower() not in {a.lower() for a in allergies}:
            allergies.append(fact.text)
            allergy_marks.append(mark(fact))
    if medications:
        values["medications"] = "\n".join(medications)
        marks["medications"] = "; ".join(dict.fromkeys(medication_marks))
    if allergies:
        # The intake records allergies as free text, one a line (as medications).
        values["allergies"] = "\n".join(allergies)
        marks["allergies"] = "; ".join(dict.fromkeys(allergy_marks))
    pressure = newest(codes.VITALS["blood_pressure"].codes[0][0])
    if pressure is not None and pressure.value is not None:
        values["bp_systolic"] = _number(pressure.value)
        values["bp_diastolic"] = _number(pressure.second_value)
        marks["bp_systolic"] = marks["bp_diastolic"] = mark(pressure)
    weight = newest(codes.VITALS["weight"].codes[0][0])
    if weight is not None and weight.value is not None:
        values["weight_kg"] = weight.value
        marks["weight_kg"] = mark(weight)
    return IntakeFacts(values, marks, diagnoses)


def _number(value: float | None) -> float | int | None:
    return int(value) if value is not None and float(value).is_integer() else value


# ------------------------------------------------------------------ de-identification
@dataclass(frozen=True)
class PatientMask:
    """How one patient appears in a de-identified dataset (HIPAA Safe Harbor, the rule
    of the FHIR bulk export, ``interop.fhir.deidentify``): a keyed pseudonym, the same
    as the patient's in a de-identified FHIR export; every date moved by one per-patient
    offset (intervals survive); a year of birth, or the group of everyone over 89."""

    pseudonym: str
    shift: timedelta
    birth_year: str | None  # shifted; None when the patient is over 89
    age: str  # whole years today, or "90 or older"

    def day(self, value: date) -> date:
        return value + self.shift

    def moment(self, value: datetime) -> datetime:
        """Shifted, to the whole second (a dataset keeps no sub-second detail)."""
        return (value + self.shift).replace(microsecond=0)

    def record(self, kind: str, record_id: object) -> str:
        """A pseudonym for one of this patient's records (a session, a response)."""
        return deidentify.pseudonym(_deidentification_key(), kind, f"{self.pseudonym}/{record_id}")


SAFE_HARBOR = deidentify.SAFE_HARBOR
DATE_SHIFT_SOURCE = deidentify.SHIFT_SOURCE
OLDEST_GROUP = deidentify.OLDEST_GROUP


def _deidentification_key() -> bytes:
    return get_settings().effective_secret_key.encode()


def age_group(born: date, *, on: date) -> str:
    """Whole years on ``on``, or the one group of everyone over 89 (Safe Harbor)."""
    return deidentify.age_group(born, today=on)


def patient_masks(born: dict[int, date], *, today: date) -> dict[int, PatientMask]:
    """The mask of each patient (id -> date of birth), from the clinic's secret key, for
    another area's act that audits itself (the research export)."""
    key = _deidentification_key()
    found = {}
    for patient_id, dob in born.items():
        by = deidentify.offset(key, str(patient_id))
        found[patient_id] = PatientMask(
            pseudonym=deidentify.pseudonym(key, "Patient", str(patient_id)),
            shift=by,
            birth_year=deidentify.birth_year(dob, by=by, today=today),
            age=deidentify.age_group(dob, today=today),
        )
    return found
