"""What the API answers when a request cannot be served: the id no row can have, the
constraint a write breaks, the method a path does not take, the body too large, the
error nobody foresaw; and the OpenAPI document says so."""

from __future__ import annotations

import asyncio
import http.client
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import uvicorn
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.app import SECURITY_HEADERS, create_app
from ketaclinic.platform.auth import allow_public, get_db
from ketaclinic.platform.ids import INT32_MAX, INT64_MAX
from ketaclinic.platform.settings import Settings
from ketaclinic.scheduling import service as scheduling
from ketaclinic.scheduling.schemas import ChairIn, ChairUpdate
from tests.conftest import TEST_ACTOR, login, make_user
from tests.patients.factories import a_patient
from tests.platform.test_api_fuzz import ADMIN

SECRET = "Maria Lopez, MRN KC000042"


def _bearer(db: Session, role: str | list[str]) -> dict[str, str]:
    user = make_user(db, role, username=f"probe-{role if isinstance(role, str) else 'all'}")
    token = accounts.create_api_token(db, actor=TEST_ACTOR, user_id=user.id, name="probe")
    db.commit()
    return {"Authorization": f"Bearer {token}"}


def _test_only_routes(app: FastAPI) -> None:
    """Routes that fail on purpose; added by the tests, never by the app."""
    router = APIRouter()

    @router.get("/api/test-only/boom")
    def boom(_: Any = allow_public()) -> None:
        raise RuntimeError(SECRET)

    @router.post("/api/test-only/duplicate-user")
    def duplicate(db: Session = Depends(get_db), _: Any = allow_public()) -> None:
        db.add(User(username="twin", full_name="One", password_hash="x"))
        db.add(User(username="twin", full_name="Two", password_hash="x"))
        db.flush()

    app.include_router(router)


# ---------------------------------------------------------------- ids


def test_an_id_no_row_can_have_is_refused_before_any_sql(client: TestClient, db: Session) -> None:
    headers = _bearer(db, "nurse")
    for bad in ("0", "-1", str(INT32_MAX + 1), str(2**64)):
        response = client.get(f"/api/patients/{bad}", headers=headers)
        assert response.status_code == 422, bad
        assert response.headers["content-type"] == "application/problem+json"
        assert "path.patient_id" in response.json()["errors"]
    assert client.get(f"/api/patients/{INT32_MAX}", headers=headers).status_code == 404
    query = client.get(f"/api/sessions?patient_id={INT32_MAX + 1}", headers=headers)
    assert query.status_code == 422 and "query.patient_id" in query.json()["errors"]
    body = client.post("/api/sessions", json={"patient_id": INT32_MAX + 1}, headers=headers)
    assert body.status_code == 422 and "patient_id" in body.json()["errors"]


def test_vital_sign_ids_take_the_64_bit_range_of_their_column(app: FastAPI) -> None:
    parameters = app.openapi()["paths"][
        "/api/sessions/{session_id}/vitals/{vital_sign_id}/entered-in-error"
    ]["post"]["parameters"]
    ranges = {p["name"]: (p["schema"]["minimum"], p["schema"]["maximum"]) for p in parameters}
    assert ranges == {"session_id": (1, INT32_MAX), "vital_sign_id": (1, INT64_MAX)}


# ---------------------------------------------------------------- conflicts


def test_a_constraint_a_service_breaks_at_flush_is_a_409_naming_the_field(
    app: FastAPI, client: TestClient
) -> None:
    _test_only_routes(app)
    response = client.post("/api/test-only/duplicate-user")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == {"username": "already taken by another record"}


