"""An order's fields are checked against their plausible ranges when it is saved and again
when it is signed; the older-adult esketamine start follows the patient's age."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ketaclinic.configuration import service as configuration
from ketaclinic.orders import service
from ketaclinic.orders.schemas import OrderIn
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.errors import Invalid
from ketaclinic.platform.roles import Role
from tests.candidacy.factories import PRESCRIBER, cleared_patient
from tests.conftest import PASSWORD, login, make_user
from tests.orders.factories import a_course, a_weighed_patient, signer

DIRECTOR = Actor(user_id=None, username="dr.chen", roles=frozenset({Role.prescriber, Role.admin}))


def test_a_concentration_of_a_billionth_of_a_mg_per_ml_is_refused_naming_the_field(
    client: TestClient, db: Session
) -> None:
    patient = a_weighed_patient(db, weight=70)
    cleared_patient(db, patient.id)
    make_user(db, "prescriber")
    db.commit()
    h = {"X-CSRF-Token": login(client, "prescriber")}
    cid = client.post(
        f"/api/orders/patients/{patient.id}/courses",
        json={"protocol_id": "iv_ketamine", "indication": "treatment_resistant_depression"},
        headers=h,
    ).json()["id"]
    bad = client.post(
        f"/api/orders/courses/{cid}/orders",
        json={"dose_mg_per_kg": 0.5, "concentration_mg_per_ml": 1e-9, "bag_volume_ml": 100},
        headers=h,
    )
    assert bad.status_code == 422, bad.text
    assert "concentration_mg_per_ml" in bad.json()["errors"]
    assert client.get(f"/api/orders/courses/{cid}/orders").json() == []


def test_a_pump_rate_above_the_plausible_range_is_refused(db: Session) -> None:
    # 0.5 mg/kg x 70 kg = 35 mg; at 1 mg/mL that is 35 mL, added to a 1000 mL bag:
    # 1035 mL over 40 min = 1552.5 mL/h, above the 999 mL/h a pump can be set to.
    course = a_course(db, a_weighed_patient(db, weight=70))
    data = OrderIn(dose_mg_per_kg=0.5, concentration_mg_per_ml=1, bag_volume_ml=1000)
    with pytest.raises(Invalid) as refused:
        service.draft_order(db, actor=PRESCRIBER, course_id=course.id, data=data)
    assert set(refused.value.fields) == {"rate_ml_per_h"}


def test_a_draft_saved_before_the_clinic_tightened_the_pump_rate_is_refused_at_signing(
    db: Session,
) -> None:
    course = a_course(db, a_weighed_patient(db, weight=70))
    # 35 mg at 10 mg/mL = 3.5 mL; 103.5 mL over 40 min = 155.25, rounded to 155.3 mL/h.
    data = OrderIn(dose_mg_per_kg=0.5, concentration_mg_per_ml=10, bag_volume_ml=100)
    draft = service.draft_order(db, actor=PRESCRIBER, course_id=course.id, data=data)
    assert draft.rate_ml_per_h == 155.3
    configuration.override(
        db,
        actor=DIRECTOR,
        table_key="dosing.order_ranges",
        target="pump_rate",
        field="maximum",
        value="150",
        reason="our syringe drivers stop at 150 mL/h",
    )
    with pytest.raises(Invalid) as refused:
        service.sign_order(db, actor=signer(db), order_id=draft.id, password=PASSWORD)
    assert set(refused.value.fields) == {"rate_ml_per_h"}
    assert draft.status == "draft"


def test_a_seventy_year_old_starts_esketamine_for_resistant_depression_at_28_mg(
    db: Session,
) -> None:
    born = date(date.today().year - 70, 1, 1)
    course = a_course(db, a_weighed_patient(db, date_of_birth=born), "in_esketamine")
    order = service.draft_order(db, actor=PRESCRIBER, course_id=course.id, data=OrderIn())
    # Age 70 >= 65: the older-adult start is 28 mg, one 28 mg device.
    assert (order.dose_mg, order.devices) == (28.0, 1)
