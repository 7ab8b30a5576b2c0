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


def _vital(n: int, code: str, when: str, **value: object) -> dict[str, object]:
    return {
        "fullUrl": f"urn:uuid:5e1f0000-0000-4000-8000-00000000000{n}",
        "resource": {
            "resourceType": "Observation",
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "vital-signs",
                        }
                    ]
                }
            ],
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": {"reference": "urn:uuid:5e1f0000-0000-4000-8000-000000000001"},
            "effectiveDateTime": when,
            **value,
        },
    }


def _pressure(n: int, when: str, systolic: int, diastolic: int) -> dict[str, object]:
    def part(code: str, value: int) -> dict[str, object]:
        return {
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "valueQuantity": {
                "value": value,
                "unit": "mmHg",
                "system": "http://unitsofmeasure.org",
                "code": "mm[Hg]",
            },
        }

    return _vital(
        n, "85354-9", when, component=[part("8480-6", systolic), part("8462-4", diastolic)]
    )


def _allergy(
    n: int, substance: str, when: str, *, verification: str = "", clinical: str = ""
) -> dict[str, object]:
    resource: dict[str, object] = {
        "resourceType": "AllergyIntolerance",
        "patient": {"reference": "urn:uuid:5e1f0000-0000-4000-8000-000000000001"},
        "code": {"text": substance},
        "recordedDate": when,
    }
    if verification:
        resource["verificationStatus"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                    "code": verification,
                }
            ]
        }
    if clinical:
        resource["clinicalStatus"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                    "code": clinical,
                }
            ]
        }
    return {"fullUrl": f"urn:uuid:5e1f0000-0000-4000-8000-00000000000{n}", "resource": resource}


def test_a_new_intake_is_pre_filled_from_imported_facts_each_marked_with_its_source(
    client: TestClient, db: Session
) -> None:
    import json

    from ketaclinic.candidacy.models import Intake
    from ketaclinic.platform.accounts import service as accounts
    from tests.conftest import TEST_ACTOR

    patient = a_patient(db, sex="female")
    nurse = make_user(db, "nurse")
    token = accounts.create_api_token(db, actor=TEST_ACTOR, user_id=nurse.id, name="fhir")
    db.commit()
    subject = {"reference": "urn:uuid:5e1f0000-0000-4000-8000-000000000001"}
    bundle = {
        "resourceType": "Bundle",
        "id": "referral-42",
        "type": "collection",
        "entry": [
            {
                "fullUrl": subject["reference"],
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": "urn:ketaclinic:mrn", "value": patient.mrn}],
                    "name": [{"family": patient.family_name, "given": [patient.given_name]}],
                    "gender": "female",
                    "birthDate": patient.date_of_birth.isoformat(),
                },
            },
            {
                "fullUrl": "urn:uuid:5e1f0000-0000-4000-8000-000000000002",
                "resource": {
                    "resourceType": "Condition",
                    "subject": subject,
                    "code": {
                        "coding": [
                            {
                                "system": "http://hl7.org/fhir/sid/icd-10-cm",
                                "code": "F43.10",
                                "display": "Post-traumatic stress disorder, unspecified",
                            }
                        ]
                    },
                    "recordedDate": "2025-11-03",
                },
            },
            {
                "fullUrl": "urn:uuid:5e1f0000-0000-4000-8000-000000000003",
                "resource": {
                    "resourceType": "MedicationStatement",
                    "status": "active",
                    "subject": subject,
                    "medicationCodeableConcept": {"text": "Sertraline 100 mg daily"},
                    "dateAsserted": "2025-11-03",
                },
            },
            _allergy(7, "Penicillin", "2025-11-03"),
            _allergy(8, "Latex", "2025-11-03", verification="refuted"),
            _allergy(9, "Codeine", "2025-11-03", clinical="resolved"),
            _pressure(4, "2025-10-01T09:00:00Z", 150, 95),
            _pressure(5, "2025-11-03T09:00:00Z", 132, 84),
            _vital(
                6,
                "29463-7",
                "2025-11-03T09:05:00Z",
                valueQuantity={
                    "value": 81.5,
                    "unit": "kg",
                    "system": "http://unitsofmeasure.org",
                    "code": "kg",
                },
            ),
        ],
    }
    done = client.post(
        "/fhir",
        content=json.dumps(bundle).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"},
    )
    assert done.status_code == 200, done.text
    login(client, "nurse")
    page = client.get(f"/patients/{patient.id}/intake/new")
    assert page.status_code == 200
    html = page.text
    # The latest blood pressure (3 November), not the older one; the weight; the drug.
    assert 'name="bp_systolic" type="number" value="132"' in html
    assert 'name="bp_diastolic" type="number" value="84"' in html
    assert 'name="weight_kg" type="number" value="81.5"' in html
    assert ">Sertraline 100 mg daily</textarea>" in html
    # The current allergy; not one the sender refuted, nor one resolved.
    assert 'name="allergies" rows="3">Penicillin</textarea>' in html
    assert "Latex" not in html and "Codeine" not in html
    assert 'name="finding.ptsd" value="yes" checked' in html
    for field in (
        "bp_systolic",
        "bp_diastolic",
        "weight_kg",
        "medications",
        "allergies",
        "finding.ptsd",
    ):
        assert f'id="i-{field}">imported from referral-42, 2025-11-03</p>' in html, field
    assert "Post-traumatic stress disorder" in html and "(F43.10)" in html
    # Nothing is saved until the clinician submits the form.
    assert db.query(Intake).filter(Intake.patient_id == patient.id).count() == 0
    db.rollback()


def test_with_nothing_imported_the_intake_shows_no_import_mark(
    client: TestClient, db: Session
) -> None:
    patient = a_patient(db)
    make_user(db, "nurse")
    db.commit()
    login(client, "nurse")
    page = client.get(f"/patients/{patient.id}/intake/new")
    assert page.status_code == 200
    assert 'class="imported' not in page.text  # nothing imported: no mark
