"""The ledger's pages and logs through the real forms: roles, errors at the field, the
witness's own password, discrepancies, and the CSV and PDF an inspector reads."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.controlled import service
from ketaclinic.controlled.models import LedgerEntry
from ketaclinic.platform.clock import clinic_today
from tests.conftest import PASSWORD, login, make_user
from tests.controlled.factories import SUPPLIER_DEA, Ledger, ledger, received


@pytest.fixture
def setup(db: Session) -> Ledger:
    return ledger(db)


def _today() -> str:
    return clinic_today().isoformat()


@pytest.mark.parametrize("role", ["front_desk", "researcher"])
def test_front_desk_and_researchers_see_nothing_of_the_ledger(
    client: TestClient, db: Session, setup: Ledger, role: str
) -> None:
    make_user(db, role)
    login(client, role.replace("_", ""))
    location = setup.location.id
    for path in (
        "/controlled",
        "/controlled/receive",
        "/controlled/logs",
        f"/controlled/logs.csv?location_id={location}&start={_today()}",
        f"/controlled/logs.pdf?location_id={location}&start={_today()}",
        "/api/controlled/stock",
    ):
        assert client.get(path).status_code == 403, path
    assert "Controlled substances" not in client.get("/").text


def test_a_clinic_without_a_ledger_is_told_so(client: TestClient, db: Session) -> None:
    make_user(db, "nurse")
    login(client, "nurse")
    page = client.get("/controlled")
    assert page.status_code == 200 and "No ledger configured" in page.text


def test_a_nurse_receives_a_lot_and_a_wrong_dea_number_is_shown_at_its_field(
    client: TestClient, setup: Ledger
) -> None:
    csrf = login(client, setup.nurse.username)
    fields = {
        "csrf_token": csrf,
        "location_id": str(setup.location.id),
        "product_id": str(setup.vials.id),
        "received_on": _today(),
        "supplier": "Henry Schein",
        "supplier_dea_number": "PM7654320",
        "reference": "INV-1",
        "lot_number": "K1",
        "expires_on": "2028-01-31",
        "quantity": "12",
    }
    bad = client.post("/controlled/receive", data=fields)
    assert bad.status_code == 422
    assert 'id="f-supplier_dea_number"' in bad.text and 'aria-invalid="true"' in bad.text
    assert 'value="K1"' in bad.text  # what was typed stays
    good = client.post(
        "/controlled/receive",
        data={**fields, "supplier_dea_number": SUPPLIER_DEA},
        follow_redirects=False,
    )
    assert good.status_code == 303
    home = client.get("/controlled")
    assert 'data-lot="K1">12 vials' in home.text


def test_the_waste_form_needs_the_witnesss_own_password(
    client: TestClient, db: Session, setup: Ledger
) -> None:
    lot_id = received(db, setup, quantity=3).lot_id
    csrf = login(client, setup.nurse.username)
    fields = {
        "csrf_token": csrf,
        "lot_id": str(lot_id),
        "quantity": "1",
        "reason": "vial cracked",
        "witness_username": "witness-nurse",
        "witness_password": "not-the-password",
    }
    refused = client.post("/controlled/waste", data=fields)
    assert refused.status_code == 422
    assert 'id="e-witness_password"' in refused.text and "not-the-password" not in refused.text
    same = client.post(
        "/controlled/waste",
        data={**fields, "witness_username": setup.nurse.username, "witness_password": PASSWORD},
    )
    assert same.status_code == 422 and "cannot witness your own act" in same.text
    db.expire_all()
    assert (
        db.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "waste"))
        == 0
    )
    done = client.post(
        "/controlled/waste", data={**fields, "witness_password": PASSWORD}, follow_redirects=False
    )
    assert done.status_code == 303
    home = client.get("/controlled")
    assert "Witness-Nurse" in home.text and 'data-lot="K2401">2 vials' in home.text


def test_the_waste_form_offers_as_many_witnesses_as_the_clinic_asks(
    client: TestClient, db: Session, setup: Ledger
) -> None:
    from ketaclinic.configuration import service as configuration
    from ketaclinic.platform.accounts import service as accounts

    lot_id = received(db, setup, quantity=3).lot_id
    make_user(db, "nurse", username="third-nurse")
    configuration.override(
        db,
        actor=accounts.actor_for(make_user(db, ["prescriber", "admin"], username="director")),
        table_key="controlled.rules",
        target="waste_witnesses",
        field="value",
        value="2",
        reason="state board asks two witnesses for a waste",
    )
    db.commit()
    csrf = login(client, setup.nurse.username)
    assert 'name="witness_2_username"' in client.get("/controlled/waste").text
    fields = {
        "csrf_token": csrf,
        "lot_id": str(lot_id),
        "quantity": "1",
        "reason": "vial cracked",
        "witness_username": "witness-nurse",
        "witness_password": PASSWORD,
    }
    one = client.post("/controlled/waste", data=fields)
    assert one.status_code == 422 and 'id="e-witness_2_username"' in one.text
    both = {**fields, "witness_2_username": "third-nurse", "witness_2_password": PASSWORD}
    assert client.post("/controlled/waste", data=both, follow_redirects=False).status_code == 303


def test_a_count_difference_stays_on_the_home_page_until_a_prescriber_resolves_it(
    client: TestClient, db: Session, setup: Ledger
) -> None:
    lot_id = received(db, setup, quantity=5).lot_id
    csrf = login(client, setup.nurse.username)
    counted = client.post(
        "/controlled/count",
        data={"csrf_token": csrf, "lot_id": str(lot_id), "found": "4", "occasion": "end_of_day"},
        follow_redirects=False,
    )
    assert counted.status_code == 303
    home = client.get("/controlled")
    assert "-1 vial" in home.text and "a prescriber or an administrator resolves it" in home.text
    ((discrepancy, _),) = service.open_discrepancies(db, actor=setup.nurse)
    path = f"/controlled/discrepancies/{discrepancy.id}/resolve"
    assert client.post(path, data={"csrf_token": csrf, "reason": "found it"}).status_code == 403
    client.post("/logout", data={"csrf_token": csrf})
    csrf = login(client, setup.prescriber.username)
    short = client.post(path, data={"csrf_token": csrf, "reason": "no"})
    assert short.status_code == 422 and 'aria-invalid="true"' in short.text
    done = client.post(
        path,
        data={"csrf_token": csrf, "reason": "vial broken at noon, not logged"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "None open." in client.get("/controlled").text


def test_the_csv_and_pdf_logs_list_every_entry_of_the_range(
    client: TestClient, db: Session, setup: Ledger
) -> None:
    first = received(db, setup, quantity=5)
    second = received(db, setup, lot_number="K2402", quantity=7)
    login(client, setup.nurse.username)
    query = f"location_id={setup.location.id}&kind=receipt&start={_today()}&end={_today()}"
    sheet = client.get(f"/controlled/logs.csv?{query}")
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(sheet.text)))
    assert [(r["Entry"], r["Lot"], r["Change"], r["Supplier"]) for r in rows] == [
        (str(first.id), "K2401", "5", f"Henry Schein DEA {SUPPLIER_DEA}"),
        (str(second.id), "K2402", "7", f"Henry Schein DEA {SUPPLIER_DEA}"),
    ]
    assert {r["DEA registration"] for r in rows} == {setup.location.dea_number}
    pdf = client.get(f"/controlled/logs.pdf?{query}")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Receipt log" in text and setup.location.dea_number in text
    # A narrow cell may wrap a long value: read it without the line breaks.
    compact = "".join(text.split())
    for entry in (first, second):
        assert f"{entry.id}Received" in compact
    assert "K2401" in compact and "K2402" in compact and "INV-88121" in compact
    assert "+5vials" in compact or "5vials" in compact
    page = client.get(f"/controlled/logs?{query}")
    assert page.status_code == 200 and "2 entries" in page.text
    wrong = client.get(
        f"/controlled/logs?location_id={setup.location.id}&start=2026-05-02&end=2026-05-01"
    )
    assert wrong.status_code == 422 and "ends before it starts" in wrong.text


def test_the_api_log_of_a_location_is_todays_unless_days_are_given(
    client: TestClient, db: Session, setup: Ledger
) -> None:
    entry = received(db, setup, quantity=3)
    login(client, setup.nurse.username)
    base = f"/api/controlled/locations/{setup.location.id}/logs"
    today = client.get(f"{base}/receipt")
    assert today.status_code == 200
    assert [(e["id"], e["units_milli"]) for e in today.json()] == [(entry.id, 3000)]
    assert client.get(f"{base}/receipt?start=2026-05-01&end=2026-05-02").json() == []
    assert client.get(f"{base}/shredded").status_code == 404
    assert client.get("/api/controlled/locations/987654/logs/receipt").status_code == 404


def test_the_api_refuses_bad_input_as_problems_and_wrong_roles(
    client: TestClient, db: Session, setup: Ledger
) -> None:
    lot_id = received(db, setup, quantity=1).lot_id
    csrf = {"X-CSRF-Token": login(client, setup.nurse.username)}
    stock = client.get("/api/controlled/stock").json()
    assert stock == [
        {
            "lot_id": lot_id,
            "location": "MAIN",
            "product": "KET-10-5",
            "lot_number": "K2401",
            "expires_on": "2028-06-30",
            "balance": 1.0,
            "unit": "vial",
        }
    ]
    too_many = client.post(
        "/api/controlled/waste",
        json={
            "reason": "broken",
            "lot_id": lot_id,
            "quantity": 2,
            "witness": {"username": "witness-nurse", "password": PASSWORD},
        },
        headers=csrf,
    )
    assert too_many.status_code == 409
    assert too_many.headers["content-type"].startswith("application/problem+json")
    refused = client.post(
        "/api/controlled/destructions",
        json={"lot_id": lot_id, "quantity": 1, "method": "x", "reason": "y", "witnesses": []},
        headers=csrf,
    )
    assert refused.status_code == 403
    location = {"code": "X", "name": "X", "dea_number": "AB1234563"}
    assert client.post("/api/controlled/locations", json=location, headers=csrf).status_code == 403


def test_a_prescriber_records_a_destruction_with_two_witnesses_signing_in(
    client: TestClient, db: Session, setup: Ledger
) -> None:
    lot_id = received(db, setup, quantity=4).lot_id
    make_user(db, "nurse", username="third-nurse")
    csrf = login(client, setup.nurse.username)
    assert "Destruction (DEA Form 41)" not in client.get("/controlled/leaving").text
    fields = {
        "csrf_token": csrf,
        "lot_id": str(lot_id),
        "quantity": "2",
        "method": "chemical digestion kit",
        "reason": "expired",
        "witness_1": "witness-nurse",
        "witness_1_password": PASSWORD,
        "witness_2": "third-nurse",
        "witness_2_password": PASSWORD,
    }
    assert client.post("/controlled/destroy", data=fields).status_code == 403
    client.post("/logout", data={"csrf_token": csrf})
    csrf = login(client, setup.prescriber.username)
    fields["csrf_token"] = csrf
    wrong = client.post("/controlled/destroy", data={**fields, "witness_2_password": "nope"})
    assert wrong.status_code == 422 and 'id="e-witness_2_password"' in wrong.text
    done = client.post("/controlled/destroy", data=fields, follow_redirects=False)
    assert done.status_code == 303
    db.expire_all()
    entry = db.scalar(select(LedgerEntry).where(LedgerEntry.kind == "destroy"))
    assert entry is not None and [w["username"] for w in entry.witnesses] == [
        "witness-nurse",
        "third-nurse",
    ]


def test_a_prescriber_reports_a_theft_and_records_the_notice(
    client: TestClient, db: Session, setup: Ledger
) -> None:
    lot_id = received(db, setup, quantity=10).lot_id
    csrf = login(client, setup.nurse.username)
    assert client.get("/controlled/loss").status_code == 403
    client.post("/logout", data={"csrf_token": csrf})
    csrf = login(client, setup.prescriber.username)
    fields = {
        "csrf_token": csrf,
        "location_id": str(setup.location.id),
        "kind": "theft",
        "discovered_on": "2026-11-27",
        "lot_id": str(lot_id),
        "quantity": "3",
        "circumstances": "safe found open at opening",
    }
    too_many = client.post("/controlled/loss", data={**fields, "quantity": "30"})
    assert too_many.status_code == 422 and "never goes below zero" in too_many.text
    done = client.post("/controlled/loss", data=fields, follow_redirects=False)
    assert done.status_code == 303
    page = client.get("/controlled/loss")
    # Discovered on a Friday: the notice is due on the Monday.
    assert "2026-11-30" in page.text and "Record the notice" in page.text
    report = service.loss_reports(db, actor=setup.prescriber)[0]
    noted = client.post(
        f"/controlled/loss/{report.id}/notice",
        data={"csrf_token": csrf, "reference": "faxed to the Field Division"},
        follow_redirects=False,
    )
    assert noted.status_code == 303
    assert "faxed to the Field Division" in client.get("/controlled/loss").text


def test_the_guided_inventory_counts_every_lot_and_shows_the_signed_record(
    client: TestClient, db: Session, setup: Ledger
) -> None:
    first = received(db, setup, quantity=10).lot_id
    second = received(db, setup, lot_number="E9", quantity=4, product=setup.devices).lot_id
    csrf = login(client, setup.nurse.username)
    fields = {
        "csrf_token": csrf,
        "location_id": str(setup.location.id),
        "kind": "initial",
        "business_hours": "opening",
        f"found-{first}": "10",
        "password": PASSWORD,
    }
    missing = client.post("/controlled/inventory", data=fields)
    assert missing.status_code == 422 and "count every lot of the location: E9" in missing.text
    wrong = client.post(
        "/controlled/inventory", data={**fields, f"found-{second}": "4", "password": "nope"}
    )
    assert wrong.status_code == 422 and 'id="e-password"' in wrong.text
    done = client.post(
        "/controlled/inventory",
        data={**fields, f"found-{second}": "4", f"estimated-{first}": "on"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = client.get("/controlled/inventory")
    assert "Initial inventory of controlled substances (21 CFR 1304.11)" in page.text
    assert "10 vials (estimated, opened container)" in page.text
    assert "took and attests this initial inventory" in page.text
