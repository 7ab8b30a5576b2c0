"""The money acts by behaviour, with amounts worked out by hand (integer cents)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.billing import claims, documents, service
from ketaclinic.billing.models import Charge
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.errors import Forbidden, Invalid, NotFound
from ketaclinic.platform.roles import Role
from tests.billing.factories import Desk, PriceList, at_day, given_session, people, price_list
from tests.patients.factories import a_patient
from tests.sessions.factories import esketamine_order, iv_order, male_patient


@pytest.fixture
def team(db: Session) -> Desk:
    return people(db)


@pytest.fixture
def prices(db: Session, team: Desk) -> PriceList:
    return price_list(db, team.desk)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_package_of_six_with_a_deposit_and_two_sessions(
    db: Session, team: Desk, prices: PriceList
) -> None:
    patient = male_patient(db)
    order = iv_order(db, patient)
    package = service.buy_package(
        db, actor=team.desk, patient_id=patient.id, plan_id=prices.series.id, on=date(2026, 3, 9)
    )
    service.record_payment(
        db,
        actor=team.desk,
        patient_id=patient.id,
        method="card",
        amount_cents=90_000,
        on=date(2026, 3, 9),
        reference="T-1",
        package_id=package.id,
    )
    given_session(db, patient, order, at_day(date(2026, 3, 10)), number=1)
    given_session(db, patient, order, at_day(date(2026, 3, 12)), number=2)

    made = service.post_session_charges(db, actor=team.desk, patient_id=patient.id)
    # Drawn from the package: nothing more owed; each billed at 2,700 / 6 = 450.
    assert [(c.amount_cents, c.billed_cents) for c in made] == [(0, 45_000), (0, 45_000)]
    assert [[(line["code"], line["units"]) for line in c.lines] for c in made] == [
        [("96365", 1), ("J3490", 1)]
    ] * 2
    assert made[0].diagnoses == ["F33.2"]
    # Charging again finds nothing new.
    assert service.post_session_charges(db, actor=team.desk, patient_id=patient.id) == []

    account = service.account(db, actor=team.desk, patient_id=patient.id)
    assert account.totals.balance_cents == 270_000 - 90_000
    assert [(p.used, p.left, p.paid_cents) for p in account.packages] == [(2, 4, 90_000)]

    bill = service.superbill(db, actor=team.desk, patient_id=patient.id)
    # The 900 deposit covers the first two sessions' shares.
    assert [(line.charge.billed_cents, line.paid_cents) for line in bill.lines] == [
        (45_000, 45_000),
        (45_000, 45_000),
    ]
    assert [d.code for d in bill.diagnoses] == ["F33.2"]
    text = text_of(documents.superbill_pdf(bill))
    for expected in (
        "Superbill",
        "1234567893",
        "F33.2",
        "96365 x1",
        "J3490 x1",
        "2026-03-10",
        "2026-03-12",
        "$900.00",
    ):
        assert expected in text, expected

    liability = service.reports(db, actor=team.admin).liability
    assert [(r.left, r.value_cents) for r in liability] == [(4, 180_000)]


def test_sessions_without_a_package_are_charged_at_the_price_of_their_day(
    db: Session, team: Desk, prices: PriceList
) -> None:
    patient = male_patient(db)
    order = iv_order(db, patient)
    given_session(db, patient, order, at_day(date(2026, 2, 27)), number=1)
    given_session(db, patient, order, at_day(date(2026, 3, 2)), number=2)
    made = service.post_session_charges(db, actor=team.desk, patient_id=patient.id)
    assert [c.amount_cents for c in made] == [47_500, 50_000]
    assert service.totals_of(db, patient.id).balance_cents == 97_500


def test_a_long_infusion_earns_an_additional_hour(
    db: Session, team: Desk, prices: PriceList
) -> None:
    patient = male_patient(db)
    # 100.7 mL at 63.6 mL/h runs 95 minutes: 96365 + one 96366.
    order = iv_order(db, patient, rate_ml_per_h=63.6)
    given_session(db, patient, order, at_day(date(2026, 3, 10)))
    (charge,) = service.post_session_charges(db, actor=team.desk, patient_id=patient.id)
    assert [(line["code"], line["units"]) for line in charge.lines] == [
        ("96365", 1),
        ("96366", 1),
        ("J3490", 1),
    ]


def test_refunds_discounts_and_the_balance(db: Session, team: Desk, prices: PriceList) -> None:
    patient = male_patient(db)
    charge = service.charge_service(
        db,
        actor=team.desk,
        patient_id=patient.id,
        service_id=prices.consultation.id,
        on=date(2026, 3, 1),
    )
    assert [line["code"] for line in charge.lines] == ["90792"]
    paid = service.record_payment(
        db,
        actor=team.desk,
        patient_id=patient.id,
        method="cheque",
        amount_cents=45_000,
        on=date(2026, 3, 1),
        reference="CHQ 1001",
    )
    service.refund(
        db,
        actor=team.desk,
        payment_id=paid.id,
        amount_cents=20_000,
        on=date(2026, 3, 2),
        reason="overpaid",
    )
    with pytest.raises(Invalid, match="at most \\$250.00"):
        service.refund(
            db,
            actor=team.desk,
            payment_id=paid.id,
            amount_cents=25_001,
            on=date(2026, 3, 2),
            reason="again",
        )
    service.adjust(
        db,
        actor=team.desk,
        patient_id=patient.id,
        kind="discount",
        amount_cents=5_000,
        reason="hardship",
        on=date(2026, 3, 2),
    )
    with pytest.raises(Invalid, match="reason"):
        service.adjust(
            db,
            actor=team.desk,
            patient_id=patient.id,
            kind="discount",
            amount_cents=5_000,
            reason="",
            on=date(2026, 3, 2),
        )
    totals = service.totals_of(db, patient.id)
    # 450 - (450 - 200) - 50 = 150
    assert (totals.charged_cents, totals.paid_cents, totals.adjusted_cents) == (
        45_000,
        25_000,
        5_000,
    )
    assert totals.balance_cents == 15_000

    text = text_of(documents.receipt_pdf(*service.receipt(db, actor=team.desk, payment_id=paid.id)))
    assert "Receipt" in text and "$450.00" in text and "CHQ 1001" in text and "$150.00" in text


@pytest.mark.parametrize("amount", [12.5, 0, -100, True])
def test_an_amount_is_whole_positive_cents(
    db: Session, team: Desk, prices: PriceList, amount: object
) -> None:
    patient = male_patient(db)
    with pytest.raises(Invalid):
        service.record_payment(
            db,
            actor=team.desk,
            patient_id=patient.id,
            method="cash",
            amount_cents=amount,  # type: ignore[arg-type]
            on=date(2026, 3, 1),
        )


def test_roles_prescribers_read_the_balance_researchers_and_nurses_see_nothing(
    db: Session, team: Desk, prices: PriceList
) -> None:
    patient = male_patient(db)
    other = a_patient(db)
    service.charge_service(
        db,
        actor=team.desk,
        patient_id=patient.id,
        service_id=prices.consultation.id,
        on=date(2026, 3, 1),
    )
    assert (
        service.account(db, actor=team.prescriber, patient_id=patient.id).totals.balance_cents
        == 45_000
    )
    line = service.balance(db, actor=team.prescriber, patient_id=patient.id)
    assert line is not None and line.balance_cents == 45_000
    with pytest.raises(Forbidden):
        service.record_payment(
            db,
            actor=team.prescriber,
            patient_id=patient.id,
            method="cash",
            amount_cents=100,
            on=date(2026, 3, 1),
        )
    with pytest.raises(Forbidden):
        service.account(db, actor=team.researcher, patient_id=patient.id)
    assert service.balance(db, actor=team.nurse, patient_id=patient.id) is None
    assert service.balance(db, actor=team.researcher, patient_id=patient.id) is None
    own = Actor(user_id=None, username="p", roles=frozenset({Role.patient}), patient_id=patient.id)
    assert service.portal_documents(db, actor=own).totals.balance_cents == 45_000
    with pytest.raises(NotFound):
        service.account(db, actor=own, patient_id=other.id)
    with pytest.raises(Forbidden):
        service.reports(db, actor=team.desk)


def test_every_money_act_is_audited_with_its_patient(
    db: Session, team: Desk, prices: PriceList
) -> None:
    patient = male_patient(db)
    service.record_payment(
        db,
        actor=team.desk,
        patient_id=patient.id,
        method="cash",
        amount_cents=1_000,
        on=date(2026, 3, 1),
    )
    found = db.scalars(select(AuditEvent).where(AuditEvent.action == "billing.payment")).all()
    assert [(e.patient_id, e.actor) for e in found] == [(patient.id, team.desk.username)]


def test_a_spravato_session_claim_validates_with_pyx12(
    db: Session, team: Desk, prices: PriceList
) -> None:
    patient = male_patient(db, address="12 Elm Street, Salem, MA 01970")
    order = esketamine_order(db, patient, dose_mg=56.0)
    given_session(db, patient, order, at_day(date(2026, 3, 10)))
    (charge,) = service.post_session_charges(db, actor=team.desk, patient_id=patient.id)
    # G2082 includes the drug's provision: no J0013 line beside it.
    assert [(line["code"], line["units"]) for line in charge.lines] == [("G2082", 1)]
    assert charge.amount_cents == 90_000
    with pytest.raises(Invalid, match="insurer"):
        service.claim_837p(db, actor=team.desk, charge_ids=[charge.id])
    service.record_coverage(
        db,
        actor=team.desk,
        patient_id=patient.id,
        payer_name="Harbor Health Plan",
        payer_id="HHP01",
        member_id="HHP0000001",
        group_number="GRP100",
    )
    text = service.claim_837p(db, actor=team.desk, charge_ids=[charge.id])
    segments = [s.strip() for s in text.split("~") if s.strip()]
    assert segments[0].startswith("ISA*") and segments[-1].startswith("IEA*1*")
    st = next(i for i, s in enumerate(segments) if s.startswith("ST*"))
    se = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
    assert segments[se].split("*")[1] == str(se - st + 1)
    for loop in (
        "HL*1**20*1",
        "HL*2*1*22*0",
        "CLM*KC",
        "SV1*HC:G2082*900*UN*1",
        "HI*ABK:F332",
    ):
        assert loop in text, loop
    ok, ack = claims.validate(text)
    assert ok, ack
    # A broken segment count is refused by the same validator.
    broken = text.replace(segments[se], f"SE*{se - st + 5}*0001")
    assert not claims.validate(broken)[0]
    form = service.cms1500(db, actor=team.desk, charge_ids=[charge.id])
    assert form["33a_npi"] == "1234567893"
    assert [line["24d_procedure"] for line in form["claims"][0]["24_lines"]] == ["G2082"]
    assert "J0013" not in text
    assert form["claims"][0]["28_total_charge_cents"] == 90_000


def test_a_scheduled_estimate_is_due_on_time_issued_as_pdf_and_late_when_missed(
    db: Session, team: Desk, prices: PriceList
) -> None:
    patient = male_patient(db)
    iv_order(db, patient)
    estimate = service.open_estimate(
        db,
        actor=team.desk,
        patient_id=patient.id,
        service_on=date(2026, 12, 16),
        requested=False,
        asked_on=date(2026, 12, 2),
        service_key="iv_infusion",
    )
    assert estimate.due_on == date(2026, 12, 7)  # 10 business days ahead: within 3
    due = service.estimates_due(db, actor=team.desk, on=date(2026, 12, 8))
    assert [(d.estimate.id, d.late) for d in due] == [(estimate.id, True)]
    assert not service.estimates_due(db, actor=team.desk, on=date(2026, 12, 7))[0].late
    service.issue_estimate(db, actor=team.desk, estimate_id=estimate.id)
    # Consultation 450 + the series of 6 for 2,700.
    assert estimate.total_cents == 315_000
    assert [i["total_cents"] for i in estimate.items] == [45_000, 270_000]
    assert service.estimates_due(db, actor=team.desk, on=date(2026, 12, 8)) == []
    text = text_of(documents.estimate_pdf(estimate))
    for expected in (
        "Good Faith Estimate",
        "$3,150.00",
        "90792",
        "96365",
        "F33.2",
        "$400.00",
        "1234567893",
    ):
        assert expected in text, expected


def test_a_bill_400_dollars_over_its_estimate_tells_the_patient_they_may_dispute(
    db: Session, team: Desk, prices: PriceList
) -> None:
    patient = male_patient(db)
    estimate = service.open_estimate(
        db,
        actor=team.desk,
        patient_id=patient.id,
        service_on=None,
        requested=True,
        asked_on=date(2026, 3, 2),
    )
    service.issue_estimate(db, actor=team.desk, estimate_id=estimate.id)
    assert estimate.total_cents == 315_000
    service.buy_package(
        db, actor=team.desk, patient_id=patient.id, plan_id=prices.series.id, on=date(2026, 3, 3)
    )
    service.charge_service(
        db,
        actor=team.desk,
        patient_id=patient.id,
        service_id=prices.consultation.id,
        on=date(2026, 3, 3),
    )
    # 3,150 billed: as estimated.
    assert service.dispute_notices(db, patient.id) == []
    service.charge_service(
        db,
        actor=team.desk,
        patient_id=patient.id,
        service_id=prices.consultation.id,
        on=date(2026, 3, 4),
    )
    # 3,600 billed: 450 over the estimate, at least 400.
    (notice,) = service.dispute_notices(db, patient.id)
    assert (notice.billed_cents, notice.over_cents) == (360_000, 45_000)


def test_a_lead_asks_for_an_estimate_and_reads_it_by_its_link(
    db: Session, team: Desk, prices: PriceList
) -> None:
    from ketaclinic.public.models import IntakeLead

    lead = IntakeLead(
        name="Morgan Ellis",
        email="Morgan.Ellis@example.org",
        preferred_contact="email",
        consent_to_contact=True,
        route="iv",
        answers={},
        verdict="consultation_recommended",
    )
    db.add(lead)
    db.flush()
    public = Actor(user_id=None, username="public")
    estimate, token = service.request_estimate(
        db,
        actor=public,
        name="Morgan Ellis",
        email="morgan.ellis@example.org",
        service_key="iv_infusion",
        service_on=None,
        asked_on=date(2026, 12, 18),
    )
    assert estimate.lead_id == lead.id
    assert estimate.due_on == date(2026, 12, 23)
    assert estimate.token_hash != token
    assert service.estimate_by_token(db, actor=public, token=token).id == estimate.id
    with pytest.raises(NotFound):
        service.estimate_by_token(db, actor=public, token="not-" + token)
    with pytest.raises(Invalid):
        service.request_estimate(
            db, actor=public, name="X", email=None, service_key="nope", service_on=None
        )


def test_the_reports_add_revenue_by_service_and_month(
    db: Session, team: Desk, prices: PriceList
) -> None:
    first, second = male_patient(db), a_patient(db)
    for patient, day in ((first, date(2026, 2, 10)), (second, date(2026, 3, 5))):
        service.charge_service(
            db, actor=team.desk, patient_id=patient.id, service_id=prices.consultation.id, on=day
        )
    service.record_payment(
        db,
        actor=team.desk,
        patient_id=first.id,
        method="card",
        amount_cents=45_000,
        on=date(2026, 2, 10),
    )
    report = service.reports(db, actor=team.admin)
    assert [(r.month, r.service, r.charged_cents) for r in report.revenue] == [
        ("2026-02", "Psychiatric consultation", 45_000),
        ("2026-03", "Psychiatric consultation", 45_000),
    ]
    assert report.payments_by_month == {"2026-02": 45_000}
    assert [(o.patient_id, o.totals.balance_cents) for o in report.outstanding] == [
        (second.id, 45_000)
    ]
    assert db.scalar(select(Charge.id).where(Charge.patient_id == second.id)) is not None


def test_booking_a_self_pay_patient_opens_the_estimate_they_are_owed(db: Session) -> None:
    from tests.scheduling.factories import a_chair, a_course, a_team, book, booking, on_duty

    team = a_team(db)
    price_list(db, team.desk)
    chair = a_chair(db, team.desk, "Chair 1")
    for day in ("2030-03-18", "2030-03-20"):
        on_duty(db, team.desk, team.nurse, day, "08:00", "17:00")
    maria = a_patient(db)
    john = a_patient(db, given_name="John", family_name="Park", sex="male")
    for patient in (maria, john):
        a_course(db, patient.id)
    service.record_coverage(
        db,
        actor=team.desk,
        patient_id=john.id,
        payer_name="Aetna",
        payer_id="60054",
        member_id="W1",
    )
    # Booked on Friday 1 March 2030 (the factories' clock) for Monday 18 March: at least
    # 10 business days ahead, so the estimate is due within 3 business days: Wednesday 6.
    book(db, team.desk, booking(maria.id, "2030-03-18T09:00", chair, team.nurse))
    book(db, team.desk, booking(john.id, "2030-03-18T11:00", chair, team.nurse))
    due = service.estimates_due(db, actor=team.desk, on=date(2030, 3, 6))
    assert [(d.estimate.patient_id, d.estimate.due_on, d.late) for d in due] == [
        (maria.id, date(2030, 3, 6), False)
    ]
    assert due[0].estimate.service_on == date(2030, 3, 18)
    assert due[0].estimate.service_key == "iv_infusion"
    # The next infusion of the series is covered by the same estimate (12 months).
    book(db, team.desk, booking(maria.id, "2030-03-20T09:00", chair, team.nurse))
    assert len(service.estimates_due(db, actor=team.desk, on=date(2030, 3, 6))) == 1
    opened = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "billing.estimate_open")
    ).all()
    assert [(e.patient_id, e.actor) for e in opened] == [(maria.id, team.desk.username)]
