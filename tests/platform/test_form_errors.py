"""Forms of the platform (login, users) say which field was wrong, as the macros of
``platform/templates/_form.html`` show it, from ``platform/forms.field_errors``."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from ketaclinic.platform.errors import Conflict, Invalid
from ketaclinic.platform.forms import field_errors, parse
from tests.conftest import login, make_user
from tests.forms import marked, summary_text, unmarked
from tests.forms import parse as parse_html


class _Visit(BaseModel):
    day: date
    chairs: int


def test_a_validation_error_is_told_at_the_input_it_concerns() -> None:
    data, errors = parse(_Visit, {"day": "someday", "chairs": "two", "csrf_token": "x"})
    assert data is None
    assert errors == {"day": "give a date", "chairs": "give a whole number"}
    _, missing = parse(_Visit, {"chairs": "2"})
    assert missing == {"day": "this is required"}


def test_an_input_can_have_another_name_than_its_field() -> None:
    try:
        _Visit.model_validate({"day": "2026-01-01", "chairs": "x"})
    except ValidationError as exc:
        assert field_errors(exc, rename={"chairs": "chair_count"}) == {
            "chair_count": "give a whole number"
        }


def test_a_services_error_is_told_at_its_fields_or_at_the_top() -> None:
    taken = Conflict("the username 'bo' is taken", fields={"username": "taken"})
    assert field_errors(taken) == {"username": "the username 'bo' is taken"}
    several = Invalid("the times do not fit", fields={"starts": "after the end", "ends": "x"})
    assert field_errors(several) == {"starts": "after the end", "ends": "the times do not fit"}
    assert field_errors(Invalid("the day is closed")) == {"form": "the day is closed"}


def _login_page_csrf(client: TestClient) -> str:
    page = client.get("/login")
    return page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_a_login_without_a_password_marks_the_password_and_keeps_the_username(
    client: TestClient, db: Session
) -> None:
    make_user(db, "nurse", username="bo")
    refused = client.post(
        "/login",
        data={"username": "bo", "password": "", "csrf_token": _login_page_csrf(client)},
    )
    assert refused.status_code == 422
    password = marked(refused.text, "password")
    assert password.message == "give your password"
    assert password.control.attrs["id"] == "password"
    assert 'value="bo"' in refused.text and unmarked(refused.text, "username")


def test_a_wrong_password_is_said_at_the_top_without_naming_a_field(
    client: TestClient, db: Session
) -> None:
    make_user(db, "nurse", username="bo")
    refused = client.post(
        "/login",
        data={"username": "bo", "password": "wrong-wrong", "csrf_token": _login_page_csrf(client)},
    )
    assert refused.status_code == 401
    assert "unknown username or wrong password" in summary_text(refused.text)
    assert unmarked(refused.text, "username") and unmarked(refused.text, "password")


def test_adding_a_user_with_a_short_password_marks_it_and_keeps_the_rest(
    client: TestClient, db: Session
) -> None:
    make_user(db, "admin", username="ada")
    csrf = login(client, "ada")
    refused = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "username": "cy",
            "full_name": "Cy Doe",
            "email": "cy@clinic.test",
            "password": "short",
            "roles": ["nurse"],
        },
    )
    assert refused.status_code == 422
    password = marked(refused.text, "password")
    assert "10" in password.message and password.value == ""  # a password is never echoed
    assert 'value="Cy Doe"' in refused.text and 'value="cy@clinic.test"' in refused.text
    taken = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "username": "ada",
            "full_name": "Another Ada",
            "password": "long-enough-password",
            "roles": ["nurse"],
        },
    )
    username = marked(taken.text, "username")
    assert "taken" in username.message and username.value == "ada"


def test_an_unknown_address_marks_that_staff_members_email_input(
    client: TestClient, db: Session
) -> None:
    make_user(db, "admin", username="ada")
    nurse = make_user(db, "nurse", username="bo", email=None)
    csrf = login(client, "ada")
    refused = client.post(
        f"/admin/users/{nurse.id}/contact",
        data={"csrf_token": csrf, "email": "not-an-address", "alert_preference": "email"},
    )
    email = marked(refused.text, "email")
    assert email.control.attrs["id"] == f"email-{nurse.id}"
    assert email.message == "not an e-mail address" and email.value == "not-an-address"


def test_the_banner_is_a_polite_status_region_not_an_alert(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ketaclinic.platform import web

    banner = {"level": "alarm", "text": "1 open suicidality alert", "href": "/outcomes/alerts"}
    monkeypatch.setattr(web, "banner_providers", lambda: [lambda request, who: [banner]])
    make_user(db, "nurse", username="bo")
    login(client, "bo")
    boxes = [e for e in parse_html(client.get("/").text).walk() if e.attrs.get("id") == "banners"]
    assert len(boxes) == 1 and "1 open suicidality alert" in boxes[0].text
    assert boxes[0].attrs["role"] == "status" and boxes[0].attrs["aria-live"] == "polite"
    assert not any(e.attrs.get("role") == "alert" for e in boxes[0].walk())
