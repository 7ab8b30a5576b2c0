"""Discharge and the signed session note (nurse signs, prescriber co-signs; then frozen;
an addendum is a new signed record)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ketaclinic.orders import service as orders
from ketaclinic.platform import ports
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.errors import Conflict
from ketaclinic.platform.roles import Role
from ketaclinic.platform.settings import get_settings
from ketaclinic.scheduling import service as scheduling
from ketaclinic.sessions.models import InfusionSession, SessionEvent, SessionNote
from ketaclinic.sessions.service import note as note_text
from ketaclinic.sessions.service import summaries, view
from ketaclinic.sessions.service.common import (
    PRESCRIBERS,
    RUNNERS,
    charted_time,
    load,
    load_open,
    reason_text,
    record,
    require,
)


def discharge(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    escort_recorded: bool | None = None,
    no_driving_instruction_given: bool | None = None,
    at: datetime | None = None,
    now: datetime | None = None,
) -> SessionEvent:
    """The patient leaves: only when every discharge criterion is met and no alarm waits.

    ``escort_recorded`` and ``no_driving_instruction_given`` are the nurse's answers at
    discharge (an adult escort is there; the patient was told not to drive until the
    next day); both must be yes."""
    require(actor, RUNNERS, "discharging a patient")
    row = load_open(db, session_id)
    if row.status != "open":
        raise Conflict(f"this session is already {row.status}")
    moment = charted_time(at, now=now)
    state = view.build(db, actor=actor, row=row, now=moment)
    assert state.discharge is not None
    state.discharge = view.discharge_view(
        state,
        escort_recorded=bool(escort_recorded),
        no_driving_instruction_given=bool(no_driving_instruction_given),
    )
    if state.unacknowledged:
        raise Conflict("acknowledge every alarm before discharge")
    if not state.discharge.ready:
        unmet = state.discharge.missing + [t for met, t, _, _ in state.discharge.reasons if not met]
        raise Conflict("not ready for discharge: " + "; ".join(unmet))
    if state.pump is not None and state.pump.state != "stopped":
        raise Conflict("chart the stop of the infusion before discharge")
    criteria = [f"met: {text}" for _, text, _, _ in state.discharge.reasons]
    event = SessionEvent(
        session_id=row.id,
        kind="discharge",
        at=moment,
        detail={
            "criteria": criteria,
            "escort_recorded": escort_recorded,
            "no_driving_instruction_given": no_driving_instruction_given,
        },
        recorded_by=actor.username,
    )
    db.add(event)
    row.status = "discharged"
    db.flush()
    record(db, actor, "discharge", row, object_type="session_event", object_id=event.id)
    db.flush()
    summaries.refresh(db, row.id)
    # The appointment, once completed, completes its planned session (scheduling does
    # it); a walk-in has no appointment, so the planned session, if any, is marked here.
    completed = False
    if row.appointment_id is not None:
        booked = scheduling.get_appointment(db, actor=actor, appointment_id=row.appointment_id)
        if booked.status in ("booked", "checked_in"):
            # Completing the visit tells outcomes of the session given.
            scheduling.mark_appointment(
                db, actor=actor, appointment_id=row.appointment_id, status="completed"
            )
            completed = True
    elif row.planned_session_id is not None:
        orders.mark_planned_session(
            db, actor=actor, planned_session_id=row.planned_session_id, status="completed"
        )
    if not completed:
        # A session given changes where the patient's courses stand (outcomes keeps that).
        ports.course_facts_changed(db, patient_id=row.patient_id)
    return event


NOTE_MEANING = "authored this session note"
COSIGN_MEANING = "reviewed and co-signed this session note"
ADDENDUM_MEANING = "authored this addendum"


def _signature(
    db: Session, actor: Actor, row: InfusionSession, password: str, meaning: str
) -> accounts.Signature:
    return accounts.confirm_signature(
        db,
        actor=actor,
        password=password,
        meaning=meaning,
        object_type="session",
        object_id=row.id,
        patient_id=row.patient_id,
    )


def sign_note(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    password: str,
    zone: ZoneInfo | None = None,
    now: datetime | None = None,
) -> SessionNote:
    """The nurse signs the generated note, typing their password again; from then on the
    session is closed."""
    require(actor, frozenset({Role.nurse}), "signing the session note (the nurse signs)")
    row = load(db, session_id)
    if row.status != "discharged":
        raise Conflict(
            "the note is signed after discharge"
            if row.status == "open"
            else f"this session is {row.status}"
        )
    signature = _signature(db, actor, row, password, NOTE_MEANING)
    state = view.build(db, actor=actor, row=row, now=now)
    body, rows = note_text.render(state, zone or get_settings().zone)
    note = SessionNote(
        session_id=row.id,
        kind="note",
        body=body,
        lines=rows,
        signed_by=signature.username,
        signed_by_name=signature.printed_name,
        signed_at=now or signature.at,
        signature_meaning=signature.meaning,
    )
    db.add(note)
    row.status = "signed"
    db.flush()
    record(
        db,
        actor,
        "note.sign",
        row,
        object_type="session_note",
        object_id=note.id,
        detail=f"{signature.printed_name}: {signature.meaning}",
    )
    db.flush()
    return note


def cosign_note(
    db: Session, *, actor: Actor, session_id: int, password: str, now: datetime | None = None
) -> SessionNote:
    require(actor, PRESCRIBERS, "co-signing the session note (prescribers only)")
    row = load(db, session_id)
    note = _the_note(db, row.id)
    if note.cosigned_at is not None:
        raise Conflict(f"already co-signed by {note.cosigned_by}")
    if note.signed_by == actor.username:
        raise Conflict("the co-signature must come from someone other than the signer")
    signature = _signature(db, actor, row, password, COSIGN_MEANING)
    note.cosigned_by = signature.username
    note.cosigned_by_name = signature.printed_name
    note.cosigned_at = now or signature.at
    note.cosignature_meaning = signature.meaning
    row.status = "cosigned"
    record(
        db,
        actor,
        "note.cosign",
        row,
        object_type="session_note",
        object_id=note.id,
        detail=f"{signature.printed_name}: {signature.meaning}",
    )
    db.flush()
    return note


def add_addendum(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    text: str,
    password: str,
    now: datetime | None = None,
) -> SessionNote:
    """A correction or late entry after signing: a new signed record beside the note."""
    require(actor, RUNNERS, "writing an addendum")
    row = load(db, session_id)
    _the_note(db, row.id)
    body = reason_text(text, field="text", what="the addendum text")
    signature = _signature(db, actor, row, password, ADDENDUM_MEANING)
    addendum = SessionNote(
        session_id=row.id,
        kind="addendum",
        body=body,
        lines=[],
        signed_by=signature.username,
        signed_by_name=signature.printed_name,
        signed_at=now or signature.at,
        signature_meaning=signature.meaning,
    )
    db.add(addendum)
    db.flush()
    record(db, actor, "note.addendum", row, object_type="session_note", object_id=addendum.id)
    db.flush()
    return addendum


def _the_note(db: Session, session_id: int) -> SessionNote:
    from sqlalchemy import select

    note = db.scalar(
        select(SessionNote).where(SessionNote.session_id == session_id, SessionNote.kind == "note")
    )
    if note is None:
        raise Conflict("the nurse has not signed the session note yet")
    return note
