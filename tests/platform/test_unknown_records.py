"""A record that does not exist is a 404 wherever a route names it, and never reaches
the audit trail or the database's foreign keys."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.app import api_routes
from ketaclinic.platform.audit.models import AuditEvent
from tests.conftest import TEST_ACTOR, make_user

UNKNOWN = 987_654


def _reads_naming_a_record(app: FastAPI) -> list[str]:
    return sorted(
        route.path
        for route in api_routes(app)
        if "GET" in route.methods and route.path.startswith("/api") and "{" in route.path
    )


def test_an_unknown_record_on_any_read_is_a_404_and_leaves_no_audit_row(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    user = make_user(db, ["prescriber", "nurse", "front_desk", "admin"], username="everyone")
    token = accounts.create_api_token(db, actor=TEST_ACTOR, user_id=user.id, name="probe")
    db.commit()
    headers = {"Authorization": f"Bearer {token}"}
    answers = {}
    urls = {p: re.sub(r"\{[a-z_]+\}", str(UNKNOWN), p) for p in _reads_naming_a_record(app)}
    urls["/api/sessions?patient_id="] = f"/api/sessions?patient_id={UNKNOWN}"
    for path, url in urls.items():
        try:
            answers[path] = client.get(url, headers=headers).status_code
        except Exception as exc:  # a failure that escaped the app
            answers[path] = type(exc).__name__
    wrong = {path: status for path, status in answers.items() if status != 404}
    assert answers and not wrong, "\n".join(f"{p}: {s}" for p, s in wrong.items())
    audited = select(func.count()).where(AuditEvent.patient_id == UNKNOWN)
    assert db.scalar(audited) == 0


def test_an_absurdly_small_concentration_is_a_422_naming_the_field(
    client: TestClient, db: Session
) -> None:
    from tests.orders.factories import a_course, a_weighed_patient

    course = a_course(db, a_weighed_patient(db))
    user = make_user(db, "prescriber", username="dr.tiny")
    token = accounts.create_api_token(db, actor=TEST_ACTOR, user_id=user.id, name="probe")
    db.commit()
    headers = {"Authorization": f"Bearer {token}"}
    for tiny in (1e-51, 5e-324):
        for route in ("preview", "orders"):
            response = client.post(
                f"/api/orders/courses/{course.id}/{route}",
                json={"dose_mg_per_kg": 0.5, "concentration_mg_per_ml": tiny, "bag_volume_ml": 100},
                headers=headers,
            )
            assert response.status_code == 422, (tiny, route, response.text)
            assert "concentration_mg_per_ml" in response.json().get("errors", {}), response.text
