"""The prescriber's home lists the orders to sign with the person who drafted each."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ketaclinic.orders import service
from ketaclinic.platform.accounts import service as accounts
from tests.candidacy.factories import PRESCRIBER
from tests.conftest import PASSWORD, TEST_ACTOR, login, make_user
from tests.orders.factories import IV, a_course, a_weighed_patient


def test_the_orders_to_sign_name_who_drafted_them_by_their_full_name(
    client: TestClient, db: Session
) -> None:
    lee = accounts.create_user(
        db,
        actor=TEST_ACTOR,
        username="dr.lee",
        full_name="Dr. Jo Lee",
        password=PASSWORD,
        roles=["prescriber"],
    )
    drafted = service.draft_order(
        db,
        actor=accounts.actor_for(lee),
        course_id=a_course(db, a_weighed_patient(db, given_name="Ann")).id,
        data=IV,
    )
    # Drafted under a name that no account holds (an import, a retired login): shown as is.
    other = service.draft_order(
        db, actor=PRESCRIBER, course_id=a_course(db, a_weighed_patient(db)).id, data=IV
    )
    db.commit()
    waiting = {w.order.id: w.drafted_by_name for w in service.drafts_to_sign(db, actor=PRESCRIBER)}
    assert waiting == {drafted.id: "Dr. Jo Lee", other.id: "dr.test"}
    make_user(db, "prescriber")
    login(client, "prescriber")
    home = client.get("/").text
    assert "drafted by Dr. Jo Lee" in home and "drafted by dr.lee" not in home
    assert "drafted by dr.test" in home
