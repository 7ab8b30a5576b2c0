"""The administrator's pages: staff e-mail addresses and alert preferences, the audit
trail a page at a time."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.errors import Invalid
from tests.conftest import TEST_ACTOR, login, make_user


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


def _audit_rows(page: str) -> list[int]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [int(cell.split("</td>", 1)[0]) for cell in body.split("<tr><td>")[1:]]


def _link(page: str, label: str) -> str | None:
    for anchor in page.split("<a href=")[1:]:
        href, rest = anchor.split(">", 1)
        if rest.startswith(f"{label}</a>"):
            return html.unescape(href.split(" ", 1)[0].strip('"'))
    return None


def test_the_audit_trail_is_paged_by_id_with_its_filter_kept_in_the_links(
    client: TestClient, db: Session
) -> None:
    make_user(db, "admin", username="ada")
    made = [
        audit.record(db, actor=TEST_ACTOR, action="test.paged", detail=str(i)) for i in range(120)
    ]
    audit.record(db, actor=TEST_ACTOR, action="other.kind")
    db.commit()
    ids = sorted((e.id for e in made), reverse=True)
    login(client, "ada")
    first = client.get("/admin/audit?action=test.paged").text
    assert _audit_rows(first) == ids[:50]
    assert _link(first, "Newer") is None
    older = _link(first, "Older")
    assert older == f"/admin/audit?action=test.paged&before={ids[49]}"
    second = client.get(older).text
    assert _audit_rows(second) == ids[50:100]
    third_link = _link(second, "Older")
    assert third_link is not None and "action=test.paged" in third_link
    third = client.get(third_link).text
    assert _audit_rows(third) == ids[100:]  # the last 20, and no page after them
    assert _link(third, "Older") is None
    back = _link(third, "Newer")
    assert back == f"/admin/audit?action=test.paged&after={ids[100]}"
    assert _audit_rows(client.get(back).text) == ids[50:100]


def test_an_audit_page_reads_its_rows_in_sql_a_page_at_a_time(db: Session) -> None:
    admin = make_user(db, "admin", username="ada")
    made = [audit.record(db, actor=TEST_ACTOR, action="test.sql", detail=str(i)) for i in range(30)]
    db.flush()
    viewer = accounts.actor_for(admin)
    page = audit.trail_page(db, actor=viewer, action="test.sql", size=10, before=made[15].id)
    assert [e.id for e in page.entries] == [e.id for e in reversed(made[5:15])]
    assert page.older == made[5].id and page.newer == made[14].id
    with pytest.raises(Invalid):
        audit.trail_page(db, actor=viewer, size=0)


def test_a_bad_audit_page_cursor_is_refused_with_a_clear_error(
    client: TestClient, db: Session
) -> None:
    make_user(db, "admin", username="ada")
    login(client, "ada")
    assert client.get("/admin/audit?before=-3").status_code == 422
    assert client.get("/admin/audit?patient=x").status_code == 422


@pytest.mark.parametrize(
    ("roles", "headings"),
    [
        (["nurse", "prescriber"], ["At the chairs today", "To sign and decide"]),
        (["front_desk"], ["The front desk today"]),
        (["admin", "prescriber"], ["To sign and decide", "Safety and outcomes"]),
        (["therapist"], ["My therapy patients"]),
        (["researcher"], []),
    ],
)
def test_a_person_with_several_roles_sees_each_roles_home_in_turn(
    client: TestClient, db: Session, roles: list[str], headings: list[str]
) -> None:
    make_user(db, roles, username="someone")
    login(client, "someone")
    page = client.get("/").text
    assert re.findall(r'<h2 id="home-[a-z_]+-title">([^<]+)</h2>', page) == headings
