"""The administrator's users page: staff e-mail addresses and alert preferences."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.audit.models import AuditEvent
from tests.conftest import login, make_user


def _reread(db: Session, username: str) -> User:
    # End this session's read (a snapshot on SQLite), keeping what the app wrote (on
    # PostgreSQL it wrote inside this session's savepoint: a rollback would undo it).
    db.commit()
    db.expire_all()
    user = db.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


def test_the_admin_sets_a_staff_members_address_and_alert_preference(
    client: TestClient, db: Session
) -> None:
    make_user(db, "admin", username="ada")
    nurse = make_user(db, "nurse", username="bo", email=None)
    csrf = login(client, "ada")
    refused = client.post(
        f"/admin/users/{nurse.id}/contact",
        data={"csrf_token": csrf, "email": "not-an-address", "alert_preference": "email"},
    )
    assert refused.status_code == 422
    assert f'aria-invalid="true" aria-describedby="email-{nurse.id}-error"' in refused.text
    assert 'value="not-an-address"' in refused.text  # what was typed is kept
    assert _reread(db, "bo").email is None
    saved = client.post(
        f"/admin/users/{nurse.id}/contact",
        data={"csrf_token": csrf, "email": "bo@clinic.test", "alert_preference": "none"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    user = _reread(db, "bo")
    assert (user.email, user.alert_preference) == ("bo@clinic.test", "none")
    assert db.scalar(select(AuditEvent.detail).where(AuditEvent.action == "user.contact")) == (
        "bo alerts=none email=set"
    )
    page = client.get("/admin/users").text
    assert 'value="bo@clinic.test"' in page


def test_a_new_user_is_added_with_an_email_address(client: TestClient, db: Session) -> None:
    make_user(db, "admin", username="ada")
    csrf = login(client, "ada")
    added = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "username": "cy",
            "full_name": "Cy Desk",
            "password": "a-long-password-1",
            "email": "cy@clinic.test",
            "roles": ["front_desk"],
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert _reread(db, "cy").email == "cy@clinic.test"
