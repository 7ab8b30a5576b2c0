"""Signing an order re-authenticates the prescriber (their password, checked with
argon2) and records who, when and what the signature means (21 CFR 11.50). A wrong
password signs nothing, says so on the form, and is audited."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.orders import service
from ketaclinic.orders.models import Order
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.audit.models import AuditEvent
from tests.conftest import PASSWORD, login, make_user
from tests.orders.factories import IV, a_course, a_weighed_patient, signer


def _draft(db: Session) -> Order:
    course = a_course(db, a_weighed_patient(db))
    draft = service.draft_order(db, actor=signer(db), course_id=course.id, data=IV)
    db.commit()
    return draft


def _refusals(db: Session) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == "signature.refused")))


def test_a_wrong_password_signs_nothing_and_is_audited(client: TestClient, db: Session) -> None:
    draft = _draft(db)
    user = make_user(db, "prescriber", username="dr.page")
    csrf = login(client, "dr.page")
    wrong = client.post(
        f"/orders/{draft.id}/sign", data={"csrf_token": csrf, "password": "not-my-password"}
    )
    assert wrong.status_code == 422
    assert "the password is not right: nothing was signed" in wrong.text
    assert 'aria-invalid="true"' in wrong.text
    empty = client.post(f"/orders/{draft.id}/sign", data={"csrf_token": csrf})
    assert empty.status_code == 422
    db.commit()
    db.expire_all()
    assert db.get(Order, draft.id).status == "draft"  # type: ignore[union-attr]
    refused = _refusals(db)
    assert [(r.actor, r.object_type, r.object_id) for r in refused] == [
        ("dr.page", "order", str(draft.id)),
        ("dr.page", "order", str(draft.id)),
    ]
    assert "authored and approved this order" in refused[0].detail
    assert refused[0].patient_id == draft.patient_id
    assert user.failed_logins == 0  # a signature is not a login attempt

    signed = client.post(
        f"/orders/{draft.id}/sign",
        data={"csrf_token": csrf, "password": PASSWORD},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    db.commit()
    db.expire_all()
    order = db.get(Order, draft.id)
    assert order is not None and order.status == "signed"
    assert (order.signed_by, order.signed_by_name, order.signature_meaning) == (
        "dr.page",
        "Dr.Page",
        "authored and approved this order",
    )
    assert order.signed_at is not None
    sign_row = db.scalars(select(AuditEvent).where(AuditEvent.action == "order.sign")).one()
    assert "Dr.Page: authored and approved this order" in sign_row.detail


def test_five_wrong_signature_passwords_lock_signing_for_the_login_window(
    client: TestClient, db: Session
) -> None:
    """The clinic's login lockout (5 misses, 15 minutes: Settings defaults) holds for the
    signature form too: after 5 wrong passwords even the right one signs nothing."""
    draft = _draft(db)
    make_user(db, "prescriber", username="dr.guess")
    csrf = login(client, "dr.guess")
    for _ in range(5):
        wrong = client.post(
            f"/orders/{draft.id}/sign", data={"csrf_token": csrf, "password": "a-guess"}
        )
        assert wrong.status_code == 422
        assert "the password is not right" in wrong.text
    locked = client.post(
        f"/orders/{draft.id}/sign", data={"csrf_token": csrf, "password": PASSWORD}
    )
    assert locked.status_code == 422
    assert "signing is locked: 5 wrong passwords in the last 15 minutes" in locked.text
    db.commit()
    db.expire_all()
    assert db.get(Order, draft.id).status == "draft"  # type: ignore[union-attr]


def test_signing_over_the_api_needs_the_password_in_the_body(
    client: TestClient, db: Session
) -> None:
    draft = _draft(db)
    user = make_user(db, "prescriber", username="dr.api")
    token = accounts.create_api_token(
        db, actor=accounts.actor_for(user), user_id=user.id, name="tests"
    )
    db.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    missing = client.post(f"/api/orders/{draft.id}/sign", headers=bearer)
    assert missing.status_code == 422
    wrong = client.post(f"/api/orders/{draft.id}/sign", json={"password": "guess"}, headers=bearer)
    assert wrong.status_code == 422
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert wrong.json()["errors"] == {"password": "wrong password"}
    done = client.post(f"/api/orders/{draft.id}/sign", json={"password": PASSWORD}, headers=bearer)
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["status"], body["signed_by"], body["signature_meaning"]) == (
        "signed",
        "dr.api",
        "authored and approved this order",
    )
    db.commit()
    assert [r.actor for r in _refusals(db)] == ["dr.api"]


def test_another_users_password_does_not_sign(db: Session) -> None:
    import pytest

    from ketaclinic.platform.errors import Invalid

    draft = _draft(db)
    other = accounts.actor_for(make_user(db, "prescriber", username="dr.other"))
    with pytest.raises(Invalid, match="password is not right"):
        # An actor whose account does not match (a stale or forged actor) signs nothing.
        service.sign_order(
            db,
            actor=other.__class__(user_id=other.user_id, username="dr.test", roles=other.roles),
            order_id=draft.id,
            password=PASSWORD,
        )
