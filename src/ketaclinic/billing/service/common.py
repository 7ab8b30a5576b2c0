"""What the money acts share: who may handle or read money, whole cents, the clinic's
code tables, the priced service, and how a package's sessions are counted and priced.

Front desk and admin handle money; a prescriber reads a patient's balance; a patient
reads their own estimates, receipts and superbills; a researcher reads nothing. Every
read and write of a patient's money is audited in the act's own transaction.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.billing.models import Charge, PatientPackage, PricedService
from ketaclinic.clinical.codes import billing as codes
from ketaclinic.clinical.overrides import apply
from ketaclinic.configuration import service as configuration
from ketaclinic.orders import service as orders
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.errors import Forbidden, Invalid, NotFound
from ketaclinic.platform.roles import Role
from ketaclinic.sessions import service as sessions

MONEY = frozenset({Role.front_desk, Role.admin})
BALANCE_READERS = MONEY | {Role.prescriber}
OWNER = frozenset({Role.admin})


def _require(actor: Actor, roles: frozenset[Role], what: str) -> None:
    if not actor.roles & roles:
        raise Forbidden(f"{what} is for {', '.join(sorted(r.value for r in roles))}")


def _reader(db: Session, actor: Actor, patient_id: int, *, roles: frozenset[Role]) -> None:
    """A patient account reads its own money; staff need one of ``roles``."""
    if actor.patient_only:
        if actor.patient_id != patient_id:
            raise NotFound("no such patient")
    else:
        _require(actor, roles, "reading a patient's account")
    patients.check_patient(db, actor=actor, patient_id=patient_id)


def _writer(db: Session, actor: Actor, patient_id: int) -> None:
    _require(actor, MONEY, "handling money")
    patients.check_patient(db, actor=actor, patient_id=patient_id)


def _cents(value: int, what: str, *, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"{what} must be a whole number of cents", fields={what: "whole cents"})
    if value < 0 or (value == 0 and not allow_zero):
        raise Invalid(f"{what} must be more than zero", fields={what: "more than zero"})
    if value > 100_000_000:
        raise Invalid(f"{what} is implausibly large", fields={what: "too large"})
    return value


def dollars(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def code_table(db: Session) -> dict[str, codes.BillingCode]:
    """The billing codes with the clinic's overrides applied."""
    return apply(codes.CODES, configuration.overrides_for(db, "billing.codes"))


def diagnosis_table(db: Session) -> dict[str, codes.Diagnosis]:
    return apply(codes.DIAGNOSES, configuration.overrides_for(db, "billing.diagnoses"))


def _service(db: Session, service_id: int) -> PricedService:
    row = db.get(PricedService, service_id)
    if row is None:
        raise NotFound(f"no service {service_id} on the price list")
    return row


def _diagnoses(db: Session, patient_id: int) -> list[str]:
    course = orders.latest_course(db, patient_id)
    if course is None:
        return []
    return [d.code for d in codes.diagnoses_for(course.indication, diagnosis_table(db))]


def _used(db: Session, package_id: int) -> int:
    return int(
        db.scalar(
            select(func.count(Charge.id)).where(
                Charge.package_id == package_id, Charge.kind == "session"
            )
        )
        or 0
    )


def _share(package: PatientPackage, index: int) -> int:
    """The ``index``-th (0-based) session's share of the package price: equal cents,
    the last session taking what rounding left over, so the shares add up exactly."""
    base = package.price_cents // package.sessions
    if index == package.sessions - 1:
        return package.price_cents - base * (package.sessions - 1)
    return base


def _charging_services(db: Session) -> list[PricedService]:
    return list(
        db.scalars(
            select(PricedService)
            .where(PricedService.protocol_id.is_not(None), PricedService.active.is_(True))
            .order_by(PricedService.id)
        )
    )


def _service_for(
    summary: sessions.SessionSummary, services: list[PricedService]
) -> PricedService | None:
    """The service that charges a session: the one for its protocol, else the first
    for its route (a variant protocol of the same treatment)."""
    for s in services:
        if s.protocol_id == summary.protocol_id:
            return s
    kind = "esketamine" if summary.route == "esketamine_nasal" else "iv_infusion"
    return next((s for s in services if s.kind == kind), None)
