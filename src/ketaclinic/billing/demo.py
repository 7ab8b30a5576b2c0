"""The demo clinic's money: a price list with a price change, packages and a membership,
a few months of charges (consultations, sessions given, packages), payments by every
method, a refund, a discount, insurers for the esketamine patients, and good-faith
estimates issued, due and late."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from ketaclinic.billing import service
from ketaclinic.demo import DemoClinic
from ketaclinic.orders import service as orders
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.errors import ClinicError

log = logging.getLogger("ketaclinic.demo.billing")

# Demo prices (the clinic's own, in cents): within the self-pay ranges of
# shared/clinical-reference.md section 7 (400-800 USD an infusion, 2,400-7,200 a series).
CONSULTATION = 45_000
INFUSION_BEFORE, INFUSION = 47_500, 50_000
ESKETAMINE = 90_000
SERIES_OF_6 = 270_000
MEMBERSHIP = 45_000


def build(db: Session, clinic: DemoClinic) -> None:
    desk = clinic.staff["desk.baker"]
    today = clinic.today
    long_ago = today - timedelta(days=200)
    consult = service.add_service(
        db,
        actor=desk,
        key="consultation",
        name="Psychiatric consultation",
        kind="consultation",
        amount_cents=CONSULTATION,
        effective_from=long_ago,
        codes_used=["90792"],
    )
    infusion = service.add_service(
        db,
        actor=desk,
        key="iv_infusion",
        name="IV ketamine infusion",
        kind="iv_infusion",
        amount_cents=INFUSION_BEFORE,
        effective_from=long_ago,
        protocol_id="iv_ketamine",
        codes_used=["96365", "J3490"],
    )
    service.set_price(
        db,
        actor=desk,
        service_id=infusion.id,
        amount_cents=INFUSION,
        effective_from=today - timedelta(days=45),
        reason="yearly price review",
    )
    service.add_service(
        db,
        actor=desk,
        key="esketamine",
        name="Esketamine (Spravato) session",
        kind="esketamine",
        amount_cents=ESKETAMINE,
        effective_from=long_ago,
        protocol_id="in_esketamine",
        codes_used=["G2082", "G2083"],
    )
    service.add_service(
        db,
        actor=desk,
        key="booster",
        name="Booster infusion",
        kind="booster",
        amount_cents=INFUSION,
        effective_from=long_ago,
        codes_used=["96365", "J3490"],
    )
    service.add_service(
        db,
        actor=desk,
        key="integration",
        name="Integration therapy session (50 min)",
        kind="integration",
        amount_cents=17_500,
        effective_from=long_ago,
    )
    series = service.add_plan(
        db,
        actor=desk,
        name="Series of 6 IV infusions",
        kind="package",
        service_id=infusion.id,
        sessions_count=6,
        price_cents=SERIES_OF_6,
    )
    service.add_plan(
        db,
        actor=desk,
        name="Maintenance membership (1 infusion a month)",
        kind="membership",
        service_id=infusion.id,
        sessions_count=1,
        price_cents=MEMBERSHIP,
    )
    methods = ("card", "cash", "cheque", "financing")
    accounts = 0
    for index, patient in enumerate(clinic.patients):
        course = orders.latest_course(db, patient.id)
        if course is None:
            continue
        try:
            with db.begin_nested():
                _account(db, clinic, patient, index, course, consult.id, series.id, methods)
                accounts += 1
        except ClinicError as exc:  # one patient's odd history must not stop the demo
            log.info("billing demo: patient %s skipped (%s)", patient.id, exc.detail)
    _estimates(db, clinic)
    log.info("billing demo: %d accounts", accounts)


def _account(
    db: Session,
    clinic: DemoClinic,
    patient: object,
    index: int,
    course: object,
    consult_id: int,
    series_id: int,
    methods: tuple[str, ...],
) -> None:
    desk = clinic.staff["desk.baker"]
    pid = patient.id  # type: ignore[attr-defined]
    started = getattr(course, "created_at", None)
    first_day = started.date() if started else clinic.today - timedelta(days=90)
    first_day = min(first_day, clinic.today - timedelta(days=7 * (index % 12) + 14))
    charge = service.charge_service(
        db, actor=desk, patient_id=pid, service_id=consult_id, on=first_day
    )
    service.record_payment(
        db,
        actor=desk,
        patient_id=pid,
        method=methods[index % 4],
        amount_cents=charge.amount_cents,
        on=first_day,
        reference=f"DEMO-{pid:04d}-C",
        charge_id=charge.id,
    )
    if getattr(course, "protocol_id", "") == "iv_ketamine" and index % 3 != 2:
        package = service.buy_package(
            db, actor=desk, patient_id=pid, plan_id=series_id, on=first_day
        )
        service.record_payment(
            db,
            actor=desk,
            patient_id=pid,
            method="card",
            amount_cents=90_000,
            on=first_day,
            reference=f"DEMO-{pid:04d}-D",
            package_id=package.id,
            note="deposit",
        )
        if index % 2 == 0:
            service.record_payment(
                db,
                actor=desk,
                patient_id=pid,
                method="financing",
                amount_cents=180_000,
                on=first_day + timedelta(days=7),
                reference="CareCredit demo",
                package_id=package.id,
            )
    if str(getattr(course, "protocol_id", "")).startswith("in_esketamine"):
        service.record_coverage(
            db,
            actor=desk,
            patient_id=pid,
            payer_name="Harbor Health Plan",
            payer_id="HHP01",
            member_id=f"HHP{pid:07d}",
            group_number="GRP100",
        )
    made = service.post_session_charges(db, actor=desk, patient_id=pid)
    owed = [c for c in made if c.amount_cents > 0]
    for n, c in enumerate(owed):
        if n % 3 != 2:  # every third session left to pay: the outstanding balances
            service.record_payment(
                db,
                actor=desk,
                patient_id=pid,
                method=methods[(index + n) % 4],
                amount_cents=c.amount_cents,
                on=c.service_on,
                charge_id=c.id,
                reference=f"DEMO-{pid:04d}-{c.id}",
            )
    if index == 1:
        service.adjust(
            db,
            actor=desk,
            patient_id=pid,
            kind="discount",
            amount_cents=5_000,
            reason="Veteran discount (clinic policy)",
            on=first_day,
        )
    if index == 2:
        paid = service.record_payment(
            db,
            actor=desk,
            patient_id=pid,
            method="card",
            amount_cents=10_000,
            on=first_day,
            reference="DEMO-DOUBLE",
            note="charged twice at the terminal",
        )
        service.refund(
            db,
            actor=desk,
            payment_id=paid.id,
            amount_cents=10_000,
            on=first_day,
            reason="duplicate card charge",
        )


def _estimates(db: Session, clinic: DemoClinic) -> None:
    desk = clinic.staff["desk.baker"]
    today = clinic.today
    patients = clinic.patients[:3]
    if patients:
        issued = service.open_estimate(
            db,
            actor=desk,
            patient_id=patients[0].id,
            service_on=today + timedelta(days=21),
            requested=False,
            asked_on=today - timedelta(days=2),
            service_key="iv_infusion",
        )
        service.issue_estimate(db, actor=desk, estimate_id=issued.id)
    if len(patients) > 1:
        service.open_estimate(
            db,
            actor=desk,
            patient_id=patients[1].id,
            service_on=today + timedelta(days=20),
            requested=False,
            asked_on=today - timedelta(days=10),
            service_key="iv_infusion",
        )  # late: it was due within 3 business days
    service.request_estimate(
        db,
        actor=Actor(user_id=None, username="public"),
        name="Morgan Ellis",
        email="morgan.ellis@example.org",
        service_key="iv_infusion",
        service_on=None,
        asked_on=today,
    )
