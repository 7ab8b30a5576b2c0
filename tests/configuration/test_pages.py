from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import login, make_user


def test_the_director_overrides_from_the_page_and_everyone_sees_the_source(
    client: TestClient, db: Session
) -> None:
    make_user(db, ["prescriber", "admin"], username="director")
    db.commit()
    csrf = login(client, "director")
    page = client.get("/clinic/defaults/course.series")
    assert page.status_code == 200 and "convention" in page.text
    refused = client.post(
        "/clinic/defaults/course.series",
        data={
            "csrf_token": csrf,
            "target": "iv_6",
            "field": "sessions",
            "value": "eight",
            "reason": "longer induction",
        },
    )
    assert refused.status_code == 422 and "is not a number" in refused.text
    done = client.post(
        "/clinic/defaults/course.series",
        data={
            "csrf_token": csrf,
            "target": "iv_6",
            "field": "sessions",
            "value": "8",
            "reason": "longer induction",
        },
        follow_redirects=True,
    )
    assert "clinic override by director: longer induction" in done.text


def test_a_plain_prescriber_reads_the_defaults_but_gets_no_override_form(
    client: TestClient, db: Session
) -> None:
    make_user(db, "prescriber")
    db.commit()
    login(client, "prescriber")
    page = client.get("/clinic/defaults/monitoring.limits").text
    assert "Vital-sign alarm limits" in page and "Override</button>" not in page
