"""The demo clinic's books: every patient's charges - payments - adjustments is their
balance, months of history, and every claim it can make passes pyx12."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.billing import claims, service
from ketaclinic.billing.models import Adjustment, Charge, Coverage, Estimate, Payment
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.accounts.models import User
from tests import demo_clinic
from tests.conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return demo_clinic.copy(request, request.param, tmp_path)


def _sum(db: Session, model: type, patient_id: int) -> int:
    return int(
        db.scalar(select(func.sum(model.amount_cents)).where(model.patient_id == patient_id)) or 0  # type: ignore[attr-defined]
    )


def test_every_demo_patients_balance_is_charges_less_payments_and_adjustments(
    db: Session,
) -> None:
    desk = accounts.actor_for(db.scalars(select(User).where(User.username == "desk.baker")).one())
    patient_ids = set(db.scalars(select(Charge.patient_id)))
    assert len(patient_ids) >= 20
    for pid in patient_ids:
        account = service.account(db, actor=desk, patient_id=pid)
        charged, paid, adjusted = (_sum(db, m, pid) for m in (Charge, Payment, Adjustment))
        assert account.totals.balance_cents == charged - paid - adjusted
        assert sum(c.amount_cents for c in account.charges) == charged
        assert sum(p.amount_cents for p in account.payments) == paid
    months = {c.service_on.strftime("%Y-%m") for c in db.scalars(select(Charge))}
    assert len(months) >= 3
    methods = set(db.scalars(select(Payment.method)))
    assert methods == {"cash", "card", "cheque", "financing"}
    assert db.scalar(select(func.count()).select_from(Payment).where(Payment.amount_cents < 0))
    assert db.scalar(select(func.count()).select_from(Charge).where(Charge.kind == "session"))
    assert {e.status for e in db.scalars(select(Estimate))} == {"due", "issued"}
    report = service.reports(
        db, actor=accounts.actor_for(db.scalars(select(User).where(User.username == "admin")).one())
    )
    assert report.outstanding_cents == sum(
        t.balance_cents for t in service.totals_by_patient(db).values()
    )
    assert report.liability_cents > 0


def test_every_claim_the_demo_can_make_passes_pyx12(db: Session) -> None:
    desk = accounts.actor_for(db.scalars(select(User).where(User.username == "desk.baker")).one())
    made = 0
    for coverage in db.scalars(select(Coverage)):
        coded = [
            c.id
            for c in service.claimable(db, actor=desk, patient_id=coverage.patient_id)
            if c.lines
        ]
        if not coded:
            continue
        text = service.claim_837p(db, actor=desk, charge_ids=coded)
        ok, ack = claims.validate(text)
        assert ok, ack
        made += 1
    assert made >= 1
