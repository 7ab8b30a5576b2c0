"""Good-faith estimates: asked for on the public page, owed to a self-pay patient who
books, issued with their items priced, and the dispute notice when bills exceed one."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.billing.models import Charge, Estimate, PackagePlan, PricedService
from ketaclinic.billing.service.common import (
    MONEY,
    _diagnoses,
    _reader,
    _require,
    _service,
    _writer,
    dollars,
)
from ketaclinic.billing.service.coverage import coverage_of
from ketaclinic.billing.service.prices import price_on, service_by_key
from ketaclinic.clinical.codes import estimates as gfe
from ketaclinic.clinical.overrides import apply
from ketaclinic.configuration import service as configuration
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.clock import clinic_today
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Invalid, NotFound
from ketaclinic.public import service as public


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _due(asked_on: date, service_on: date | None, requested: bool, db: Session) -> gfe.EstimateDue:
    timelines = apply(gfe.TIMELINES, configuration.overrides_for(db, "billing.estimate_timelines"))
    return gfe.estimate_due(
        asked_on=asked_on,
        service_on=service_on,
        requested=requested,
        timelines=timelines,
        holidays=configuration.holidays(db),
    )


def request_estimate(
    db: Session,
    *,
    actor: Actor,
    name: str,
    email: str | None,
    service_key: str | None,
    service_on: date | None,
    asked_on: date | None = None,
) -> tuple[Estimate, str]:
    """A prospective patient asks for a good-faith estimate on the public page; they read
    it back by the secret link returned (only its hash is kept). An earlier self-screen
    lead with the same email is linked."""
    if not name.strip():
        raise Invalid("your name is needed", fields={"name": "required"})
    if service_key and service_by_key(db, service_key) is None:
        raise Invalid("choose a service from the list", fields={"service_key": "unknown"})
    day = asked_on or clinic_today()
    due = _due(day, service_on, True, db)
    token = secrets.token_urlsafe(24)
    lead_id = public.lead_id_for_email(db, email) if email else None
    row = Estimate(
        lead_id=lead_id,
        recipient_name=name.strip(),
        recipient_email=(email or "").strip() or None,
        requested=True,
        asked_on=day,
        service_on=service_on,
        due_on=due.due_on,
        due_reason=due.reason,
        status="due",
        token_hash=_token_hash(token),
        service_key=service_key or None,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="billing.estimate_request",
        object_type="billing_estimate",
        object_id=row.id,
        detail=f"due {due.due_on}" + (f", lead {lead_id}" if lead_id else ""),
    )
    return row, token


def open_estimate(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    service_on: date | None,
    requested: bool,
    asked_on: date | None = None,
    service_key: str | None = None,
) -> Estimate:
    """An estimate the clinic owes a self-pay patient: scheduled (due by the timelines)
    or asked for."""
    _writer(db, actor, patient_id)
    return _open_for_patient(
        db,
        actor=actor,
        patient_id=patient_id,
        service_on=service_on,
        requested=requested,
        asked_on=asked_on or clinic_today(),
        service_key=service_key,
    )


def _open_for_patient(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    service_on: date | None,
    requested: bool,
    asked_on: date,
    service_key: str | None,
    why: str = "",
) -> Estimate:
    """The estimate's row, due by the timelines from ``asked_on``, and its audit row; the
    caller has checked who may open it."""
    patient = patients.patient_by_id(db, patient_id)
    due = _due(asked_on, service_on, requested, db)
    row = Estimate(
        patient_id=patient_id,
        recipient_name=f"{patient.given_name} {patient.family_name}",
        recipient_email=patient.email,
        requested=requested,
        asked_on=asked_on,
        service_on=service_on,
        due_on=due.due_on,
        due_reason=due.reason,
        status="due",
        service_key=service_key,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="billing.estimate_open",
        patient_id=patient_id,
        object_type="billing_estimate",
        object_id=row.id,
        detail=f"{why}due {due.due_on}: {due.reason}",
    )
    return row


@dataclass(frozen=True)
class EstimateItem:
    service_id: int | None = None
    plan_id: int | None = None
    quantity: int = 1


def proposed_items(db: Session, service_key: str | None) -> list[EstimateItem]:
    """What an estimate for a service usually lists: the consultation, then the package
    of the service if one is sold, else six sessions."""
    found: list[EstimateItem] = []
    consultation = db.scalar(
        select(PricedService).where(
            PricedService.kind == "consultation", PricedService.active.is_(True)
        )
    )
    if consultation is not None:
        found.append(EstimateItem(service_id=consultation.id))
    service = service_by_key(db, service_key) if service_key else None
    if service is None:
        service = db.scalar(select(PricedService).where(PricedService.kind == "iv_infusion"))
    if service is not None:
        plan = db.scalar(
            select(PackagePlan).where(
                PackagePlan.service_id == service.id, PackagePlan.kind == "package"
            )
        )
        found.append(
            EstimateItem(plan_id=plan.id)
            if plan
            else EstimateItem(service_id=service.id, quantity=6)
        )
    return found


def _item_json(db: Session, item: EstimateItem, day: date) -> dict[str, Any]:
    if not 1 <= item.quantity <= 52:
        raise Invalid("quantity must be 1 to 52", fields={"quantity": str(item.quantity)})
    if item.plan_id is not None:
        plan = db.get(PackagePlan, item.plan_id)
        if plan is None:
            raise Invalid(f"no package {item.plan_id}", fields={"items": "unknown package"})
        service = _service(db, plan.service_id)
        return {
            "description": f"{plan.name} ({plan.sessions} sessions)",
            "codes": [f"{c} x{plan.sessions}" for c in service.codes],
            "quantity": item.quantity,
            "unit_cents": plan.price_cents,
            "total_cents": plan.price_cents * item.quantity,
        }
    if item.service_id is None:
        raise Invalid("an item names a service or a package", fields={"items": "empty"})
    service = _service(db, item.service_id)
    price = price_on(db, service.id, day)
    if price is None:
        raise Invalid(f"{service.name} has no price", fields={"items": "no price"})
    return {
        "description": service.name,
        "codes": list(service.codes),
        "quantity": item.quantity,
        "unit_cents": price,
        "total_cents": price * item.quantity,
    }


def issue_estimate(
    db: Session,
    *,
    actor: Actor,
    estimate_id: int,
    items: Sequence[EstimateItem] | None = None,
    at: datetime | None = None,
) -> Estimate:
    """Issue the estimate with its items priced today (proposed items when none given)."""
    _require(actor, MONEY, "issuing good-faith estimates")
    row = db.get(Estimate, estimate_id)
    if row is None:
        raise NotFound(f"no estimate {estimate_id}")
    if row.status == "issued":
        raise Conflict("this estimate was already issued; open a new one for a change")
    chosen = list(items) if items else proposed_items(db, row.service_key)
    if not chosen:
        raise Invalid("an estimate needs at least one item (the price list is empty)")
    day = clinic_today(at)
    priced = [_item_json(db, item, row.service_on or day) for item in chosen]
    row.items = priced
    row.total_cents = sum(i["total_cents"] for i in priced)
    row.diagnoses = _diagnoses(db, row.patient_id) if row.patient_id else []
    row.status = "issued"
    row.issued_by = actor.username
    row.issued_at = at or utcnow()
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="billing.estimate_issue",
        patient_id=row.patient_id,
        object_type="billing_estimate",
        object_id=row.id,
        detail=f"total {dollars(row.total_cents)}",
    )
    return row


# Which priced service a booked visit is (the clinic's price list names services by kind).
SERVICE_OF_VISIT = {
    "infusion": "iv_infusion",
    "esketamine": "esketamine",
    "consultation": "consultation",
    "therapy": "integration",
}
# One estimate may cover recurring items or services for up to 12 months, 45 CFR
# 149.610(c) [secondary]: a visit booked within a year of an estimate for the same kind
# of service is already covered by it.
RECURRING_ESTIMATE_COVERS = timedelta(days=365)


def appointment_booked(
    db: Session,
    *,
    actor: Actor,
    appointment_id: int,
    patient_id: int,
    kind: str,
    service_on: date,
    booked_on: date,
) -> Estimate | None:
    """Answers ``platform.ports.appointment_booked``: a self-pay patient (no insurance
    on file) booked for a priced service is owed a good-faith estimate, due by the No
    Surprises Act timelines counted from the booking, unless an estimate for that kind of
    service from the last 12 months covers it. Opened in the booking's act, under the
    booker's name, so it is on the front desk's list of estimates due."""
    service_kind = SERVICE_OF_VISIT.get(kind)
    if service_kind is None or coverage_of(db, patient_id) is not None:
        return None
    priced = db.scalar(
        select(PricedService)
        .where(PricedService.kind == service_kind, PricedService.active.is_(True))
        .order_by(PricedService.id)
        .limit(1)
    )
    if priced is None:
        return None  # nothing on the price list to estimate
    keys = select(PricedService.key).where(PricedService.kind == service_kind)
    covered = db.scalar(
        select(Estimate.id)
        .where(
            Estimate.patient_id == patient_id,
            Estimate.service_key.in_(keys),
            Estimate.asked_on >= booked_on - RECURRING_ESTIMATE_COVERS,
        )
        .limit(1)
    )
    if covered is not None:
        return None
    return _open_for_patient(
        db,
        actor=actor,
        patient_id=patient_id,
        service_on=service_on,
        requested=False,
        asked_on=booked_on,
        service_key=priced.key,
        why=f"booked visit {appointment_id}: ",
    )


@dataclass(frozen=True)
class DueEstimate:
    estimate: Estimate
    late: bool


def estimates_due(db: Session, *, actor: Actor, on: date | None = None) -> list[DueEstimate]:
    """Estimates not yet issued, soonest due first, with those past their day marked."""
    _require(actor, MONEY, "good-faith estimates")
    day = on or clinic_today()
    rows = list(
        db.scalars(
            select(Estimate).where(Estimate.status == "due").order_by(Estimate.due_on, Estimate.id)
        )
    )
    for row in rows:
        audit.note_read(
            db,
            actor=actor,
            action="billing.estimates_due",
            patient_id=row.patient_id,
            object_type="billing_estimate",
            object_id=row.id,
        )
    return [DueEstimate(r, r.due_on is not None and r.due_on < day) for r in rows]


def get_estimate(db: Session, *, actor: Actor, estimate_id: int) -> Estimate:
    row = db.get(Estimate, estimate_id)
    if row is None:
        raise NotFound(f"no estimate {estimate_id}")
    if row.patient_id is not None:
        _reader(db, actor, row.patient_id, roles=MONEY)
    else:
        _require(actor, MONEY, "good-faith estimates")
    audit.note_read(
        db,
        actor=actor,
        action="billing.estimate_view",
        patient_id=row.patient_id,
        object_type="billing_estimate",
        object_id=row.id,
    )
    return row


def recipient_birth_date(db: Session, estimate: Estimate) -> date | None:
    """The patient's date of birth for the estimate's header (a lead has none on file)."""
    if estimate.patient_id is None:
        return None
    return patients.patient_by_id(db, estimate.patient_id).date_of_birth


def estimate_by_token(db: Session, *, actor: Actor, token: str) -> Estimate:
    """The estimate a person asked for on the public page, by its secret link."""
    row = db.scalar(select(Estimate).where(Estimate.token_hash == _token_hash(token)))
    if row is None:
        raise NotFound("no estimate at this link")
    audit.note_read(
        db,
        actor=actor,
        action="billing.estimate_link",
        object_type="billing_estimate",
        object_id=row.id,
    )
    return row


@dataclass(frozen=True)
class DisputeNotice:
    estimate: Estimate
    billed_cents: int
    over_cents: int


def dispute_notices(db: Session, patient_id: int) -> list[DisputeNotice]:
    """Issued estimates the patient's bills since then exceed by the dispute threshold
    ($400): the patient is told they may dispute (45 CFR 149.620)."""
    rules = apply(gfe.DISPUTE, configuration.overrides_for(db, "billing.dispute"))
    found = []
    for estimate in db.scalars(
        select(Estimate).where(Estimate.patient_id == patient_id, Estimate.status == "issued")
    ):
        billed = int(
            db.scalar(
                select(func.sum(Charge.amount_cents)).where(
                    Charge.patient_id == patient_id, Charge.service_on >= estimate.asked_on
                )
            )
            or 0
        )
        if gfe.may_dispute(billed, estimate.total_cents, rules):
            found.append(DisputeNotice(estimate, billed, billed - estimate.total_cents))
    return found
