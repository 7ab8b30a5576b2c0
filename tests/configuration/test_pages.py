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


def test_the_director_ranks_a_monitor_code_from_the_page_and_the_decoder_takes_it(
    client: TestClient, db: Session
) -> None:
    from ketaclinic.clinical.codes import mdc
    from ketaclinic.configuration.tables import editable_fields
    from ketaclinic.interop import service

    assert editable_fields(mdc.MDC["*:149530"])["priority"] is int
    make_user(db, ["prescriber", "admin"], username="director")
    db.commit()
    csrf = login(client, "director")
    page = client.get("/clinic/defaults/codes.mdc")
    assert page.status_code == 200
    assert "*:151578" in page.text and "<td>priority</td>" in page.text
    form = {"csrf_token": csrf, "target": "*:149530", "field": "priority", "reason": "our ward"}
    refused = client.post("/clinic/defaults/codes.mdc", data={**form, "value": "1.5"})
    assert refused.status_code == 422 and "a whole number is needed" in refused.text
    done = client.post(
        "/clinic/defaults/codes.mdc", data={**form, "value": "0"}, follow_redirects=True
    )
    assert done.status_code == 200
    assert service.codebook(db).of_model("*")[149530].priority == 0
