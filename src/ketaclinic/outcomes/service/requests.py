"""Questionnaire requests and the ways a patient fills them: a single-use link, the
portal while logged in, or a clinic tablet handed over by staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.clinical import instruments
from ketaclinic.outcomes.models import QuestionnaireRequest
from ketaclinic.outcomes.service import config, links
from ketaclinic.outcomes.service.access import CLINICIANS, check_patient, require
from ketaclinic.outcomes.service.outbox import LINK, enqueue
from ketaclinic.outcomes.service.responses import Recorded, record
from ketaclinic.patients import service as patients
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Invalid, NotFound
from ketaclinic.platform.roles import Role

AD_HOC_DAYS = 7  # a request staff make by hand stays open a week: clinic convention


@dataclass(frozen=True)
class DueQuestionnaire:
    request_id: int
    instrument_id: str
    name: str
    context: str
    due_at: datetime
    expires_at: datetime
    fill_url: str


def link_actor(request: QuestionnaireRequest) -> Actor:
    """Whoever holds the link acts as the patient, for this one patient only."""
    return Actor(
        user_id=None,
        username=f"link:request{request.id}",
        roles=frozenset({Role.patient}),
        patient_id=request.patient_id,
    )


def messages_for(
    db: Session, patient: patients.Patient, request: QuestionnaireRequest
) -> list[dict[str, str]]:
    """The link messages as the patient wants them: e-mail, a text (only with their
    consent; it says its declared text, no questionnaire name), or both; none without
    a way to reach them."""
    # No questionnaire's name: it would say what the patient is treated for to anyone
    # who reads their e-mail; the page the link opens names it.
    text = (
        f"{patient.given_name}, your clinic asks you to fill in a short questionnaire. "
        f"It takes a few minutes: {LINK} (the link works once)."
    )
    return [
        {"channel": channel, "recipient": recipient, "body": text}
        for channel, recipient in patients.contact_for(db, patient.id).channels
    ]


def create_request(
    db: Session,
    *,
    patient: patients.Patient,
    course_id: int | None,
    instrument_id: str,
    context: str,
    slot: str,
    delivery: str,
    due_at: datetime,
    expires_at: datetime,
    created_by: str,
) -> QuestionnaireRequest:
    """Inside the caller's transaction; queues the link message for link delivery."""
    request = QuestionnaireRequest(
        patient_id=patient.id,
        course_id=course_id,
        instrument_id=instrument_id,
        context=context,
        slot=slot,
        delivery=delivery,
        due_at=due_at,
        expires_at=expires_at,
        created_by=created_by,
    )
    db.add(request)
    db.flush()
    for message in messages_for(db, patient, request) if delivery == "link" else []:
        enqueue(
            db,
            kind="questionnaire_link",
            subject="A questionnaire from your clinic",
            patient_id=patient.id,
            request_id=request.id,
            channel=message["channel"],
            recipient=message["recipient"],
            body=message["body"],
            remind=True,  # reminded until answered (the clinic's reminder_count)
        )
    return request


def request_questionnaire(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    instrument_id: str,
    context: str = "visit",
    now: datetime | None = None,
) -> QuestionnaireRequest:
    """Staff ask a patient to fill a questionnaire: a request and a link message."""
    require(actor, CLINICIANS, "requesting a questionnaire")
    instrument = _instrument(instrument_id)
    if instrument.completed_by != "patient":
        raise Invalid(
            f"{instrument.name} is completed by a clinician; enter it yourself",
            fields={"instrument_id": "clinician-rated"},
        )
    if context not in config.CONTEXTS:
        raise Invalid(f"unknown context {context!r}", fields={"context": "unknown"})
    now = now or utcnow()
    patient = patients.get_patient(db, actor=actor, patient_id=patient_id, purpose="questionnaire")
    request = create_request(
        db,
        patient=patient,
        course_id=None,
        instrument_id=instrument.id,
        context=context,
        slot=f"asked:{uuid4().hex[:12]}",
        delivery="link",
        due_at=now,
        expires_at=now + timedelta(days=AD_HOC_DAYS),
        created_by=actor.username,
    )
    audit.record(
        db,
        actor=actor,
        action="questionnaire.request",
        patient_id=patient_id,
        object_type="questionnaire_request",
        object_id=request.id,
        detail=instrument.id,
    )
    db.flush()
    return request


def _instrument(instrument_id: str) -> instruments.Instrument:
    try:
        return instruments.get(instrument_id)
    except ValueError as exc:
        raise Invalid(str(exc), fields={"instrument_id": "unknown"}) from None


