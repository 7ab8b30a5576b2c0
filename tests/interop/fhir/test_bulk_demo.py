"""System ``$export`` on the grown demo clinic: the manifest lists every exported type
with as many resources as the domain holds rows for it (counted here straight from the
tables, not through the exporter's own reads), and every NDJSON line is valid R4."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.candidacy.models import Intake
from ketaclinic.clinical import instruments
from ketaclinic.interop.fhir import reads
from ketaclinic.orders.models import Course
from ketaclinic.outcomes.models import OutcomeObservation, QuestionnaireResponse
from ketaclinic.patients.models import BodyMeasurement, Patient
from ketaclinic.sessions.models import InfusionSession, SessionEvent, VitalSign
from tests import demo_clinic
from tests.conftest import BACKENDS
from tests.interop.fhir.test_bulk import _bearer, _export
from tests.interop.fhir.validate import validated


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A copy of the demo clinic built once per run (as the tests under tests/demo)."""
    return demo_clinic.copy(request, request.param, tmp_path)


def _count(db: Session, query: Any) -> int:
    return int(db.scalar(query) or 0)


def _known(instrument_id: str, item_id: str) -> bool:
    try:
        instruments.get(instrument_id).item(item_id)
    except ValueError:
        return False
    return True


def _domain_counts(db: Session) -> dict[str, int]:
    """What the clinic holds, by the FHIR type each row becomes."""
    latest: dict[int, Intake] = {}
    for intake in db.scalars(select(Intake).order_by(Intake.id)):
        latest[intake.patient_id] = intake
    events = list(
        db.scalars(select(SessionEvent).where(SessionEvent.entered_in_error_at.is_(None)))
    )
    routes = dict(db.execute(select(InfusionSession.id, InfusionSession.route)).all())
    iv_started = {
        e.session_id for e in events if e.kind == "start" and routes[e.session_id] == "iv"
    }
    devices = [e for e in events if e.kind == "device" and routes[e.session_id] != "iv"]
    body = list(
        db.scalars(select(BodyMeasurement).where(BodyMeasurement.entered_in_error_at.is_(None)))
    )
    readings = list(db.scalars(select(VitalSign).where(VitalSign.entered_in_error_at.is_(None))))
    vital_signs = sum((m.weight_kg is not None) + (m.height_cm is not None) for m in body) + sum(
        (v.systolic_bp is not None or v.diastolic_bp is not None)
        + sum(x is not None for x in (v.heart_rate, v.spo2, v.respiratory_rate))
        for v in readings
    )
    responses = list(
        db.scalars(select(QuestionnaireResponse).where(QuestionnaireResponse.status == "final"))
    )
    scored = {
        o.response_id: o
        for o in db.scalars(select(OutcomeObservation))
        if (o.kind == "total" and o.value is not None) or (o.kind == "risk" and o.value_text)
    }
    surveys = sum(
        (r.id in scored) + sum(_known(r.instrument_id, a.item_id) for a in r.items)
        for r in responses
    )
    return {
        "Patient": _count(db, select(func.count(Patient.id))),
        "Observation": vital_signs + surveys,
        "QuestionnaireResponse": len(responses),
        "Condition": _count(db, select(func.count(Course.id))),
        "MedicationStatement": sum(len(i.medications or []) for i in latest.values()),
        "MedicationAdministration": len(iv_started) + len(devices),
        "Encounter": _count(db, select(func.count(InfusionSession.id))),
        "AllergyIntolerance": sum(len(i.allergies or []) for i in latest.values()),
    }


def test_a_system_export_of_the_demo_clinic_holds_every_row_as_valid_r4(
    client: TestClient, app: FastAPI, db: Session
) -> None:
    expected = _domain_counts(db)
    db.rollback()
    assert expected["Patient"] > 0 and expected["Observation"] > 0  # a grown clinic
    headers = _bearer(db, "prescriber", "bulk-demo")
    _, manifest = _export(client, app, headers)
    listed = {o["type"]: o["count"] for o in manifest["output"]}
    assert set(reads.KINDS) == set(expected)  # every type the server exports is counted
    assert listed == {t: n for t, n in expected.items() if n}, (listed, expected)
    for output in manifest["output"]:
        got = client.get(output["url"].split("testserver", 1)[1], headers=headers)
        assert got.status_code == 200
        lines = got.text.splitlines()
        assert len(lines) == output["count"]
        for line in lines:
            resource = validated(json.loads(line))
            assert resource["resourceType"] == output["type"]
