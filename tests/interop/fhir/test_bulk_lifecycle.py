"""A bulk export's life after the kick-off: ``_since`` keeps what changed after the
instant (``meta.lastUpdated``), files expire after the clinic's retention (Expires
header, then 410 Gone and deleted by the job), a failing export is tried the clinic's
number of times and then answers 500 with an OperationOutcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ketaclinic.configuration import service as configuration
from ketaclinic.interop.fhir import bulk
from ketaclinic.interop.models import FhirExport, FhirExportFile
from ketaclinic.platform import jobs
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.roles import Role
from ketaclinic.sessions.models import VitalSign
from tests.interop.fhir.conftest import Charted
from tests.interop.fhir.test_bulk import ASYNC, _export, _run_jobs
from tests.interop.fhir.validate import validated

DIRECTOR = Actor(
    user_id=None, username="dr.director", roles=frozenset({Role.prescriber, Role.admin})
)


def _counts(manifest: dict[str, Any]) -> dict[str, int]:
    return {o["type"]: o["count"] for o in manifest["output"]}


def test_since_keeps_what_changed_after_the_instant(
    client: TestClient, app: FastAPI, db: Session, charted: Charted
) -> None:
    # The session's readings were charted in March; all else of the record today.
    db.execute(update(VitalSign).values(recorded_at=datetime(2026, 3, 10, 14, 5, tzinfo=UTC)))
    db.commit()
    headers = charted.headers("prescriber")
    _, everything = _export(client, app, headers, "/fhir/Patient/$export")
    assert _counts(everything)["Observation"] == 16
    _, since_june = _export(
        client, app, headers, "/fhir/Patient/$export?_since=2026-06-01T00:00:00Z"
    )
    # 4 session vital signs (BP, pulse, SpO2, respiration) left out; weight, height and
    # the PHQ-9 (its total and 9 items) stay.
    assert _counts(since_june)["Observation"] == 12
    assert _counts(since_june)["Patient"] == 2
    later = (utcnow() + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _, nothing = _export(client, app, headers, f"/fhir/Patient/$export?_since={later}")
    assert nothing["output"] == []
    for bad in ("2026-06-01", "2026-06-01T00:00:00", "yesterday"):
        refused = client.get(f"/fhir/$export?_since={bad}", headers={**headers, **ASYNC})
        assert refused.status_code == 400, bad
        assert "_since" in validated(refused.json())["issue"][0]["diagnostics"]


def test_files_expire_after_the_clinics_retention_and_the_job_deletes_them(
    client: TestClient, app: FastAPI, db: Session, charted: Charted
) -> None:
    configuration.override(
        db,
        actor=DIRECTOR,
        table_key="records.bulk_export",
        target="fhir_bulk_export",
        field="files_kept_hours",
        value="2",
        reason="our researchers fetch within the hour",
    )
    db.commit()
    headers = charted.headers("prescriber")
    status_path, manifest = _export(client, app, headers, "/fhir/Patient/$export")
    polled = client.get(status_path, headers=headers)
    expires = parsedate_to_datetime(polled.headers["expires"])
    row = db.scalar(select(FhirExport).order_by(FhirExport.id.desc()))
    assert row is not None and row.completed_at is not None
    assert abs((expires - row.completed_at).total_seconds() - 2 * 3600) <= 1
    url = manifest["output"][0]["url"].split("testserver", 1)[1]
    assert client.get(url, headers=headers).headers["expires"] == polled.headers["expires"]
    # Two hours later: gone, even before the job has deleted the files.
    row.completed_at -= timedelta(hours=2, seconds=1)
    row.expires_at = row.completed_at + timedelta(hours=2)
    db.commit()
    for path in (status_path, url):
        gone = client.get(path, headers=headers)
        assert gone.status_code == 410, gone.text
        assert validated(gone.json())["issue"][0]["code"] == "expired"
    jobs.perform(jobs.get("interop.fhir_exports_expire"), app.state.session_factory, owner="t")
    db.expire_all()
    assert db.scalar(select(func.count(FhirExportFile.id))) == 0
    assert db.get(FhirExport, row.id).status == "expired"  # type: ignore[union-attr]
    assert client.get(status_path, headers=headers).status_code == 410


def test_a_failing_export_is_tried_three_times_then_polling_says_it_failed(
    client: TestClient,
    app: FastAPI,
    charted: Charted,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: Any) -> list[int]:
        raise RuntimeError("the disk is full under Lopez")

    monkeypatch.setattr(bulk, "_patient_ids", broken)
    headers = charted.headers("prescriber")
    kicked = client.get("/fhir/Patient/$export", headers={**headers, **ASYNC})
    status_path = kicked.headers["content-location"].split("testserver", 1)[1]
    for _ in range(2):
        _run_jobs(app)
        assert client.get(status_path, headers=headers).status_code == 202  # tried again
    _run_jobs(app)
    failed = client.get(status_path, headers=headers)
    assert failed.status_code == 500, failed.text
    outcome = validated(failed.json())
    said = outcome["issue"][0]["diagnostics"]
    assert "failed 3 times (RuntimeError)" in said
    assert "Lopez" not in said  # the kind of error, never what it said
    _run_jobs(app)  # no fourth try
    assert client.get(status_path, headers=headers).status_code == 500