def start_tablet(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    instrument_id: str,
    context: str = "visit",
    now: datetime | None = None,
    staff_session: str | None = None,
) -> str:
    """Staff hand the clinic tablet to the patient: a short-lived link to one
    questionnaire (an open request for it if there is one). Returns the token. The
    staff member's browser session (``staff_session``, its token) ends in the same act:
    the tablet is the patient's until the staff member logs in again."""
    require(actor, CLINICIANS, "starting a questionnaire on the tablet")
    instrument = _instrument(instrument_id)
    if instrument.completed_by != "patient":
        raise Invalid(
            f"{instrument.name} is completed by a clinician",
            fields={"instrument_id": "clinician-rated"},
        )
    if context not in config.CONTEXTS:
        raise Invalid(f"unknown context {context!r}", fields={"context": "unknown"})
    now = now or utcnow()
    patient = patients.get_patient(db, actor=actor, patient_id=patient_id, purpose="tablet")
    minutes = int(config.setting(db, "tablet_link_minutes"))
    request = db.scalar(
        select(QuestionnaireRequest)
        .where(
            QuestionnaireRequest.patient_id == patient_id,
            QuestionnaireRequest.instrument_id == instrument.id,
            QuestionnaireRequest.status == "open",
            QuestionnaireRequest.due_at <= now,
            QuestionnaireRequest.expires_at > now,
        )
        .limit(1)
    )
    if request is None:
        request = create_request(
            db,
            patient=patient,
            course_id=None,
            instrument_id=instrument.id,
            context=context,
            slot=f"tablet:{uuid4().hex[:12]}",
            delivery="staff",
            due_at=now,
            expires_at=now + timedelta(minutes=minutes),
            created_by=actor.username,
        )
    link, token = links.mint_link(
        db,
        request=request,
        channel="tablet",
        created_by=actor.username,
        now=now,
        valid_for=timedelta(minutes=minutes),
    )
    audit.record(
        db,
        actor=actor,
        action="questionnaire.tablet",
        patient_id=patient_id,
        object_type="questionnaire_link",
        object_id=link.id,
        detail=instrument.id + ("; staff session ended for the hand-over" if staff_session else ""),
    )
    if staff_session:
        accounts.end_session(db, staff_session)
    db.flush()
    return token


def open_by_link(
    db: Session, *, token: str, now: datetime | None = None, ip: str | None = None
) -> QuestionnaireRequest:
    """The request behind a link, for showing its form (and nothing else)."""
    now = now or utcnow()
    link, request = links.resolve(db, token, now=now)
    actor = link_actor(request)
    audit.record(
        db,
        actor=Actor(None, actor.username, ip=ip),
        action="questionnaire.link_open",
        patient_id=request.patient_id,
        object_type="questionnaire_link",
        object_id=link.id,
    )
    db.flush()
    return request


def submit_by_link(
    db: Session, *, token: str, answers: Any, now: datetime | None = None, ip: str | None = None
) -> Recorded:
    now = now or utcnow()
    link, request = links.resolve(db, token, now=now)
    base = link_actor(request)
    actor = Actor(None, base.username, roles=base.roles, patient_id=base.patient_id, ip=ip)
    via = "tablet" if link.channel == "tablet" else "link"
    return record(
        db,
        actor=actor,
        patient_id=request.patient_id,
        instrument_id=request.instrument_id,
        answers=answers,
        context=request.context,
        via=via,
        request=request,
        link=link,
    )


def due_questionnaires(
    db: Session, *, actor: Actor, patient_id: int, now: datetime | None = None
) -> list[DueQuestionnaire]:
    """What the patient has to fill now, with a logged-in fill address for the portal."""
    check_patient(db, actor, patient_id)
    now = now or utcnow()
    rows = list(
        db.scalars(
            select(QuestionnaireRequest)
            .where(
                QuestionnaireRequest.patient_id == patient_id,
                QuestionnaireRequest.status == "open",
                QuestionnaireRequest.delivery == "link",
                QuestionnaireRequest.due_at <= now,
                QuestionnaireRequest.expires_at > now,
            )
            .order_by(QuestionnaireRequest.due_at)
        )
    )
    audit.note_read(
        db,
        actor=actor,
        action="questionnaire.due",
        patient_id=patient_id,
        object_type="questionnaire_request",
        detail=f"{len(rows)} due",
    )
    db.flush()
    return [
        DueQuestionnaire(
            request_id=r.id,
            instrument_id=r.instrument_id,
            name=instruments.get(r.instrument_id).name,
            context=r.context,
            due_at=r.due_at,
            expires_at=r.expires_at,
            fill_url=f"/my/questionnaires/{r.id}",
        )
        for r in rows
    ]


def own_request(
    db: Session, *, actor: Actor, request_id: int, now: datetime | None = None
) -> QuestionnaireRequest:
    """A request the logged-in patient may fill now (anyone else's is 'not found')."""
    now = now or utcnow()
    request = db.get(QuestionnaireRequest, request_id)
    if request is None or request.patient_id != actor.patient_id:
        raise NotFound("no such questionnaire")
    check_patient(db, actor, request.patient_id)
    if request.status == "completed":
        raise Conflict("you have already completed this questionnaire; thank you")
    if request.status != "open" or request.expires_at <= now or request.due_at > now:
        raise Conflict("this questionnaire is not open now")
    return request


def submit_for_request(
    db: Session, *, actor: Actor, request_id: int, answers: Any, now: datetime | None = None
) -> Recorded:
    request = own_request(db, actor=actor, request_id=request_id, now=now)
    return record(
        db,
        actor=actor,
        patient_id=request.patient_id,
        instrument_id=request.instrument_id,
        answers=answers,
        context=request.context,
        via="portal",
        request=request,
    )
