"""POST /fhir/QuestionnaireResponse: scored as a portal answer, stored per item, its
screening Observations served, an alert raised on a suicidality signal; refusals as
OperationOutcomes and nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.outcomes.models import QuestionnaireResponse, SuicidalityAlert
from tests.interop.fhir.conftest import Charted
from tests.interop.fhir.validate import validated


def _phq9(patient_id: int, answers: list[int], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "urn:ketaclinic:questionnaire:phq9",
        "status": "completed",
        "subject": {"reference": f"Patient/{patient_id}"},
        "authored": "2026-03-11T09:30:00+00:00",
        "item": [
            {
                "linkId": f"item{n}",
                "answer": [
                    {"valueCoding": {"system": "urn:ketaclinic:answers:phq9", "code": str(v)}}
                ],
            }
            for n, v in enumerate(answers, start=1)
        ],
    }
    body.update(extra)
    return body


def _post(client: TestClient, charted: Charted, body: Any, role: str = "nurse") -> Any:
    return client.post(
        "/fhir/QuestionnaireResponse",
        json=body,
        headers={**charted.headers(role), "Content-Type": "application/fhir+json"},
    )


def test_a_posted_phq9_is_scored_stored_and_served_back(
    client: TestClient, charted: Charted
) -> None:
    response = _post(client, charted, _phq9(charted.patient_id, [1, 1, 1, 1, 1, 1, 1, 1, 0]))
    assert response.status_code == 201, response.text
    stored = validated(response.json())
    assert response.headers["location"].endswith(f"/fhir/QuestionnaireResponse/{stored['id']}")
    assert len(stored["item"]) == 9
    total = client.get(
        f"/fhir/Observation/qr-{stored['id']}-total", headers=charted.headers("nurse")
    )
    assert total.status_code == 200
    assert validated(total.json())["valueInteger"] == 8  # eight ones and a zero


def test_a_suicidality_answer_raises_an_alert_as_a_link_would(
    client: TestClient, charted: Charted, db: Session
) -> None:
    before = db.scalar(select(func.count(SuicidalityAlert.id)))
    db.rollback()
    response = _post(
        client, charted, _phq9(charted.patient_id, [0, 0, 0, 0, 0, 0, 0, 0, 2]), role="portal"
    )
    assert response.status_code == 201, response.text
    assert db.scalar(select(func.count(SuicidalityAlert.id))) == (before or 0) + 1


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"questionnaire": "urn:ketaclinic:questionnaire:beck"}, 422),
        ({"status": "in-progress"}, 422),
        ({"subject": {"reference": "Group/1"}}, 400),
        ({"resourceType": "Observation"}, 400),
        ({"item": [{"linkId": "item1", "answer": [{"valueCoding": {"code": "7"}}]}]}, 422),
        ({"authored": "yesterday"}, 400),
        ({"subject": {"reference": "Patient/999999"}}, 404),
    ],
)
def test_a_bad_response_is_refused_and_nothing_is_stored(
    client: TestClient, charted: Charted, db: Session, change: dict[str, Any], status: int
) -> None:
    before = db.scalar(select(func.count(QuestionnaireResponse.id)))
    db.rollback()
    body = _phq9(charted.patient_id, [1] * 9)
    body.update(change)
    response = _post(client, charted, body)
    assert response.status_code == status, response.text
    assert validated(response.json())["resourceType"] == "OperationOutcome"
    assert db.scalar(select(func.count(QuestionnaireResponse.id))) == before


def test_a_patient_cannot_post_for_someone_else_nor_send_other_than_fhir_json(
    client: TestClient, charted: Charted
) -> None:
    other = _post(client, charted, _phq9(charted.other_id, [1] * 9), role="portal")
    assert other.status_code == 404
    text = client.post(
        "/fhir/QuestionnaireResponse",
        content=b"<QuestionnaireResponse/>",
        headers={**charted.headers("nurse"), "Content-Type": "application/fhir+xml"},
    )
    assert text.status_code == 415
    assert validated(text.json())["issue"][0]["code"] == "not-supported"
