"""Charging: the sessions given (drawn from a package or at the day's price), a service
by hand, and a package bought."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.billing.models import Charge, PackagePlan, PatientPackage
from ketaclinic.billing.service.common import (
    _charging_services,
    _diagnoses,
    _service,
    _service_for,
    _share,
    _used,
    _writer,
    code_table,
    dollars,
)
from ketaclinic.billing.service.prices import price_on
from ketaclinic.clinical.codes import billing as codes
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Invalid, NotFound
from ketaclinic.platform.settings import get_settings
from ketaclinic.sessions import service as sessions


def _lines_json(lines: Iterable[codes.Line]) -> list[dict[str, Any]]:
    return [
        {
            "code": line.code.code,
            "system": line.code.system,
            "description": line.code.description,
            "units": line.units,
            "modifiers": list(line.modifiers),
            "note": line.note,
        }
        for line in lines
    ]


def session_lines(
    summary: sessions.SessionSummary, day: date, table: dict[str, codes.BillingCode]
) -> list[codes.Line]:
    """The coded lines of one session given (the coding rules of ``clinical.codes``)."""
    if summary.route == "esketamine_nasal":
        return codes.esketamine_lines(summary.dose_mg, day, table)
    minutes = summary.dosing_minutes or 0.0
    return codes.iv_ketamine_lines(minutes, summary.dose_mg, day, table)


def _open_package(
    db: Session, patient_id: int, service_id: int, day: date
) -> PatientPackage | None:
    """The oldest package bought on or before ``day`` with a session left."""
    for package in db.scalars(
        select(PatientPackage)
        .join(PackagePlan, PackagePlan.id == PatientPackage.plan_id)
        .where(
            PatientPackage.patient_id == patient_id,
            PackagePlan.service_id == service_id,
            PatientPackage.bought_on <= day,
        )
        .order_by(PatientPackage.bought_on, PatientPackage.id)
    ):
        if _used(db, package.id) < package.sessions:
            return package
    return None


def _book(db: Session, actor: Actor, row: Charge, detail: str) -> Charge:
    """A charge for care given (a session, a service by hand) on the patient's account,
    on the trail as ``billing.charge``; a package bought is audited as the purchase."""
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="billing.charge",
        patient_id=row.patient_id,
        object_type="billing_charge",
        object_id=row.id,
        detail=detail,
    )
    return row


def post_session_charges(db: Session, *, actor: Actor, patient_id: int) -> list[Charge]:
    """Charge every session given and not yet charged: drawn from an open package (owing
    nothing more), else at its service's price of the day."""
    _writer(db, actor, patient_id)
    given = sessions.given_sessions(db, actor=actor, patient_id=patient_id)
    charged = set(db.scalars(select(Charge.session_id).where(Charge.patient_id == patient_id)))
    services = _charging_services(db)
    table = code_table(db)
    diagnoses = _diagnoses(db, patient_id)
    zone = get_settings().zone
    made = []
    for summary in sorted(given, key=lambda s: (s.started_at or utcnow(), s.session_id)):
        if summary.session_id in charged or summary.started_at is None:
            continue
        service = _service_for(summary, services)
        if service is None:
            continue  # a protocol the price list does not charge
        day = summary.started_at.astimezone(zone).date()
        try:
            lines = session_lines(summary, day, table)
        except codes.NoCode as exc:
            raise Invalid(f"session {summary.session_id}: {exc}") from None
        package = _open_package(db, patient_id, service.id, day)
        if package is not None:
            used = _used(db, package.id)
            amount, billed = 0, _share(package, used)
            what = f"{service.name} (session {used + 1} of package)"
        else:
            price = price_on(db, service.id, day)
            if price is None:
                raise Invalid(f"{service.name} has no price on {day}")
            amount = billed = price
            what = service.name
        row = Charge(
            patient_id=patient_id,
            service_id=service.id,
            session_id=summary.session_id,
            package_id=package.id if package else None,
            kind="session",
            description=what,
            service_on=day,
            amount_cents=amount,
            billed_cents=billed,
            lines=_lines_json(lines),
            diagnoses=diagnoses,
            created_by=actor.username,
        )
        made.append(_book(db, actor, row, f"session {summary.session_id} {dollars(amount)}"))
    return made


def charge_service(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    service_id: int,
    on: date,
    code_ids: Sequence[str] | None = None,
) -> Charge:
    """Charge a service by hand (a consultation, an integration therapy session)."""
    _writer(db, actor, patient_id)
    service = _service(db, service_id)
    price = price_on(db, service.id, on)
    if price is None:
        raise Invalid(f"{service.name} has no price on {on}", fields={"on": str(on)})
    table = code_table(db)
    try:
        lines = [codes.Line(codes.code_on(c, on, table), 1) for c in (code_ids or service.codes)]
    except codes.NoCode as exc:
        raise Invalid(str(exc), fields={"codes": str(exc)}) from None
    problems = codes.conflicts([line.code.code for line in lines], table)
    if problems:
        raise Invalid("; ".join(problems), fields={"codes": problems[0]})
    row = Charge(
        patient_id=patient_id,
        service_id=service.id,
        kind="service",
        description=service.name,
        service_on=on,
        amount_cents=price,
        billed_cents=price,
        lines=_lines_json(lines),
        diagnoses=_diagnoses(db, patient_id),
        created_by=actor.username,
    )
    return _book(db, actor, row, f"{service.key} {dollars(price)}")


def buy_package(
    db: Session, *, actor: Actor, patient_id: int, plan_id: int, on: date
) -> PatientPackage:
    """The patient buys a package: its whole price is charged now; its sessions are
    then drawn as they are given."""
    _writer(db, actor, patient_id)
    plan = db.get(PackagePlan, plan_id)
    if plan is None or not plan.active:
        raise NotFound(f"no package {plan_id}")
    package = PatientPackage(
        patient_id=patient_id,
        plan_id=plan.id,
        sessions=plan.sessions,
        price_cents=plan.price_cents,
        bought_on=on,
        sold_by=actor.username,
    )
    db.add(package)
    db.flush()
    charge = Charge(
        patient_id=patient_id,
        service_id=plan.service_id,
        package_id=package.id,
        kind="package",
        description=plan.name,
        service_on=on,
        amount_cents=plan.price_cents,
        billed_cents=0,
        lines=[],
        diagnoses=[],
        created_by=actor.username,
    )
    db.add(charge)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="billing.package_buy",
        patient_id=patient_id,
        object_type="billing_patient_package",
        object_id=package.id,
        detail=f"{plan.name} {dollars(plan.price_cents)}",
    )
    return package
