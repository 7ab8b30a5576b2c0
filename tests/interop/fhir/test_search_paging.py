"""A search for one patient's Observations, QuestionnaireResponses or Encounters pages
in SQL: following the next links gives exactly the unpaged result, and a page of a long
record loads only its own rows, in no more statements at its end than at its start."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from ketaclinic.interop.fhir import reads
from ketaclinic.sessions.models import VitalSign
from tests.interop.fhir.conftest import Charted, get
from tests.sessions.factories import T0


def _pages(client: TestClient, charted: Charted, path: str) -> Iterator[dict[str, Any]]:
    while path:
        bundle = get(client, path, charted).json()
        yield bundle
        following = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        path = following[0].split("testserver", 1)[1] if following else ""


def test_following_the_pages_gives_the_unpaged_search_exactly(
    client: TestClient, db: Session, charted: Charted
) -> None:
    for kind in reads.PAGERS:
        whole = [r["id"] for r in reads.KINDS[kind].build(db, [charted.patient_id])]
        db.rollback()
        for count in (1, 3, 7):
            pages = list(
                _pages(client, charted, f"/fhir/{kind}?patient={charted.patient_id}&_count={count}")
            )
            ids = [e["resource"]["id"] for p in pages for e in p["entry"]]
            assert ids == whole, (kind, count)
            assert all(p["total"] == len(whole) for p in pages)
            assert all(len(p["entry"]) <= count for p in pages)
    # Past the end: an empty page with the total.
    beyond = get(client, f"/fhir/Observation?patient={charted.patient_id}&_offset=900", charted)
    assert beyond.json()["entry"] == [] and beyond.json()["total"] == 16


@contextmanager
def _counting(app: FastAPI) -> Iterator[dict[str, int]]:
    seen = {"statements": 0, "readings": 0}

    def statement(*_: Any) -> None:
        seen["statements"] += 1

    def loaded(*_: Any) -> None:
        seen["readings"] += 1

    event.listen(app.state.engine, "before_cursor_execute", statement)
    event.listen(VitalSign, "load", loaded)
    try:
        yield seen
    finally:
        event.remove(app.state.engine, "before_cursor_execute", statement)
        event.remove(VitalSign, "load", loaded)


def test_a_page_of_a_long_record_loads_only_its_own_readings(
    client: TestClient, app: FastAPI, db: Session, charted: Charted
) -> None:
    # Six hours of readings every minute: 360 readings, 1,440 vital-sign Observations.
    db.add_all(
        VitalSign(
            session_id=charted.session_id,
            taken_at=T0 + timedelta(minutes=2 + n),
            heart_rate=70 + n % 10,
            systolic_bp=120,
            diastolic_bp=80,
            spo2=97,
            respiratory_rate=None if n % 2 else 14,
        )
        for n in range(360)
    )
    db.commit()
    path = f"/fhir/Observation?patient={charted.patient_id}&_count=10"
    with _counting(app) as first:
        page = get(client, path, charted).json()
    assert page["total"] == 16 + 360 * 3 + 180  # every other reading without respiration
    assert len(page["entry"]) == 10
    with _counting(app) as late:
        deep = get(client, path + "&_offset=1000", charted).json()
    assert len(deep["entry"]) == 10
    assert all(e["resource"]["id"].startswith("vs-") for e in deep["entry"])
    # 10 Observations come from 3 to 5 readings: those are all that is loaded.
    assert first["readings"] <= 5 and late["readings"] <= 5, (first, late)
    # Deep in the record, no more statements than on the first page (which also notes
    # the read in the audit trail).
    assert late["statements"] <= first["statements"] < 40, (first, late)
    with _counting(app) as unpaged:
        filtered = get(
            client, f"/fhir/Observation?patient={charted.patient_id}&code=8867-4", charted
        )
    assert filtered.json()["total"] == 361  # a filter still sees the whole record
    assert unpaged["readings"] > 360
