"""Accounts: argon2id hashes, lockout, deactivation, roles, API tokens."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.errors import Conflict, Invalid
from tests.conftest import PASSWORD, TEST_ACTOR, make_user


def _login(db: Session, username: str, password: str) -> accounts.LoginResult:
    return accounts.authenticate(
        db,
        username=username,
        password=password,
        ip="127.0.0.1",
        lockout_failures=3,
        lockout_minutes=15,
    )


def test_passwords_are_stored_as_argon2id_hashes(db: Session) -> None:
    user = make_user(db, "nurse")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_a_short_password_is_refused_with_the_reason(db: Session) -> None:
    with pytest.raises(Invalid, match="at least 10 characters"):
        accounts.create_user(
            db, actor=TEST_ACTOR, username="x1", full_name="X", password="short", roles=["nurse"]
        )


def test_it_refuses_a_second_account_with_the_same_username(db: Session) -> None:
    make_user(db, "nurse", username="ada")
    with pytest.raises(Conflict, match="taken"):
        make_user(db, "nurse", username="ADA")


def test_an_unknown_role_is_named_in_the_error(db: Session) -> None:
    with pytest.raises(Invalid, match="unknown role 'surgeon'"):
        make_user(db, ["surgeon"])


def test_a_patient_account_must_be_linked_to_a_patient(db: Session) -> None:
    with pytest.raises(Invalid, match="linked to a patient"):
        make_user(db, "patient")


def test_the_account_locks_after_repeated_failures_even_for_the_right_password(
    db: Session,
) -> None:
    make_user(db, "nurse")
    for _ in range(3):
        assert _login(db, "nurse", "wrong password!").user is None
    locked = _login(db, "nurse", PASSWORD)
    assert locked.user is None
    assert locked.problem and "locked" in locked.problem


def test_unknown_user_and_wrong_password_get_the_same_message(db: Session) -> None:
    make_user(db, "nurse")
    assert _login(db, "nobody", "whatever123").problem == _login(db, "nurse", "nope").problem


def test_a_deactivated_user_cannot_log_in(db: Session) -> None:
    admin = accounts.actor_for(make_user(db, "admin"))
    nurse = make_user(db, "nurse")
    accounts.deactivate_user(db, actor=admin, user_id=nurse.id)
    assert _login(db, "nurse", PASSWORD).user is None


def test_an_admin_cannot_remove_their_own_admin_role(db: Session) -> None:
    admin_user = make_user(db, "admin")
    with pytest.raises(Invalid, match="own admin role"):
        accounts.set_roles(
            db, actor=accounts.actor_for(admin_user), user_id=admin_user.id, roles=["nurse"]
        )


def test_api_tokens_are_stored_hashed_and_resolve_to_their_user(db: Session) -> None:
    from ketaclinic.platform.accounts.models import ApiToken

    nurse = make_user(db, "nurse")
    token = accounts.create_api_token(db, actor=TEST_ACTOR, user_id=nurse.id, name="monitor")
    stored = db.query(ApiToken).one()
    assert token.startswith("kc_") and token not in stored.token_hash
    resolved = accounts.resolve_api_token(db, token)
    assert resolved is not None and resolved.username == "nurse"
    assert accounts.resolve_api_token(db, token + "x") is None


def test_full_names_reads_a_whole_pages_people_in_one_statement(db: Session) -> None:
    from sqlalchemy import event

    accounts.create_user(
        db,
        actor=TEST_ACTOR,
        username="dr.lee",
        full_name="Dr. Jo Lee",
        password=PASSWORD,
        roles=["prescriber"],
    )
    make_user(db, "nurse")  # full name "Nurse"
    statements: list[str] = []

    def note(*args: object) -> None:
        if str(args[2]).lstrip().upper().startswith("SELECT"):
            statements.append(str(args[2]))

    bind = db.get_bind()
    event.listen(bind, "before_cursor_execute", note)
    try:
        found = accounts.full_names(db, ["dr.lee", "nurse", "cli", None, "dr.lee"])
    finally:
        event.remove(bind, "before_cursor_execute", note)
    # An actor name that is no account (the command line's "cli") is left out.
    assert found == {"dr.lee": "Dr. Jo Lee", "nurse": "Nurse"}
    assert len(statements) == 1
    assert accounts.full_names(db, [None]) == {}
