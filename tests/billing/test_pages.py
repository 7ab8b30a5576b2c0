"""The billing pages through the app: public prices and estimate request, the front
desk's account page, roles, PDFs and the claim file."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ketaclinic.billing import service
from tests.billing.factories import Desk, PriceList, at_day, given_session, people, price_list
from tests.conftest import committed, login, make_user
from tests.forms import marked, unmarked
from tests.sessions.factories import esketamine_order, iv_order, male_patient


def token_of(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


@pytest.fixture
def team(db: Session) -> Desk:
    return people(db)


@pytest.fixture
def prices(db: Session, team: Desk) -> PriceList:
    return price_list(db, team.desk)


def test_the_public_price_page_shows_prices_packages_and_a_typical_series(
    client: TestClient, prices: PriceList
) -> None:
    page = client.get("/prices")
    assert page.status_code == 200
    assert "IV ketamine infusion" in page.text and "$500.00" in page.text
    # A series of 6 at $500, beside the package of 6 for $2,700.
    assert "$3000.00" in page.text and "$2700.00" in page.text
    assert "/prices/estimate" in page.text


def test_a_person_asks_for_an_estimate_and_downloads_it_once_issued(
    client: TestClient, db: Session, team: Desk, prices: PriceList
) -> None:
    form = client.get("/prices/estimate")
    bad = client.post("/prices/estimate", data={"csrf_token": token_of(form.text), "name": ""})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    sent = client.post(
        "/prices/estimate",
        data={
            "csrf_token": token_of(form.text),
            "name": "Morgan Ellis",
            "email": "m@example.org",
            "service_key": "iv_infusion",
        },
    )
    assert sent.status_code == 200
    link = sent.text.split('id="estimate-link" href="', 1)[1].split('"', 1)[0]
    assert "preparing" in client.get(link).text
    assert client.get(link + "/pdf").status_code == 422
    (due,) = service.estimates_due(db, actor=team.desk)
    issue = committed(
        lambda d: service.issue_estimate(d, actor=team.desk, estimate_id=due.estimate.id)
    )
    issue(db)
    assert "Download your estimate" in client.get(link).text
    pdf = client.get(link + "/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert client.get("/prices/estimate/not-a-token").status_code == 404


@committed
def _patient_with_sessions(db: Session, team: Desk, prices: PriceList) -> int:
    patient = male_patient(db, address="12 Elm Street, Salem, MA 01970")
    order = iv_order(db, patient)
    given_session(db, patient, order, at_day(date(2026, 3, 10)))
    return int(patient.id)


def test_the_front_desk_charges_takes_payments_and_prints_receipts_and_superbills(
    client: TestClient, db: Session, team: Desk, prices: PriceList
) -> None:
    pid = _patient_with_sessions(db, team, prices)
    csrf = login(client, team.desk.username)
    page = client.get(f"/billing/patients/{pid}")
    assert page.status_code == 200 and "1 session given not yet charged" in page.text
    assert (
        client.post(
            f"/billing/patients/{pid}/charges", data={"csrf_token": csrf}, follow_redirects=False
        ).status_code
        == 303
    )
    wrong = client.post(
        f"/billing/patients/{pid}/payments",
        data={"csrf_token": csrf, "amount": "12.345", "method": "cash"},
    )
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.text
    assert service.totals_of(db, pid).paid_cents == 0  # nothing half-written
    done = client.post(
        f"/billing/patients/{pid}/payments",
        data={
            "csrf_token": csrf,
            "amount": "200",
            "method": "card",
            "reference": "T-9",
            "received_on": "2026-03-10",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = client.get(f"/billing/patients/{pid}")
    # The infusion's price on 10 March 2026 is 500 (475 until 1 March); 200 paid.
    assert '<strong id="balance">$300.00</strong>' in page.text
    receipt = page.text.split('href="/billing/payments/', 1)[1].split('"', 1)[0]
    assert client.get(f"/billing/payments/{receipt}").headers["content-type"] == "application/pdf"
    superbill = client.get(f"/billing/patients/{pid}/superbill")
    assert superbill.status_code == 200 and superbill.content.startswith(b"%PDF")
    assert client.get(f"/billing/patients/{pid}/superbill?start=soon").status_code == 422


def test_prescribers_read_researchers_do_not_and_a_patient_sees_only_their_own(
    client: TestClient, db: Session, team: Desk, prices: PriceList
) -> None:
    pid = _patient_with_sessions(db, team, prices)
    csrf = login(client, team.prescriber.username)
    assert client.get(f"/billing/patients/{pid}").status_code == 200
    refused = client.post(
        f"/billing/patients/{pid}/payments",
        data={"csrf_token": csrf, "amount": "1", "method": "cash"},
    )
    assert refused.status_code == 403
    client.cookies.clear()
    login(client, team.researcher.username)
    assert client.get(f"/billing/patients/{pid}").status_code == 403
    client.cookies.clear()
    other = male_patient(db, given_name="Ann", family_name="Other")
    make_user(db, "patient", username="pat.own", patient_id=pid)
    login(client, "pat.own")
    assert client.get("/portal/billing").status_code == 200
    assert client.get(f"/billing/patients/{pid}/superbill").status_code == 200
    assert client.get(f"/billing/patients/{other.id}/superbill").status_code == 404


def test_the_claim_file_for_a_spravato_session(
    client: TestClient, db: Session, team: Desk, prices: PriceList
) -> None:
    from ketaclinic.billing import claims

    @committed
    def setup(d: Session) -> int:
        patient = male_patient(d)
        order = esketamine_order(d, patient)
        given_session(d, patient, order, at_day(date(2026, 3, 10)))
        (charge,) = service.post_session_charges(d, actor=team.desk, patient_id=patient.id)
        service.record_coverage(
            d,
            actor=team.desk,
            patient_id=patient.id,
            payer_name="Harbor Health Plan",
            payer_id="HHP01",
            member_id="M1",
        )
        return int(charge.id)

    charge_id = setup(db)
    login(client, team.desk.username)
    text = client.get(f"/billing/claims/837p?charge_ids={charge_id}").text
    assert claims.validate(text)[0]
    form = client.get(f"/billing/claims/cms1500?charge_ids={charge_id}")
    assert form.status_code == 200 and "G2082" in form.text
    assert client.get("/billing/claims/837p?charge_ids=x").status_code == 422


def test_a_payment_of_a_bad_amount_marks_the_amount_and_keeps_method_and_reference(
    client: TestClient, db: Session, team: Desk, prices: PriceList
) -> None:
    pid = _patient_with_sessions(db, team, prices)
    csrf = login(client, team.desk.username)
    refused = client.post(
        f"/billing/patients/{pid}/payments",
        data={
            "csrf_token": csrf,
            "amount": "12.345",
            "method": "card",
            "reference": "T-9",
            "received_on": "2026-03-10",
        },
    )
    assert refused.status_code == 422
    amount = marked(refused.text, "amount")
    assert amount.value == "12.345" and amount.message
    assert unmarked(refused.text, "reference") and 'value="T-9"' in refused.text
    assert "<option selected>card</option>" in refused.text
    assert service.totals_of(db, pid).paid_cents == 0
    bad_day = client.post(
        f"/billing/patients/{pid}/payments",
        data={"csrf_token": csrf, "amount": "20", "method": "cash", "received_on": "10/03/2026"},
    )
    assert marked(bad_day.text, "received_on").value == "10/03/2026"
