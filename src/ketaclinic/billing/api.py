"""Billing JSON routes under /api/billing: prices, balances, payments, due estimates,
claim files."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse
from sqlalchemy.orm import Session

from ketaclinic.billing import service
from ketaclinic.billing.schemas import (
    BalanceOut,
    ClaimIn,
    EstimateDueOut,
    PaymentIn,
    PaymentOut,
    PriceOut,
)
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.auth import allow, get_db
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role

router = APIRouter(prefix="/api/billing", tags=["billing"])
DB = Annotated[Session, Depends(get_db)]
MONEY = (Role.front_desk, Role.admin)


@router.get("/prices")
def prices(db: DB, actor: Actor = allow(*MONEY, Role.prescriber)) -> list[PriceOut]:
    return [
        PriceOut(
            key=r.service.key,
            name=r.service.name,
            kind=r.service.kind,
            codes=r.service.codes,
            price_cents=r.price_cents,
        )
        for r in service.price_list(db)
    ]


@router.get("/patients/{patient_id}/balance")
def balance(
    patient_id: RecordId, db: DB, actor: Actor = allow(*MONEY, Role.prescriber, Role.patient)
) -> BalanceOut:
    account = service.account(db, actor=actor, patient_id=patient_id)
    t = account.totals
    return BalanceOut(
        patient_id=patient_id,
        charged_cents=t.charged_cents,
        paid_cents=t.paid_cents,
        adjusted_cents=t.adjusted_cents,
        balance_cents=t.balance_cents,
    )


@router.post("/patients/{patient_id}/payments", status_code=201)
def record_payment(
    patient_id: RecordId, body: PaymentIn, db: DB, actor: Actor = allow(*MONEY)
) -> PaymentOut:
    data: dict[str, Any] = body.model_dump()
    data["on"] = data.pop("received_on")
    row = service.record_payment(db, actor=actor, patient_id=patient_id, **data)
    return PaymentOut(
        id=row.id,
        patient_id=row.patient_id,
        method=row.method,
        amount_cents=row.amount_cents,
        received_on=row.received_on,
    )


@router.get("/estimates/due")
def estimates_due(db: DB, actor: Actor = allow(*MONEY)) -> list[EstimateDueOut]:
    return [
        EstimateDueOut(
            id=d.estimate.id,
            recipient_name=d.estimate.recipient_name,
            asked_on=d.estimate.asked_on,
            service_on=d.estimate.service_on,
            due_on=d.estimate.due_on,
            late=d.late,
        )
        for d in service.estimates_due(db, actor=actor)
    ]


@router.post("/claims/837p", response_class=PlainTextResponse)
def claim_837p(body: ClaimIn, db: DB, actor: Actor = allow(*MONEY)) -> PlainTextResponse:
    return PlainTextResponse(service.claim_837p(db, actor=actor, charge_ids=body.charge_ids))


@router.post("/claims/cms1500")
def cms1500(body: ClaimIn, db: DB, actor: Actor = allow(*MONEY)) -> dict[str, Any]:
    return service.cms1500(db, actor=actor, charge_ids=body.charge_ids)
