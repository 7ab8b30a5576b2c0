"""Money taken and given back: payments, refunds, and the discounts, write-offs and
corrections that adjust a balance."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.billing.models import PAYMENT_METHODS, Adjustment, Charge, PatientPackage, Payment
from ketaclinic.billing.service.common import MONEY, _cents, _require, _writer, dollars
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.errors import Invalid, NotFound


def record_payment(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    method: str,
    amount_cents: int,
    on: date,
    reference: str | None = None,
    charge_id: int | None = None,
    package_id: int | None = None,
    note: str | None = None,
) -> Payment:
    _writer(db, actor, patient_id)
    if method not in PAYMENT_METHODS:
        raise Invalid(
            f"method must be one of {', '.join(PAYMENT_METHODS)}", fields={"method": method}
        )
    _cents(amount_cents, "amount_cents")
    if charge_id is not None:
        charge = db.get(Charge, charge_id)
        if charge is None or charge.patient_id != patient_id:
            raise Invalid("that charge is not this patient's", fields={"charge_id": str(charge_id)})
    if package_id is not None:
        package = db.get(PatientPackage, package_id)
        if package is None or package.patient_id != patient_id:
            raise Invalid(
                "that package is not this patient's", fields={"package_id": str(package_id)}
            )
    row = Payment(
        patient_id=patient_id,
        charge_id=charge_id,
        package_id=package_id,
        method=method,
        amount_cents=amount_cents,
        received_on=on,
        reference=(reference or "").strip() or None,
        note=(note or "").strip() or None,
        received_by=actor.username,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="billing.payment",
        patient_id=patient_id,
        object_type="billing_payment",
        object_id=row.id,
        detail=f"{method} {dollars(amount_cents)}",
    )
    return row


def refund(
    db: Session,
    *,
    actor: Actor,
    payment_id: int,
    amount_cents: int,
    on: date,
    reason: str,
    patient_id: int | None = None,
) -> Payment:
    """Money given back: a payment row of minus the amount, never more than was paid."""
    _require(actor, MONEY, "handling money")
    original = db.get(Payment, payment_id)
    if (
        original is None
        or original.amount_cents <= 0
        or (patient_id is not None and original.patient_id != patient_id)
    ):
        raise NotFound(f"no payment {payment_id} to refund")
    _cents(amount_cents, "amount_cents")
    if len(reason.strip()) < 3:
        raise Invalid("say why the money is given back", fields={"reason": "required"})
    already = -int(
        db.scalar(select(func.sum(Payment.amount_cents)).where(Payment.refund_of_id == payment_id))
        or 0
    )
    if amount_cents > original.amount_cents - already:
        raise Invalid(
            f"at most {dollars(original.amount_cents - already)} of this payment is left to refund",
            fields={"amount_cents": "more than was paid"},
        )
    row = Payment(
        patient_id=original.patient_id,
        charge_id=original.charge_id,
        package_id=original.package_id,
        refund_of_id=original.id,
        method=original.method,
        amount_cents=-amount_cents,
        received_on=on,
        note=reason.strip(),
        received_by=actor.username,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="billing.refund",
        patient_id=original.patient_id,
        object_type="billing_payment",
        object_id=row.id,
        detail=f"{dollars(amount_cents)} of payment {original.id}",
        reason=reason.strip(),
    )
    return row


def adjust(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    kind: str,
    amount_cents: int,
    reason: str,
    on: date,
    charge_id: int | None = None,
) -> Adjustment:
    """A discount or write-off (lowers the balance) or a correction, with its reason."""
    _writer(db, actor, patient_id)
    if kind not in ("discount", "write_off", "correction"):
        raise Invalid("kind must be discount, write_off or correction", fields={"kind": kind})
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents == 0:
        raise Invalid(
            "an adjustment is a non-zero whole number of cents", fields={"amount_cents": "non-zero"}
        )
    if kind != "correction":
        _cents(amount_cents, "amount_cents")
    if len(reason.strip()) < 3:
        raise Invalid("a discount or adjustment needs its reason", fields={"reason": "required"})
    if charge_id is not None:
        charge = db.get(Charge, charge_id)
        if charge is None or charge.patient_id != patient_id:
            raise Invalid("that charge is not this patient's", fields={"charge_id": str(charge_id)})
    row = Adjustment(
        patient_id=patient_id,
        charge_id=charge_id,
        kind=kind,
        amount_cents=amount_cents,
        reason=reason.strip(),
        made_on=on,
        made_by=actor.username,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="billing.adjust",
        patient_id=patient_id,
        object_type="billing_adjustment",
        object_id=row.id,
        detail=f"{kind} {dollars(amount_cents)}",
        reason=reason.strip(),
    )
    return row
