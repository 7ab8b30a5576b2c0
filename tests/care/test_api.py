"""The care plan over the JSON API: a therapist reads their care-team patients only."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ketaclinic.care import service
from ketaclinic.platform.clock import clinic_today
from tests.care.factories import a_patient_on_course, a_user, on_team
from tests.conftest import login
from tests.orders.factories import signer


def test_the_api_gives_the_care_team_and_the_medication_plan_to_the_team_only(
    client: TestClient, db: Session
) -> None:
    therapist = a_user(db, "therapist", "therapist.nguyen")
    mine, _ = a_patient_on_course(db)
    other, _ = a_patient_on_course(db, given_name="Ben")
    on_team(db, mine, therapist, "therapist")
    service.add_medication(
        db,
        actor=signer(db),
        patient_id=mine.id,
        name="diazepam",
        kind="psychiatric",
        prescriber="Dr. Family GP",
        started_on=clinic_today(),
    )
    db.commit()
    login(client, "therapist.nguyen")
    team = client.get(f"/api/patients/{mine.id}/care-team")
    assert team.status_code == 200
    assert [(m["role"], m["primary"]) for m in team.json()] == [("therapist", False)]
    meds = client.get(f"/api/patients/{mine.id}/medication-plan").json()
    assert [(m["name"], [f["drug_class"] for f in m["findings"]]) for m in meds] == [
        ("diazepam", ["Benzodiazepine"])
    ]
    refused = client.get(f"/api/patients/{other.id}/care-team")
    assert refused.status_code == 404
    assert refused.headers["content-type"].startswith("application/problem+json")