def test_changing_roles_keeps_a_role_the_user_already_has(client: TestClient, db: Session) -> None:
    headers = _bearer(db, "admin")
    nurse = make_user(db, "nurse", username="nurse.two")
    response = client.put(
        f"/api/users/{nurse.id}/roles", json={"roles": ["nurse", "prescriber"]}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["roles"] == ["nurse", "prescriber"]
    again = client.put(
        f"/api/users/{nurse.id}/roles", json={"roles": ["prescriber"]}, headers=headers
    )
    assert again.json()["roles"] == ["prescriber"]


def test_the_roles_form_keeps_a_role_the_user_already_has(client: TestClient, db: Session) -> None:
    make_user(db, "admin", username="boss")
    nurse = make_user(db, "nurse", username="nurse.three")
    csrf = login(client, "boss")
    response = client.post(
        f"/admin/users/{nurse.id}/roles",
        data={"roles": ["nurse", "prescriber"], "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    db.expire_all()
    assert accounts.get_user(db, user_id=nurse.id).role_names == {"nurse", "prescriber"}


def test_chair_names_are_unique_whatever_their_case_or_accents(
    client: TestClient, db: Session
) -> None:
    scheduling.add_chair(db, actor=ADMIN, data=ChairIn(name="Sala Éter"))
    other = scheduling.add_chair(db, actor=ADMIN, data=ChairIn(name="Chair 2"))
    db.commit()
    headers = _bearer(db, "admin")
    for name in ("sala éter", "SALA ÉTER", "Sala E\u0301ter"):
        response = client.post("/api/scheduling/chairs", json={"name": name}, headers=headers)
        assert response.status_code == 409, name
        assert response.json()["errors"] == {"name": "taken"}
    renamed = client.patch(
        f"/api/scheduling/chairs/{other.id}", json={"name": "sala ÉTER"}, headers=headers
    )
    assert renamed.status_code == 409
    scheduling.update_chair(db, actor=ADMIN, chair_id=other.id, data=ChairUpdate(name="chair 2"))


# ---------------------------------------------------------------- 405


def test_a_method_the_path_does_not_take_is_a_405_naming_every_allowed_one(
    client: TestClient, db: Session
) -> None:
    patient = a_patient(db)
    response = client.delete(f"/api/patients/{patient.id}", headers=_bearer(db, "nurse"))
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "PUT"}
    assert response.headers["content-type"] == "application/problem+json"


# ---------------------------------------------------------------- body cap


@pytest.fixture
def small_cap(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings.model_copy(update={"max_body_bytes": 4096}))
    yield application
    application.state.engine.dispose()


def test_a_body_declared_too_large_is_refused_before_it_is_read(small_cap: FastAPI) -> None:
    with TestClient(small_cap) as client:
        response = client.post(
            "/api/public/self-screen",
            content=b"{" + b" " * 5000 + b"}",
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 413
    for name in SECURITY_HEADERS:
        assert name in response.headers


def test_a_streamed_body_is_cut_off_once_it_passes_the_cap(small_cap: FastAPI) -> None:
    chunks = iter([b"{" + b" " * 1023] + [b" " * 1024] * 1000 + [b"}"])
    read = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        chunk = next(chunks)
        return {"type": "http.request", "body": chunk, "more_body": chunk != b"}"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/public/self-screen",
        "raw_path": b"/api/public/self-screen",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    # A thread of its own: a browser test before this one in the same worker may have
    # left an event loop running on this thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, small_cap(scope, receive, send)).result()
    assert sent[0]["status"] == 413, sent
    assert read <= 6  # 4 KiB and one chunk past it, not the megabyte behind


def test_the_default_cap_is_one_megabyte(client: TestClient) -> None:
    within = client.post("/api/public/self-screen", json={"answers": {}, "pad": " " * 900_000})
    assert within.status_code != 413
    beyond = client.post("/api/public/self-screen", json={"answers": {}, "pad": " " * 1_100_000})
    assert beyond.status_code == 413


# ---------------------------------------------------------------- the last wall


def test_an_unexpected_error_is_a_problem_with_a_reference_and_no_detail(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    _test_only_routes(app)
    caplog.set_level(logging.DEBUG)
    with TestClient(app) as client:
        response = client.get("/api/test-only/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["correlation_id"] == response.headers["x-request-id"]
    assert SECRET not in response.text
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in logged] == [
        f"unexpected RuntimeError on GET /api/test-only/boom [request {body['correlation_id']}]"
    ]
    assert all(r.exc_info is None for r in caplog.records)
    assert all(SECRET not in r.getMessage() for r in caplog.records)


def test_every_reply_carries_its_own_request_id(client: TestClient) -> None:
    first = client.get("/healthz").headers["x-request-id"]
    second = client.get("/healthz").headers["x-request-id"]
    assert first and second and first != second


def test_the_server_keeps_the_connection_after_an_unexpected_error(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    _test_only_routes(app)
    caplog.set_level(logging.DEBUG)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="info", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/api/test-only/boom")
        failed = connection.getresponse()
        failed.read()
        assert failed.status == 500
        assert (failed.getheader("connection") or "").lower() != "close"
        connection.request("GET", "/healthz")  # the same connection, kept alive
        assert connection.getresponse().status == 200
        connection.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert all(r.exc_info is None for r in caplog.records)
    assert all(SECRET not in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------- the description


def test_every_operation_documents_its_problems(app: FastAPI) -> None:
    document = app.openapi()
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) > 50
    for path, method, operation in operations:
        expected = {"401", "403", "404", "409", "413", "422"}
        if "requestBody" in operation:
            expected.add("400")
        responses = operation["responses"]
        assert expected <= set(responses), (method, path)
        for status in expected:
            content = responses[status]["content"]
            assert content == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, (method, path, status)
