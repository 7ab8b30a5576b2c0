"""Outcome JSON routes under /api/outcomes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from ketaclinic.outcomes import service
from ketaclinic.outcomes.pages import alert_banners, open_alert_counts
from ketaclinic.outcomes.schemas import (
    AcknowledgeIn,
    AlertOut,
    BannerOut,
    DueOut,
    GroupOutcomeOut,
    ObservationOut,
    RateOut,
    ResponseIn,
    ResponseOut,
    ScorePointOut,
)
from ketaclinic.outcomes.service import responses, statistics
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.auth import allow, get_db
from ketaclinic.platform.errors import Invalid
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role

router = APIRouter(prefix="/api/outcomes", tags=["outcomes"])
DB = Annotated[Session, Depends(get_db)]
CLINICAL = (Role.prescriber, Role.nurse)


def alert_out(a: service.Alert) -> AlertOut:
    return AlertOut(
        id=a.id,
        patient_id=a.patient_id,
        lead_id=a.lead_id,
        source=a.source,
        detail=a.detail,
        raised_at=a.raised_at,
        primary_clinician=a.primary_clinician,
        status=a.status,
        escalated_at=a.escalated_at,
        acknowledged_by=a.acknowledged_by,
        action=a.action,
    )


@router.post("/patients/{patient_id}/responses", status_code=201)
def record(
    patient_id: RecordId, body: ResponseIn, db: DB, actor: Actor = allow(*CLINICAL, Role.patient)
) -> ResponseOut:
    done = responses.record(
        db,
        actor=actor,
        patient_id=patient_id,
        instrument_id=body.instrument_id,
        answers=body.answers,
        context=body.context,
        session_id=body.session_id,
        completed_at=body.completed_at,
        via="api",
    )
    r = done.response
    return ResponseOut(
        id=r.id,
        patient_id=r.patient_id,
        instrument_id=r.instrument_id,
        context=r.context,
        completed_at=r.completed_at,
        total=r.total,
        severity=r.severity,
        risk=r.risk,
        flags=list(r.flags),
        items={i.item_id: i.value for i in r.items},
        observations=[
            ObservationOut(
                kind=o.kind, name=o.name, value=o.value, value_text=o.value_text, loinc=o.loinc
            )
            for o in responses.observations_of(db, r.id)
        ],
        alert_id=done.alert.id if done.alert else None,
    )


@router.get("/patients/{patient_id}/scores")
def scores(
    patient_id: RecordId,
    db: DB,
    instrument: str | None = None,
    actor: Actor = allow(*CLINICAL, Role.patient),
) -> list[ScorePointOut]:
    return [
        ScorePointOut(**p.__dict__)
        for p in service.score_history(
            db, actor=actor, patient_id=patient_id, instrument_id=instrument
        )
    ]


@router.get("/patients/{patient_id}/due")
def due(
    patient_id: RecordId, db: DB, actor: Actor = allow(*CLINICAL, Role.patient)
) -> list[DueOut]:
    return [
        DueOut(**d.__dict__)
        for d in service.due_questionnaires(db, actor=actor, patient_id=patient_id)
    ]


@router.get("/alerts")
def alerts(db: DB, actor: Actor = allow(*CLINICAL)) -> list[AlertOut]:
    return [alert_out(a) for a in service.open_alerts(db, actor=actor)]


@router.get("/alerts/banner")
def banner(request: Request, actor: Actor = allow(*CLINICAL)) -> BannerOut:
    total, escalated = open_alert_counts(request)
    return BannerOut(open=total, escalated=escalated, banners=alert_banners(total, escalated))


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(
    alert_id: RecordId, body: AcknowledgeIn, db: DB, actor: Actor = allow(*CLINICAL)
) -> AlertOut:
    return alert_out(
        service.acknowledge(db, actor=actor, alert_id=alert_id, action=body.action, note=body.note)
    )


def _rate(r: statistics.Rate) -> RateOut:
    return RateOut(count=r.count, n=r.n, rate=r.rate, ci95_low=r.low, ci95_high=r.high)


@router.get("/clinic")
def clinic(
    db: DB,
    start: date | None = None,
    end: date | None = None,
    actor: Actor = allow(Role.prescriber, Role.admin),
) -> list[GroupOutcomeOut]:
    """Exact counts, for the medical director; a researcher reads them with small cells
    suppressed on the research page (/reports/research)."""
    last = end or date.today()
    first = start or last - timedelta(days=365)
    if first > last:
        raise Invalid("start must be on or before end", fields={"start": "after end"})
    groups = statistics.clinic_outcomes(
        db,
        actor=actor,
        start=datetime.combine(first, time.min).astimezone(),
        end=datetime.combine(last + timedelta(days=1), time.min).astimezone(),
    )
    return [
        GroupOutcomeOut(
            indication=g.indication,
            protocol_id=g.protocol_id,
            courses=g.courses,
            evaluable=g.evaluable,
            response=_rate(g.response),
            remission=_rate(g.remission),
        )
        for g in groups
    ]
