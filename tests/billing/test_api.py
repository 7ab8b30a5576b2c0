"""The billing JSON API: integer cents in and out, problem+json refusals, roles."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ketaclinic.billing import claims, service
from tests.billing.factories import Desk, PriceList, at_day, given_session, people, price_list
from tests.conftest import committed, login
from tests.sessions.factories import esketamine_order, male_patient


@pytest.fixture
def team(db: Session) -> Desk:
    return people(db)


@pytest.fixture
def prices(db: Session, team: Desk) -> PriceList:
    return price_list(db, team.desk)


def test_a_payment_in_cents_and_the_balance(
    client: TestClient, db: Session, team: Desk, prices: PriceList
) -> None:
    patient = male_patient(db)
    committed(
        lambda d: service.charge_service(
            d,
            actor=team.desk,
            patient_id=patient.id,
            service_id=prices.consultation.id,
            on=date(2026, 3, 1),
        )
    )(db)
    csrf = login(client, team.desk.username)
    headers = {"X-CSRF-Token": csrf}
    url = f"/api/billing/patients/{patient.id}/payments"
    floaty = client.post(
        url,
        json={"method": "cash", "amount_cents": 100.5, "received_on": "2026-03-01"},
        headers=headers,
    )
    assert floaty.status_code == 422
    assert floaty.headers["content-type"].startswith("application/problem+json")
    made = client.post(
        url,
        json={"method": "card", "amount_cents": 20_000, "received_on": "2026-03-01"},
        headers=headers,
    )
    assert made.status_code == 201 and made.json()["amount_cents"] == 20_000
    balance = client.get(f"/api/billing/patients/{patient.id}/balance").json()
    assert balance == {
        "patient_id": patient.id,
        "charged_cents": 45_000,
        "paid_cents": 20_000,
        "adjusted_cents": 0,
        "balance_cents": 25_000,
    }
    prices_out = client.get("/api/billing/prices").json()
    assert {p["key"]: p["price_cents"] for p in prices_out}["consultation"] == 45_000


def test_the_api_makes_an_837p_and_refuses_a_prescriber(
    client: TestClient, db: Session, team: Desk, prices: PriceList
) -> None:
    @committed
    def setup(d: Session) -> int:
        patient = male_patient(d)
        order = esketamine_order(d, patient, dose_mg=84.0)
        given_session(d, patient, order, at_day(date(2026, 3, 10)))
        (charge,) = service.post_session_charges(d, actor=team.desk, patient_id=patient.id)
        service.record_coverage(
            d,
            actor=team.desk,
            patient_id=patient.id,
            payer_name="Payer",
            payer_id="P1",
            member_id="M1",
        )
        return int(charge.id)

    charge_id = setup(db)
    csrf = login(client, team.desk.username)
    text = client.post(
        "/api/billing/claims/837p", json={"charge_ids": [charge_id]}, headers={"X-CSRF-Token": csrf}
    ).text
    assert "SV1*HC:G2083" in text and "J0013" not in text
    assert claims.validate(text)[0]
    client.cookies.clear()
    csrf = login(client, team.prescriber.username)
    refused = client.post(
        "/api/billing/claims/837p", json={"charge_ids": [charge_id]}, headers={"X-CSRF-Token": csrf}
    )
    assert refused.status_code == 403
    assert client.get("/api/billing/estimates/due").status_code == 403


def test_the_chart_shows_a_prescriber_the_balance_and_a_nurse_nothing(
    client: TestClient, db: Session, team: Desk, prices: PriceList
) -> None:
    patient = male_patient(db)
    committed(
        lambda d: service.charge_service(
            d,
            actor=team.desk,
            patient_id=patient.id,
            service_id=prices.consultation.id,
            on=date(2026, 3, 1),
        )
    )(db)
    login(client, team.prescriber.username)
    chart = client.get(f"/patients/{patient.id}")
    assert chart.status_code == 200 and '<strong id="balance">$450.00</strong>' in chart.text
    client.cookies.clear()
    login(client, team.nurse.username)
    chart = client.get(f"/patients/{patient.id}")
    assert chart.status_code == 200 and 'id="balance"' not in chart.text
