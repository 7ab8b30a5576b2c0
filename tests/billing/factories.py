"""Billing test set-up: a price list like a clinic's, and sessions given (made as
records, as the sessions tests' factories make orders: the sessions area's own acts are
tested there)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from ketaclinic.billing import service
from ketaclinic.billing.models import PackagePlan, PricedService
from ketaclinic.orders.models import Order
from ketaclinic.patients.models import Patient
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.sessions.models import InfusionSession, SessionEvent
from tests.conftest import committed, make_user

LONG_AGO = date(2025, 1, 1)
PRICE_CHANGE = date(2026, 3, 1)


@dataclass
class Desk:
    desk: Actor
    admin: Actor
    prescriber: Actor
    nurse: Actor
    researcher: Actor


@committed
def people(db: Session) -> Desk:
    found = {}
    for role in ("front_desk", "admin", "prescriber", "nurse", "researcher"):
        found[role] = accounts.actor_for(make_user(db, role))
    return Desk(
        found["front_desk"],
        found["admin"],
        found["prescriber"],
        found["nurse"],
        found["researcher"],
    )


@dataclass
class PriceList:
    consultation: PricedService
    infusion: PricedService
    esketamine: PricedService
    series: PackagePlan


@committed
def price_list(db: Session, desk: Actor) -> PriceList:
    """Consultation $450; IV infusion $475, then $500 from 1 March 2026; esketamine
    $900; a series of 6 infusions for $2,700."""
    consultation = service.add_service(
        db,
        actor=desk,
        key="consultation",
        name="Psychiatric consultation",
        kind="consultation",
        amount_cents=45_000,
        effective_from=LONG_AGO,
        codes_used=["90792"],
    )
    infusion = service.add_service(
        db,
        actor=desk,
        key="iv_infusion",
        name="IV ketamine infusion",
        kind="iv_infusion",
        amount_cents=47_500,
        effective_from=LONG_AGO,
        protocol_id="iv_ketamine",
        codes_used=["96365", "J3490"],
    )
    service.set_price(
        db,
        actor=desk,
        service_id=infusion.id,
        amount_cents=50_000,
        effective_from=PRICE_CHANGE,
        reason="yearly review",
    )
    esketamine = service.add_service(
        db,
        actor=desk,
        key="esketamine",
        name="Esketamine session",
        kind="esketamine",
        amount_cents=90_000,
        effective_from=LONG_AGO,
        protocol_id="in_esketamine",
        codes_used=["G2082", "G2083"],
    )
    series = service.add_plan(
        db,
        actor=desk,
        name="Series of 6 IV infusions",
        kind="package",
        service_id=infusion.id,
        sessions_count=6,
        price_cents=270_000,
    )
    return PriceList(consultation, infusion, esketamine, series)


@committed
def given_session(
    db: Session, patient: Patient, order: Order, at: datetime, *, number: int = 1
) -> InfusionSession:
    """A discharged session: an infusion started at ``at`` (the order's pump rate ends
    it: 40 minutes for the factories' IV order), or two nasal devices 5 minutes apart."""
    nasal = order.route == "intranasal"
    row = InfusionSession(
        patient_id=patient.id,
        course_id=order.course_id,
        order_id=order.id,
        number=number,
        protocol_id=order.protocol_id,
        route="esketamine_nasal" if nasal else "iv",
        status="discharged",
        created_by="nurse",
        created_at=at,
    )
    db.add(row)
    db.flush()
    if nasal:
        for n in range(order.devices or 1):
            db.add(
                SessionEvent(
                    session_id=row.id,
                    kind="device",
                    at=at + timedelta(minutes=5 * n),
                    recorded_by="nurse",
                )
            )
    else:
        db.add(
            SessionEvent(
                session_id=row.id,
                kind="start",
                at=at,
                rate_ml_per_h=order.rate_ml_per_h,
                recorded_by="nurse",
            )
        )
    db.add(
        SessionEvent(
            session_id=row.id, kind="discharge", at=at + timedelta(hours=2), recorded_by="nurse"
        )
    )
    db.flush()
    return row


def at_day(day: date, hour: int = 15) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)
