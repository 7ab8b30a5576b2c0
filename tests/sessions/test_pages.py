"""The session page as the nurse sees it: what its forms ask for and what they refuse."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.candidacy.factories import an_intake
from tests.conftest import login
from tests.forms import marked, unmarked
from tests.sessions.factories import iv_order, male_patient, staff


def open_session(client: TestClient, db: Session) -> tuple[str, str, int]:
    staff(db)
    patient = male_patient(db)
    iv_order(db, patient)
    db.commit()
    csrf = login(client, "nurse")
    opened = client.post(
        f"/patients/{patient.id}/sessions", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert opened.status_code == 303
    return opened.headers["location"], csrf, patient.id


def test_every_alarm_asks_what_was_done_before_it_is_acknowledged(
    client: TestClient, db: Session
) -> None:
    url, csrf, _ = open_session(client, db)
    answers = {"identity": "yes", "consent": "yes", "fasting": "yes", "driver": "yes"}
    client.post(url + "/checklist", data={"csrf_token": csrf, **answers})
    reading = {"csrf_token": csrf, "heart_rate": "72", "systolic_bp": "128"}
    reading |= {"diastolic_bp": "82", "spo2": "98", "respiratory_rate": "14"}
    assert client.post(url + "/vitals", data=reading, follow_redirects=False).status_code == 303
    started = client.post(url + "/infusion", data={"csrf_token": csrf, "kind": "start"})
    assert "running" in started.text
    fast = reading | {"heart_rate": "130"}
    assert client.post(url + "/vitals", data=fast, follow_redirects=False).status_code == 303
    page = client.get(url).text
    assert "WARN" in page
    fields = re.findall(r'<input id="ack-\d+" name="note"[^>]*>', page)
    assert fields and all('required minlength="3"' in field for field in fields)
    boxes = re.findall(r'<input id="ack-(\d+)" name="note"', page)
    refused = client.post(f"{url}/alarms/{boxes[0]}/acknowledge", data={"csrf_token": csrf})
    assert refused.status_code == 422
    assert "say what was done about this warn alarm" in refused.text
    done = client.post(
        f"{url}/alarms/{boxes[0]}/acknowledge",
        data={"csrf_token": csrf, "note": "rested five minutes, rechecked"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "rested five minutes, rechecked" in client.get(url).text


def test_the_assessments_start_blank_and_each_item_must_be_answered(
    client: TestClient, db: Session
) -> None:
    url, csrf, _ = open_session(client, db)
    page = client.get(url).text
    for name in ("moaas_rating", "aldrete_activity", "aldrete_oxygen_saturation"):
        select = page.split(f'<select id="{name}"', 1)[1].split("</select>", 1)[0]
        assert '<option value="" selected>— choose —</option>' in select
        assert select.count("selected") == 1
    form = {"csrf_token": csrf, "instrument_id": "aldrete", "aldrete_activity": "2"}
    form |= {"aldrete_respiration": "2", "aldrete_circulation": "2", "aldrete_consciousness": "2"}
    refused = client.post(url + "/scores", data=form)
    assert refused.status_code == 422
    assert "answer Oxygen saturation (every item is required)" in refused.text
    done = client.post(
        url + "/scores", data=form | {"aldrete_oxygen_saturation": "2"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert "ALDRETE total 10" in client.get(url).text


def test_the_chart_header_and_the_session_screen_show_medications_allergies_and_interactions(
    client: TestClient, db: Session
) -> None:
    url, _, patient_id = open_session(client, db)
    an_intake(
        db, patient_id, medications=["lorazepam 1 mg", "sertraline 50 mg"], allergies=["latex"]
    )
    for page in (client.get(url).text, client.get(f"/patients/{patient_id}").text):
        header = page.split('<div class="medications"', 1)[1].split("</div>", 1)[0]
        assert "lorazepam 1 mg, sertraline 50 mg" in header
        assert '<span id="allergy-list">latex</span>' in header
        assert "Interaction (moderate):</strong> lorazepam 1 mg (Benzodiazepine)" in header
        assert "Andrashko V et al., Front Psychiatry 2020;11:844" in header
        assert "Interaction (info):</strong> sertraline 50 mg (SSRI)" in header


def test_without_an_intake_the_session_screen_says_medications_are_not_recorded(
    client: TestClient, db: Session
) -> None:
    url, _, _ = open_session(client, db)
    assert "No intake on file: medications and allergies not recorded." in client.get(url).text


def test_a_vital_sign_typed_wrong_is_marked_and_the_other_readings_stay_typed(
    client: TestClient, db: Session
) -> None:
    url, csrf, _ = open_session(client, db)
    reading = {"csrf_token": csrf, "heart_rate": "7O", "systolic_bp": "128"}
    reading |= {"diastolic_bp": "82", "spo2": "98", "respiratory_rate": "14"}
    refused = client.post(url + "/vitals", data=reading)
    assert refused.status_code == 422
    heart_rate = marked(refused.text, "heart_rate")
    assert heart_rate.control.attrs["id"] == "v-hr" and heart_rate.value == "7O"
    assert "not a whole number" in heart_rate.message
    assert unmarked(refused.text, "systolic_bp") and 'value="128"' in refused.text
    assert '<span id="latest-time">none yet</span>' in client.get(url).text  # nothing charted
    late = client.post(url + "/vitals", data=reading | {"heart_rate": "72", "taken_at": "9h"})
    assert marked(late.text, "taken_at").value == "9h"


def test_a_reading_marked_in_error_takes_the_alarm_it_alone_raised_off_the_screen(
    client: TestClient, db: Session
) -> None:
    url, csrf, _ = open_session(client, db)
    answers = {"identity": "yes", "consent": "yes", "fasting": "yes", "driver": "yes"}
    client.post(url + "/checklist", data={"csrf_token": csrf, **answers})
    reading = {"csrf_token": csrf, "heart_rate": "72", "systolic_bp": "128"}
    reading |= {"diastolic_bp": "82", "spo2": "98", "respiratory_rate": "14"}
    client.post(url + "/vitals", data=reading, follow_redirects=False)
    client.post(url + "/infusion", data={"csrf_token": csrf, "kind": "start"})
    client.post(url + "/vitals", data=reading | {"heart_rate": "150"}, follow_redirects=False)
    page = client.get(url).text
    assert "No alarm open." not in page and "Heart rate 150" in page
    forms = re.findall(r'action="(/sessions/\d+/vitals/(\d+)/error)"', page)
    newest = max(forms, key=lambda f: int(f[1]))[0]  # the 150
    marked_in_error = client.post(
        newest, data={"csrf_token": csrf, "reason": "probe moved"}, follow_redirects=False
    )
    assert marked_in_error.status_code == 303
    page = client.get(url).text
    assert "No alarm open." in page
    assert "in error: probe moved" in page
