from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.candidacy.factories import all_answers, an_intake
from tests.conftest import login, make_user
from tests.patients.factories import a_patient


def _form(csrf: str, **extra: str) -> dict[str, str]:
    data = {"csrf_token": csrf, "route": "intravenous", "taken_on": "2026-01-10"}
    for key, answer in all_answers().items():
        if answer is None:
            data[f"finding.{key}"] = ""  # left blank: the service fills it in
        elif isinstance(answer, bool):
            data[f"finding.{key}"] = "yes" if answer else "no"
        else:
            data[f"finding.{key}"] = str(answer)
    data.update(extra)
    return data


def test_the_intake_form_asks_every_rule_for_the_route(client: TestClient, db: Session) -> None:
    patient = a_patient(db)
    make_user(db, "nurse")
    db.commit()
    login(client, "nurse")
    page = client.get(f"/patients/{patient.id}/intake/new")
    assert page.status_code == 200
    assert "Is there a pregnancy, or could there be one?" in page.text
    assert 'name="finding.ptsd"' in page.text
    intranasal = client.get(f"/patients/{patient.id}/intake/new?route=intranasal")
    assert 'name="finding.ptsd"' not in intranasal.text


def test_a_missing_answer_re_renders_the_form_with_the_field_error_and_keeps_the_input(
    client: TestClient, db: Session
) -> None:
    patient = a_patient(db)
    make_user(db, "nurse")
    db.commit()
    csrf = login(client, "nurse")
    data = _form(csrf, heart_rate="71", medications="sertraline 50 mg")
    del data["finding.pregnancy"]
    response = client.post(f"/patients/{patient.id}/intake", data=data)
    assert response.status_code == 422
    assert 'id="e-finding.pregnancy"' in response.text
    assert "sertraline 50 mg" in response.text and 'value="71"' in response.text
    bad_trial = _form(csrf, **{"trial-0-drug": "sertraline", "trial-0-duration_weeks": "-3"})
    response = client.post(f"/patients/{patient.id}/intake", data=bad_trial)
    assert response.status_code == 422 and "trial-0-duration_weeks" in response.text


def test_an_intake_without_the_csrf_token_is_refused(client: TestClient, db: Session) -> None:
    patient = a_patient(db)
    make_user(db, "nurse")
    db.commit()
    csrf = login(client, "nurse")
    data = _form(csrf)
    del data["csrf_token"]
    assert client.post(f"/patients/{patient.id}/intake", data=data).status_code == 403


def test_a_recorded_intake_leads_to_the_verdict_and_a_prescriber_confirms_it(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    patient = a_patient(db)
    make_user(db, "nurse")
    make_user(db, "prescriber")
    db.commit()
    csrf = login(client, "nurse")
    response = client.post(
        f"/patients/{patient.id}/intake",
        data=_form(csrf, medications="lorazepam 1 mg\nzzzfoo"),
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    assert "Eligible" in page.text and "Benzodiazepine" in page.text and "zzzfoo" in page.text
    assert "No baseline scores recorded" in page.text or "Baseline scales" in page.text
    assert "questionnaires/new?instrument=phq9&amp;context=baseline" in page.text
    assert "Confirm:" not in page.text  # nurses do not decide
    client.post("/logout", data={"csrf_token": csrf})
    csrf = login(client, "prescriber")
    page = client.get(f"/patients/{patient.id}/candidacy")
    intake_id = page.text.split('name="intake_id" value="', 1)[1].split('"', 1)[0]
    refused = client.post(
        f"/patients/{patient.id}/candidacy/decision",
        data={"csrf_token": csrf, "intake_id": intake_id, "decision": "override"},
    )
    assert refused.status_code == 422 and "choose the final verdict" in refused.text
    done = client.post(
        f"/patients/{patient.id}/candidacy/decision",
        data={"csrf_token": csrf, "intake_id": intake_id, "decision": "confirm"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    # The chart section alone (the whole chart also holds other areas' sections).
    from ketaclinic.candidacy.pages import CHART_SECTIONS
    from tests.candidacy.factories import PRESCRIBER

    section = CHART_SECTIONS[0]
    db.expire_all()
    html = app.state.templates.get_template(section.template).render(
        data=section.load(db, PRESCRIBER, patient), patient=patient
    )
    assert section.title == "Candidacy"
    assert "confirmed by prescriber" in html and "Eligible" in html


def test_front_desk_is_refused_the_candidacy_page(client: TestClient, db: Session) -> None:
    patient = a_patient(db)
    an_intake(db, patient.id)
    make_user(db, "front_desk")
    db.commit()
    login(client, "frontdesk")
    assert client.get(f"/patients/{patient.id}/candidacy").status_code == 403
    assert client.get(f"/patients/{patient.id}/intake/new").status_code == 403
