"""What people do with the self-screen and intake leads. Every read and write of a lead
is audited: a lead holds health answers, so it is patient data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from ketaclinic.clinical import screening
from ketaclinic.patients import service as patients
from ketaclinic.platform import ports
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid, NotFound
from ketaclinic.platform.roles import Role
from ketaclinic.public.models import LEAD_STATUSES, IntakeLead, LeadEvent
from ketaclinic.public.questions import BY_RULE, EXCLUDED, plain_workup
from ketaclinic.public.schemas import Answer, LeadIn, ScreenIn

LEAD_ROLES = frozenset({Role.prescriber, Role.nurse, Role.front_desk})
OPEN_STATUSES = ("new", "contacted")
# Which status a lead may move to from each status; "converted" only through convert_lead.
MOVES = {
    "new": ("contacted", "closed"),
    "contacted": ("contacted", "closed"),
    "closed": ("contacted",),
    "converted": (),
}
NO_INDICATION_WORDS = (
    "Ketamine therapy is offered for a few specific conditions (depression that has not "
    "improved enough with antidepressants, depression with suicidal thoughts, and in some "
    "programmes PTSD or alcohol and drug use disorders). From your answers, none of them "
    "applies to you."
)
SUMMARIES = {
    "eligible": (
        "yes",
        "A consultation makes sense. From your answers, at least one reason ketamine "
        "therapy is used applies to you, and nothing you told us rules it out.",
    ),
    "eligible_with_precautions": (
        "yes",
        "A consultation makes sense. At least one reason ketamine therapy is used applies "
        "to you; some of your answers mean the clinic would check a few things carefully "
        "first.",
    ),
    "needs_information": (
        "to_clarify",
        "We cannot tell yet: some answers are missing or not known. A consultation, or a "
        "talk with your own doctor, can clear them up.",
    ),
    "not_eligible": (
        "not_now",
        "From your answers, ketamine therapy is probably not the right choice for you at "
        "the moment.",
    ),
}


def public_actor(ip: str | None) -> Actor:
    """Who acts when a stranger sends the self-screen (for the audit trail)."""
    return Actor(user_id=None, username="public", ip=ip)


@dataclass(frozen=True)
class PlainReason:
    rule_id: str
    kind: str
    absolute: bool
    plain: str
    message: str
    source: str
    evidence: str


@dataclass(frozen=True)
class Explanation:
    """A verdict in plain words: never a diagnosis, always with the reasons behind it."""

    verdict: str
    route: str
    consultation: str
    summary: str
    reasons: tuple[PlainReason, ...]
    workup: tuple[str, ...]
    to_clarify: tuple[str, ...]
    crisis: bool


def explain(answers: Mapping[str, Answer], route: str) -> Explanation:
    """Run the candidacy rules on the answers and say what the result means."""
    # Rules the self-screen does not ask (age, measured blood pressure) are checked at the
    # clinic; they are set aside here, not answered.
    result = screening.evaluate(answers, route=route, set_aside=EXCLUDED)
    consultation, summary = SUMMARIES[result.verdict]
    reasons = tuple(
        PlainReason(
            rule_id=r.rule_id,
            kind=r.kind,
            absolute=r.absolute,
            plain=BY_RULE[r.rule_id].why if r.rule_id in BY_RULE else NO_INDICATION_WORDS,
            message=r.message,
            source=r.source,
            evidence=r.evidence,
        )
        for r in result.reasons
    )
    # Once one indication is present, the other unanswered indications change nothing.
    has_indication = any(r.kind == "indication" for r in result.reasons)
    kinds = {rule.id: rule.kind for rule in screening.rules()}
    to_clarify = tuple(
        BY_RULE[i].ask
        for i in result.unknown
        if i in BY_RULE and not (has_indication and kinds.get(i) == "indication")
    )
    return Explanation(
        verdict=result.verdict,
        route=result.route,
        consultation=consultation,
        summary=summary,
        reasons=reasons,
        workup=tuple(plain_workup(item) for item in result.workup),
        to_clarify=to_clarify,
        crisis=answers.get("suicidal_ideation") is True,
    )


def screen(data: ScreenIn) -> Explanation:
    """The self-screen result. Nothing is stored and nobody is named: no audit."""
    return explain(data.answers, data.route)


def _staff_only(actor: Actor) -> None:
    # Routes check roles; this is the second wall.
    if not actor.roles & LEAD_ROLES:
        raise Forbidden("only front desk, nurses and prescribers handle intake leads")


def create_lead(
    db: Session, *, actor: Actor, data: LeadIn, at: datetime | None = None
) -> IntakeLead:
    """Someone asks the clinic to contact them about their self-screen answers."""
    result = explain(data.answers, data.route)
    moment = at or utcnow()
    lead = IntakeLead(
        created_at=moment,
        name=data.contact.name,
        email=data.contact.email,
        phone=data.contact.phone,
        preferred_contact=data.contact.preferred_contact,
        message=data.contact.message,
        consent_to_contact=data.contact.consent,
        route=data.route,
        answers=dict(data.answers),
        verdict=result.verdict,
        urgent=result.crisis,
        status="new",
    )
    lead.events.append(LeadEvent(at=moment, by=actor.username, to_status="new", note=""))
    db.add(lead)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="lead.create",
        object_type="intake_lead",
        object_id=lead.id,
        detail=f"verdict {result.verdict}" + (", urgent" if result.crisis else ""),
    )
    if result.crisis:
        # Not a plain lead in the front desk's list: the clinical team gets an alert that
        # escalates like a patient's, in the same act as the lead.
        alert_id = ports.raise_lead_alert(
            db,
            actor=actor,
            lead_id=lead.id,
            detail="Self-screen: reported current thoughts of suicide "
            f"(lead {lead.id}, contact by {lead.preferred_contact})",
        )
        lead.events.append(
            LeadEvent(
                at=moment,
                by=actor.username,
                from_status="new",
                to_status="new",
                note=f"Suicidality alert {alert_id} raised for the clinicians; it escalates "
                "if nobody acknowledges it in time",
            )
        )
    db.flush()
    return lead


def list_leads(
    db: Session, *, actor: Actor, status: str | None = None, limit: int = 200
) -> list[IntakeLead]:
    """Leads, urgent first, then newest. ``status`` None means the open ones."""
    _staff_only(actor)
    if status is not None and status not in LEAD_STATUSES and status != "all":
        raise Invalid(f"status must be one of {', '.join(LEAD_STATUSES)} or all")
    if not 1 <= limit <= 1000:
        raise Invalid("limit must be between 1 and 1000", fields={"limit": str(limit)})
    stmt = select(IntakeLead).order_by(
        IntakeLead.urgent.desc(), IntakeLead.created_at.desc(), IntakeLead.id.desc()
    )
    if status is None:
        stmt = stmt.where(IntakeLead.status.in_(OPEN_STATUSES))
    elif status != "all":
        stmt = stmt.where(IntakeLead.status == status)
    found = list(db.scalars(stmt.limit(limit)))
    audit.note_read(
        db,
        actor=actor,
        action="lead.list",
        object_type="intake_lead",
        detail=f"status={status or 'open'} results={len(found)}",
    )
    db.flush()
    return found


def _load(db: Session, lead_id: int) -> IntakeLead:
    lead = db.scalar(
        select(IntakeLead).where(IntakeLead.id == lead_id).options(selectinload(IntakeLead.events))
    )
    if lead is None:
        raise NotFound(f"no intake lead with id {lead_id}")
    return lead


def get_lead(db: Session, *, actor: Actor, lead_id: int) -> IntakeLead:
    """One lead with its handling history; ``.answers`` maps rule id to the answer
    (True, False, None for not sure, or a number), ready to pre-fill an intake."""
    _staff_only(actor)
    lead = _load(db, lead_id)
    audit.note_read(
        db,
        actor=actor,
        action="lead.view",
        patient_id=lead.patient_id,
        object_type="intake_lead",
        object_id=lead.id,
    )
    db.flush()
    return lead


def mark_lead(
    db: Session,
    *,
    actor: Actor,
    lead_id: int,
    status: str,
    note: str,
    at: datetime | None = None,
) -> IntakeLead:
    """Record a contact attempt or close the lead, always with a note."""
    _staff_only(actor)
    note = note.strip()
    if len(note) < 3:
        raise Invalid("write a short note about what happened", fields={"note": "required"})
    if status not in ("contacted", "closed"):
        raise Invalid("a lead is marked contacted or closed", fields={"status": status})
    lead = _load(db, lead_id)
    if status not in MOVES[lead.status]:
        raise Conflict(f"a {lead.status} lead cannot be marked {status}")
    moment = at or utcnow()
    lead.events.append(
        LeadEvent(
            at=moment,
            by=actor.username,
            from_status=lead.status,
            to_status=status,
            note=note,
        )
    )
    previous = lead.status
    lead.status, lead.handled_by, lead.handled_at = status, actor.username, moment
    audit.record(
        db,
        actor=actor,
        action="lead.status",
        patient_id=lead.patient_id,
        object_type="intake_lead",
        object_id=lead.id,
        detail=f"{previous} -> {status}",
    )
    db.flush()
    return lead


def convert_lead(
    db: Session,
    *,
    actor: Actor,
    lead_id: int,
    data: patients.PatientIn,
    note: str = "",
    at: datetime | None = None,
) -> IntakeLead:
    """Register the lead's person as a patient; the lead keeps the link."""
    _staff_only(actor)
    lead = _load(db, lead_id)
    if lead.status not in ("new", "contacted"):
        raise Conflict(f"a {lead.status} lead cannot be converted", fields={"status": lead.status})
    moment = at or utcnow()
    previous = lead.status
    # Claim the lead with a conditional update first, so that two people converting at
    # once cannot create two patients: the second finds it no longer open.
    claimed = db.execute(
        update(IntakeLead)
        .where(IntakeLead.id == lead.id, IntakeLead.status.in_(OPEN_STATUSES))
        .values(status="converted", handled_by=actor.username, handled_at=moment)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("someone else has just handled this lead; reload it")
    lead.events.append(
        LeadEvent(
            at=moment,
            by=actor.username,
            from_status=previous,
            to_status="converted",
            note=note.strip() or "registered as a patient",
        )
    )
    # create_patient commits: the claim above commits with the new patient, or neither.
    patient = patients.create_patient(db, actor=actor, data=data)
    db.refresh(lead)
    lead.patient_id = patient.id
    audit.record(
        db,
        actor=actor,
        action="lead.convert",
        patient_id=patient.id,
        object_type="intake_lead",
        object_id=lead.id,
        detail=f"{previous} -> converted",
    )
    # A self-screen alert follows the person onto their chart (and the discharge hold).
    ports.lead_became_patient(db, actor=actor, lead_id=lead.id, patient_id=patient.id)
    db.flush()
    return lead


def lead_id_for_email(db: Session, email: str) -> int | None:
    """The newest self-screen lead sent with ``email`` (billing links an estimate that
    the same person asks for); reads no more than the id."""
    return db.scalar(
        select(IntakeLead.id)
        .where(func.lower(IntakeLead.email) == email.strip().lower())
        .order_by(IntakeLead.id.desc())
        .limit(1)
    )
