"""Web security: headers, cookies, CSRF, bearer tokens, problem+json errors."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.audit.models import AuditEvent
from tests.conftest import PASSWORD, TEST_ACTOR, login, make_user

PATIENT = {
    "given_name": "Ana",
    "family_name": "Reyes",
    "date_of_birth": "1984-02-03",
    "sex": "female",
}


def test_pages_carry_a_strict_content_security_policy_and_no_framing(client: TestClient) -> None:
    response = client.get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_session_cookie_is_httponly_and_samesite(client: TestClient, db: Session) -> None:
    make_user(db, "nurse")
    page = client.get("/login")
    csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login",
        data={"username": "nurse", "password": PASSWORD, "csrf_token": csrf},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert "kc_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http in tests; https requests get Secure


def test_login_without_the_form_token_is_refused(client: TestClient, db: Session) -> None:
    make_user(db, "nurse")
    response = client.post("/login", data={"username": "nurse", "password": PASSWORD})
    assert response.status_code == 403


def test_a_cookie_authenticated_api_write_needs_the_csrf_token(
    client: TestClient, db: Session
) -> None:
    make_user(db, "nurse")
    csrf = login(client, "nurse")
    refused = client.post("/api/patients", json=PATIENT)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    accepted = client.post("/api/patients", json=PATIENT, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 201


def test_a_form_with_a_wrong_csrf_token_is_refused_and_the_refusal_is_in_the_trail(
    client: TestClient, db: Session
) -> None:
    nurse = make_user(db, "nurse")
    db.commit()
    login(client, "nurse")
    refused = client.post("/api/patients", json=PATIENT, headers={"X-CSRF-Token": "forged"})
    assert refused.status_code == 403
    row = db.scalars(select(AuditEvent).where(AuditEvent.action == "access.denied")).one()
    assert (row.actor_id, row.detail, row.reason) == (nurse.id, "POST /api/patients", "csrf")


def test_a_bearer_token_client_needs_no_csrf_token(client: TestClient, db: Session) -> None:
    nurse = make_user(db, "nurse")
    token = accounts.create_api_token(db, actor=TEST_ACTOR, user_id=nurse.id, name="bridge")
    db.commit()
    response = client.post(
        "/api/patients", json=PATIENT, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201


def test_a_revoked_or_unknown_token_gets_401_with_a_problem_document(client: TestClient) -> None:
    response = client.get("/api/patients", headers={"Authorization": "Bearer kc_nope"})
    assert response.status_code == 401
    body = response.json()
    assert body["status"] == 401 and "token" in body["detail"]


def test_invalid_api_input_is_a_problem_document_naming_the_field(
    client: TestClient, db: Session
) -> None:
    nurse = make_user(db, "nurse")
    token = accounts.create_api_token(db, actor=TEST_ACTOR, user_id=nurse.id, name="t")
    db.commit()
    response = client.post(
        "/api/patients",
        json={**PATIENT, "date_of_birth": "2999-01-01"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "date_of_birth" in response.json()["errors"]


def test_logout_ends_the_session_on_the_server(client: TestClient, db: Session) -> None:
    make_user(db, "nurse")
    csrf = login(client, "nurse")
    cookie = client.cookies.get("kc_session")
    client.post("/logout", data={"csrf_token": csrf})
    client.cookies.set("kc_session", cookie or "")
    assert client.get("/api/me").status_code == 401


def test_health_and_readiness_answer_without_login(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_api_docs_load_only_local_assets(client: TestClient, db: Session) -> None:
    make_user(db, "nurse")
    login(client, "nurse")
    page = client.get("/api/docs").text
    assert "/static/swagger/swagger-ui-bundle.js" in page and "https://" not in page
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert client.get("/api/openapi.json").json()["info"]["title"] == "ketaclinic"
