"""Every route declares its roles; everyone else is refused (401 without a session,
403 with the wrong role). Walks the app's own route table, so a new route that forgets
to declare its roles fails here."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ketaclinic.platform.app import api_routes
from ketaclinic.platform.auth import PUBLIC, declared_roles
from ketaclinic.platform.roles import Role
from tests.conftest import login, make_user
from tests.patients.factories import a_patient


def _roles_of(route: APIRoute) -> frozenset[Role] | str | None:
    found: list[frozenset[Role] | str] = []

    def walk(dependant: object) -> None:
        for dep in getattr(dependant, "dependencies", []):
            roles = declared_roles(dep.call) if dep.call else None
            if roles is not None:
                found.append(roles)
            walk(dep)

    walk(route.dependant)
    return found[0] if len(found) == 1 else (None if not found else "conflicting declarations")


def _api_routes(app: FastAPI) -> list[APIRoute]:
    return api_routes(app)


def _concrete(path: str, patient_id: int) -> str:
    return re.sub(r"\{[^}]+\}", str(patient_id), path)


def test_every_route_declares_exactly_one_set_of_roles(app: FastAPI) -> None:
    undeclared = [
        f"{sorted(r.methods)} {r.path}"
        for r in _api_routes(app)
        if _roles_of(r) in (None, "conflicting declarations")
    ]
    assert undeclared == []
    assert len(_api_routes(app)) > 20
    # The FHIR interface's routes are in the same table and checked the same way.
    assert {"/fhir/metadata", "/fhir/Patient/{resource_id}", "/fhir/QuestionnaireResponse"} <= {
        r.path for r in _api_routes(app)
    }


def test_fhir_reads_of_clinical_data_are_for_clinical_roles_and_the_patient(app: FastAPI) -> None:
    declared = {
        r.path: _roles_of(r) for r in _api_routes(app) if r.path.startswith("/fhir/Observation")
    }
    assert declared == dict.fromkeys(
        ("/fhir/Observation", "/fhir/Observation/{resource_id}"),
        frozenset({Role.prescriber, Role.nurse, Role.patient}),
    )


@pytest.fixture
def role_clients(app: FastAPI, db: Session) -> Iterator[dict[Role, tuple[TestClient, str]]]:
    patient = a_patient(db)
    clients: dict[Role, tuple[TestClient, str]] = {}
    for role in Role:
        make_user(db, role.value, patient_id=patient.id if role is Role.patient else None)
    for role in Role:
        test_client = TestClient(app)
        test_client.__enter__()
        csrf = login(test_client, role.value.replace("_", ""))
        clients[role] = (test_client, csrf)
    yield clients
    for test_client, _ in clients.values():
        test_client.__exit__(None, None, None)


def test_every_protected_route_refuses_strangers_and_other_roles(
    app: FastAPI, db: Session, role_clients: dict[Role, tuple[TestClient, str]]
) -> None:
    from ketaclinic.patients.models import Patient

    patient_id = db.query(Patient.id).scalar()
    db.rollback()  # release SQLite's write lock before the app needs it
    checked = 0
    anonymous = TestClient(app)
    for route in _api_routes(app):
        roles = _roles_of(route)
        if roles == PUBLIC:
            continue
        assert isinstance(roles, frozenset)
        path = _concrete(route.path, patient_id)
        for method in sorted(route.methods - {"HEAD"}):
            response = anonymous.request(method, path, follow_redirects=False)
            assert response.status_code == 401, f"{method} {route.path} without a session"
            for role in set(Role) - roles:
                test_client, csrf = role_clients[role]
                response = test_client.request(
                    method, path, headers={"X-CSRF-Token": csrf}, follow_redirects=False
                )
                assert response.status_code == 403, f"{method} {route.path} as {role.value}"
                checked += 1
    assert checked > 50


def test_staff_at_the_chair_chart_symptoms(app: FastAPI) -> None:
    """Nurses and prescribers chart a symptom, on the page and over the API; nobody else."""
    declared = {
        (method, r.path): _roles_of(r)
        for r in _api_routes(app)
        for method in r.methods
        if r.path.endswith("/symptoms")
    }
    chair = frozenset({Role.nurse, Role.prescriber})
    assert declared == {
        ("POST", "/sessions/{session_id}/symptoms"): chair,
        ("POST", "/api/sessions/{session_id}/symptoms"): chair,
    }
