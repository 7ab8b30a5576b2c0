"""Scoped bearer tokens on the FHIR interface: limited to FHIR reads, to writes, to one
patient; a scoped token opens nothing outside /fhir."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.errors import Invalid
from tests.conftest import TEST_ACTOR, committed
from tests.interop.fhir.conftest import Charted
from tests.interop.fhir.validate import validated


@committed
def _token(db: Session, username: str, **limits: object) -> str:
    user = accounts.get_user(db, username=username)
    return accounts.create_api_token(db, actor=TEST_ACTOR, user_id=user.id, name="app", **limits)  # type: ignore[arg-type]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_read_scoped_token_reads_fhir_and_nothing_else(
    client: TestClient, db: Session, charted: Charted
) -> None:
    token = _token(db, "fhir-prescriber", scopes=["fhir.read"])
    ok = client.get(f"/fhir/Encounter?patient={charted.patient_id}", headers=_bearer(token))
    assert ok.status_code == 200
    api = client.get(f"/api/patients/{charted.patient_id}", headers=_bearer(token))
    assert api.status_code == 403
    write = client.post(
        "/fhir/QuestionnaireResponse",
        headers={**_bearer(token), "Content-Type": "application/fhir+json"},
        content=b"{}",
    )
    assert write.status_code == 403
    assert "limited to fhir.read" in validated(write.json())["issue"][0]["diagnostics"]


def test_a_token_bound_to_one_patient_reaches_only_that_record(
    client: TestClient, db: Session, charted: Charted
) -> None:
    token = _token(db, "fhir-nurse", scopes=["fhir.read"], patient_id=charted.patient_id)
    own = client.get("/fhir/Observation", headers=_bearer(token))
    assert own.status_code == 200 and own.json()["total"] == 16
    other = client.get(f"/fhir/Patient/{charted.other_id}", headers=_bearer(token))
    assert other.status_code == 404
    listed = client.get("/fhir/Patient", headers=_bearer(token)).json()
    assert [e["resource"]["id"] for e in listed["entry"]] == [str(charted.patient_id)]
    elsewhere = client.get(f"/fhir/Encounter?patient={charted.other_id}", headers=_bearer(token))
    assert elsewhere.json()["total"] == 0


def test_an_export_scoped_token_cannot_read_resources(
    client: TestClient, db: Session, charted: Charted
) -> None:
    token = _token(db, "fhir-prescriber", scopes=["fhir.export"])
    refused = client.get(f"/fhir/Patient/{charted.patient_id}", headers=_bearer(token))
    assert refused.status_code == 403


def test_the_token_still_needs_its_users_role(
    client: TestClient, db: Session, charted: Charted
) -> None:
    token = _token(db, "fhir-researcher", scopes=["fhir.read"])
    refused = client.get(f"/fhir/Observation?patient={charted.patient_id}", headers=_bearer(token))
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "limits",
    [{"scopes": ["everything"]}, {"scopes": []}, {"patient_id": 1}],
)
def test_a_token_is_scoped_only_in_known_ways(
    db: Session, charted: Charted, limits: dict[str, object]
) -> None:
    with pytest.raises(Invalid):
        _token(db, "fhir-prescriber", **limits)
