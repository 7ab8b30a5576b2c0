"""FHIR Bulk Data $export: kick-off (202 + Content-Location), polling, the NDJSON
manifest and files for the same client only, deletion; an empty clinic, an empty
group, one patient; a researcher's export de-identified (Safe Harbor)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ketaclinic.platform import jobs
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.roles import Role
from tests.conftest import TEST_ACTOR, committed, make_user
from tests.interop.fhir.conftest import Charted
from tests.interop.fhir.validate import validated

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


def _run_jobs(app: FastAPI) -> None:
    jobs.perform(jobs.get("interop.fhir_exports"), app.state.session_factory, owner="test")


def _export(
    client: TestClient, app: FastAPI, headers: dict[str, str], path: str = "/fhir/$export"
) -> tuple[str, dict[str, Any]]:
    kicked = client.get(path, headers={**headers, **ASYNC})
    assert kicked.status_code == 202, kicked.text
    where = kicked.headers["content-location"]
    status_path = where.split("testserver", 1)[1]
    polled = client.get(status_path, headers=headers)
    assert polled.status_code == 202 and polled.headers["x-progress"]
    _run_jobs(app)
    done = client.get(status_path, headers=headers)
    assert done.status_code == 200, done.text
    assert done.headers["content-type"].startswith("application/json")
    return status_path, done.json()


def _lines(client: TestClient, headers: dict[str, str], url: str) -> list[dict[str, Any]]:
    got = client.get(url.split("testserver", 1)[1], headers=headers)
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("application/fhir+ndjson")
    return [validated(json.loads(line)) for line in got.text.splitlines()]


@committed
def _bearer(db: Session, role: str, username: str) -> dict[str, str]:
    user = make_user(db, role, username=username)
    token = accounts.create_api_token(db, actor=TEST_ACTOR, user_id=user.id, name="bulk")
    return {"Authorization": f"Bearer {token}"}


def test_an_empty_clinic_exports_an_empty_manifest(
    client: TestClient, app: FastAPI, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    headers = _bearer(db, "prescriber", "bulk-dr")
    with caplog.at_level(logging.WARNING, logger="ketaclinic.unit_of_work"):
        _, manifest = _export(client, app, headers)
    # The kick-off is a GET that starts a job by the standard's design, not a stray write.
    assert "wrote during a read" not in caplog.text
    assert manifest["output"] == [] and manifest["error"] == []
    assert manifest["requiresAccessToken"] is True


def test_one_patient_is_exported_per_type_and_the_files_are_the_clients_only(
    client: TestClient, app: FastAPI, db: Session, charted: Charted
) -> None:
    headers = charted.headers("prescriber")
    status_path, manifest = _export(client, app, headers, "/fhir/Patient/$export")
    counts = {o["type"]: o["count"] for o in manifest["output"]}
    assert counts == {
        "Patient": 2,
        "Observation": 16,
        "QuestionnaireResponse": 1,
        "Condition": 1,
        "MedicationStatement": 2,
        "MedicationAdministration": 1,
        "Encounter": 1,
        "AllergyIntolerance": 1,
    }
    observations = next(o["url"] for o in manifest["output"] if o["type"] == "Observation")
    assert len(_lines(client, headers, observations)) == 16
    other = charted.headers("nurse")  # another client, even with a right role
    assert client.get(status_path, headers=other).status_code == 404
    assert client.get(observations.split("testserver", 1)[1], headers=other).status_code == 404
    assert client.delete(status_path, headers=other).status_code == 404
    assert client.delete(status_path, headers=headers).status_code == 202
    assert client.get(status_path, headers=headers).status_code == 404


def test_a_group_export_and_an_empty_group(
    client: TestClient, app: FastAPI, db: Session, charted: Charted
) -> None:
    headers = charted.headers("nurse")
    _, manifest = _export(client, app, headers, "/fhir/Group/active-course/$export?_type=Patient")
    (patients,) = manifest["output"]
    assert patients["count"] == 1  # the one patient with a course; not the other
    from ketaclinic.orders.models import Course

    course = db.get(Course, charted.course_id)
    assert course is not None
    course.status = "completed"
    db.commit()
    _, empty = _export(client, app, headers, "/fhir/Group/active-course/$export")
    assert empty["output"] == []
    unknown = client.get("/fhir/Group/nobody/$export", headers={**headers, **ASYNC})
    assert unknown.status_code == 404
    assert validated(unknown.json())["resourceType"] == "OperationOutcome"


def test_a_researchers_export_is_de_identified(
    client: TestClient, app: FastAPI, db: Session, charted: Charted
) -> None:
    from ketaclinic.patients.models import Patient

    oldest = db.get(Patient, charted.other_id)
    assert oldest is not None
    oldest.date_of_birth = oldest.date_of_birth.replace(year=1920)  # over 89
    db.commit()
    headers = charted.headers("researcher")
    _, manifest = _export(client, app, headers)
    files = {o["type"]: _lines(client, headers, o["url"]) for o in manifest["output"]}
    text = json.dumps(files)
    for identifying in (charted.mrn, "Lopez", "Mario", "Berg", "Tina", "urn:ketaclinic:mrn"):
        assert identifying not in text
    people = files["Patient"]
    assert all("name" not in p and "identifier" not in p and "telecom" not in p for p in people)
    assert sorted(len(p.get("birthDate", "")) for p in people) == [0, 4]  # 90+: no year
    grouped = [p for p in people if "birthDate" not in p]
    assert grouped[0]["extension"][0]["valueString"] == "90 or older"
    # Dates move together: the infusion still starts a minute after the first reading.
    (given,) = files["MedicationAdministration"]
    (visit,) = files["Encounter"]
    from datetime import datetime

    start = datetime.fromisoformat(given["effectivePeriod"]["start"])
    began = datetime.fromisoformat(visit["period"]["start"])
    assert (start - began).total_seconds() == 60
    assert abs((began - datetime.fromisoformat("2026-03-10T14:00:00+00:00")).days) <= 182
    subject = given["subject"]["reference"].split("/")[1]
    assert subject in {p["id"] for p in people}
    assert str(charted.patient_id) != subject


def test_only_exporting_roles_and_scopes(client: TestClient, charted: Charted) -> None:
    for role in ("front_desk", "portal", "admin"):
        refused = client.get("/fhir/$export", headers={**charted.headers(role), **ASYNC})
        assert refused.status_code == 403, role
    bad = client.get("/fhir/$export?_type=Basic", headers={**charted.headers("nurse"), **ASYNC})
    assert bad.status_code == 400
    assert Role.researcher.value == "researcher"
