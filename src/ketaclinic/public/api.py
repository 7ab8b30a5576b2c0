"""JSON routes: the self-screen (public, stores nothing), intake leads (staff) and the
patient portal (own record only)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from ketaclinic.clinical import screening
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.auth import Principal, allow, allow_public, get_db
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role
from ketaclinic.public import portal, service
from ketaclinic.public.models import IntakeLead
from ketaclinic.public.questions import QUESTIONS
from ketaclinic.public.schemas import (
    LeadConvertIn,
    LeadEventOut,
    LeadOut,
    LeadStatusIn,
    LeadSummary,
    PortalDue,
    PortalMeasurement,
    PortalOut,
    PortalScore,
    PortalVisit,
    QuestionOut,
    ReasonOut,
    ScreenIn,
    ScreenOut,
)

router = APIRouter(tags=["public"])
DB = Annotated[Session, Depends(get_db)]
LEAD_ROLES = (Role.prescriber, Role.nurse, Role.front_desk)


@router.get("/api/public/questions")
def questions(_: Principal | None = allow_public()) -> list[QuestionOut]:
    types = {rule.id: rule.answer_type for rule in screening.rules()}
    return [
        QuestionOut(
            rule_id=q.rule_id,
            section=q.section,
            ask=q.ask,
            answer_type=types.get(q.rule_id, "bool"),
            hint=q.hint,
        )
        for q in QUESTIONS
    ]


@router.post("/api/public/self-screen")
def self_screen(body: ScreenIn, _: Principal | None = allow_public()) -> ScreenOut:
    result = service.screen(body)
    return ScreenOut(
        verdict=result.verdict,
        route=result.route,
        consultation=result.consultation,  # type: ignore[arg-type]
        summary=result.summary,
        reasons=[ReasonOut(**asdict(r)) for r in result.reasons],
        workup=list(result.workup),
        to_clarify=list(result.to_clarify),
        crisis=result.crisis,
    )


def lead_out(lead: IntakeLead) -> LeadOut:
    return LeadOut(
        id=lead.id,
        created_at=lead.created_at,
        name=lead.name,
        email=lead.email,
        phone=lead.phone,
        preferred_contact=lead.preferred_contact,
        message=lead.message,
        route=lead.route,
        answers=lead.answers,
        verdict=lead.verdict,
        urgent=lead.urgent,
        status=lead.status,
        handled_by=lead.handled_by,
        handled_at=lead.handled_at,
        patient_id=lead.patient_id,
        events=[
            LeadEventOut(
                at=e.at, by=e.by, from_status=e.from_status, to_status=e.to_status, note=e.note
            )
            for e in lead.events
        ],
    )


@router.get("/api/leads")
def list_leads(
    db: DB, status: str | None = None, limit: int = 200, actor: Actor = allow(*LEAD_ROLES)
) -> list[LeadSummary]:
    return [
        LeadSummary(
            id=lead.id,
            created_at=lead.created_at,
            name=lead.name,
            verdict=lead.verdict,
            urgent=lead.urgent,
            status=lead.status,
            patient_id=lead.patient_id,
        )
        for lead in service.list_leads(db, actor=actor, status=status, limit=limit)
    ]


@router.get("/api/leads/{lead_id}")
def read_lead(lead_id: RecordId, db: DB, actor: Actor = allow(*LEAD_ROLES)) -> LeadOut:
    return lead_out(service.get_lead(db, actor=actor, lead_id=lead_id))


@router.post("/api/leads/{lead_id}/status")
def mark_lead(
    lead_id: RecordId, body: LeadStatusIn, db: DB, actor: Actor = allow(*LEAD_ROLES)
) -> LeadOut:
    lead = service.mark_lead(db, actor=actor, lead_id=lead_id, status=body.status, note=body.note)
    return lead_out(lead)


@router.post("/api/leads/{lead_id}/convert")
def convert_lead(
    lead_id: RecordId, body: LeadConvertIn, db: DB, actor: Actor = allow(*LEAD_ROLES)
) -> LeadOut:
    lead = service.convert_lead(
        db, actor=actor, lead_id=lead_id, data=body.patient, note=body.note or ""
    )
    return lead_out(lead)


def _visit(item: Any) -> PortalVisit:
    starts = portal.first(item, "starts_at", "start", "scheduled_at", "at")
    what = portal.first(item, "kind", "description", "title", "purpose")
    return PortalVisit(starts_at=starts, description=str(what or "visit"))


@router.get("/api/portal")
def my_portal(db: DB, actor: Actor = allow(Role.patient)) -> PortalOut:
    """The logged-in patient's own portal; there is no way to name another patient."""
    own = portal.overview(db, actor=actor)
    return PortalOut(
        mrn=own.patient.mrn,
        given_name=own.patient.given_name,
        family_name=own.patient.family_name,
        date_of_birth=own.patient.date_of_birth,
        measurements=[
            PortalMeasurement(
                measured_on=m.measured_on, weight_kg=m.weight_kg, height_cm=m.height_cm
            )
            for m in own.measurements
        ],
        upcoming=[_visit(i) for i in own.upcoming.items],
        questionnaires_due=[
            PortalDue(
                instrument_id=str(i.instrument_id),
                name=str(i.name),
                due_at=i.due_at,
                fill_url=i.fill_url,
            )
            for i in own.due.items
        ],
        scores=[
            PortalScore(
                instrument_id=str(p.instrument_id),
                total=p.total,
                severity=p.severity,
                completed_at=p.completed_at,
            )
            for p in own.scores.items
        ],
    )
