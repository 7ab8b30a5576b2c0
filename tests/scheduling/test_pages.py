"""The pages and the API over HTTP: booking, the refusal shown, a nurse's day, roles."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ketaclinic.platform.accounts.models import User
from tests.conftest import login
from tests.patients.factories import a_patient
from tests.scheduling.factories import a_chair, a_course, a_team, on_duty

DAY = "2031-03-04"  # a Tuesday well in the future, EST (UTC-5)


def _clinic(db: Session):
    team = a_team(db)
    team.chair = a_chair(db, team.desk, "Chair 1")
    on_duty(db, team.desk, team.nurse, DAY, "08:00", "17:00")
    team.maria = a_patient(db)
    team.john = a_patient(db, given_name="John", family_name="Park", sex="male")
    a_course(db, team.maria.id)
    a_course(db, team.john.id)
    db.commit()
    return team


def _form(team, patient, csrf: str, time: str = "09:00") -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "patient_id": str(patient.id),
        "kind": "infusion",
        "starts_at": f"{DAY}T{time}",
        "chair_id": str(team.chair.id),
        "nurse_user_id": str(team.nurse.user_id),
    }


def test_front_desk_books_and_is_refused_a_double_booking(client: TestClient, db: Session) -> None:
    team = _clinic(db)
    csrf = login(client, "frontdesk")
    page = client.get(f"/schedule/book?patient_id={team.maria.id}&day={DAY}")
    # The IV protocol's default spacing (clinic convention in clinical.dosing).
    assert "at least 48 hours between sessions" in page.text
    assert "70 min: treatment 40 min" in page.text
    done = client.post("/schedule/book", data=_form(team, team.maria, csrf), follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith(f"/schedule?day={DAY}")
    day = client.get(f"/schedule?day={DAY}")
    assert "Lopez, Maria" in day.text or "Maria Lopez" in day.text
    assert "09:00–10:10" in day.text
    refused = client.post("/schedule/book", data=_form(team, team.john, csrf, "09:30"))
    assert refused.status_code == 409
    assert "Chair 1 is already booked from 09:00 to 10:10" in refused.text


def test_a_nurse_sees_the_booking_in_her_day_and_confirms_it(
    client: TestClient, db: Session
) -> None:
    team = _clinic(db)
    desk = TestClient(client.app)
    csrf = login(desk, "frontdesk")
    assert (
        desk.post(
            "/schedule/book", data=_form(team, team.maria, csrf), follow_redirects=False
        ).status_code
        == 303
    )
    nurse_csrf = login(client, "nurse")
    mine = client.get(f"/schedule/my-day?day={DAY}")
    assert "09:00–10:10" in mine.text and "not confirmed" in mine.text
    appointment_id = (
        mine.text.split("/schedule/appointments/", 1)[1].split("/", 1)[0].split('"', 1)[0]
    )
    form = client.get(f"/schedule/appointments/{appointment_id}/confirm")
    assert "ride home" in form.text and "decongestant" not in form.text
    missing = client.post(
        f"/schedule/appointments/{appointment_id}/confirm",
        data={"csrf_token": nurse_csrf, "fasting": "yes"},
    )
    assert missing.status_code == 422
    saved = client.post(
        f"/schedule/appointments/{appointment_id}/confirm",
        data={"csrf_token": nurse_csrf, "fasting": "yes", "ride_home": "yes"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert ">confirmed<" in client.get(f"/schedule/my-day?day={DAY}").text


def test_the_api_refuses_a_double_booking_as_problem_json(client: TestClient, db: Session) -> None:
    team = _clinic(db)
    csrf = login(client, "prescriber")
    body = {
        "patient_id": team.maria.id,
        "kind": "infusion",
        "starts_at": f"{DAY}T09:00",
        "chair_id": team.chair.id,
        "nurse_user_id": team.nurse.user_id,
    }
    made = client.post("/api/scheduling/appointments", json=body, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201
    assert made.json()["starts_at"].startswith("2031-03-04T14:00:00")
    again = client.post(
        "/api/scheduling/appointments",
        json=body | {"patient_id": team.john.id},
        headers={"X-CSRF-Token": csrf},
    )
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["errors"] == {"chair_id": "double booking"}


def test_a_zoned_time_or_unknown_field_is_refused_by_the_api(
    client: TestClient, db: Session
) -> None:
    team = _clinic(db)
    csrf = login(client, "frontdesk")
    body = {"patient_id": team.maria.id, "kind": "consultation", "starts_at": f"{DAY}T09:00+00:00"}
    assert (
        client.post(
            "/api/scheduling/appointments", json=body, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 422
    )
    body = {
        "patient_id": team.maria.id,
        "kind": "consultation",
        "starts_at": f"{DAY}T09:00",
        "length": 5,
    }
    assert (
        client.post(
            "/api/scheduling/appointments", json=body, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 422
    )


def test_a_nurse_cannot_book_and_a_researcher_cannot_see_the_calendar(
    client: TestClient, db: Session
) -> None:
    team = _clinic(db)
    csrf = login(client, "nurse")
    assert client.post("/schedule/book", data=_form(team, team.maria, csrf)).status_code == 403
    assert client.get(f"/schedule?day={DAY}").status_code == 403
    other = TestClient(client.app)
    login(other, "researcher")
    assert other.get("/schedule/my-day").status_code == 403
    assert other.get(f"/api/scheduling/appointments?day={DAY}").status_code == 403


def test_a_bad_day_in_the_address_names_the_field(client: TestClient, db: Session) -> None:
    _clinic(db)
    login(client, "frontdesk")
    response = client.get("/schedule?day=2031-02-30")
    assert response.status_code == 422 and "day must be a date" in response.text


def test_admin_manages_chairs_and_the_rota_through_the_pages(
    client: TestClient, db: Session
) -> None:
    team = _clinic(db)
    csrf = login(client, "admin")
    assert (
        client.post(
            "/schedule/chairs",
            data={"csrf_token": csrf, "name": "Room B", "kind": "room"},
            follow_redirects=False,
        ).status_code
        == 303
    )
    assert (
        client.post(
            f"/schedule/chairs/{team.chair.id}",
            data={"csrf_token": csrf, "active": "false"},
            follow_redirects=False,
        ).status_code
        == 303
    )
    chairs = client.get("/schedule/chairs").text
    assert "Room B" in chairs and "Put back in use" in chairs
    span = {
        "csrf_token": csrf,
        "user_id": str(team.nurse2.user_id),
        "day": DAY,
        "starts": "12:00",
        "ends": "08:00",
    }
    refused = client.post("/schedule/availability", data=span)
    assert refused.status_code == 422 and "the span must end after it starts" in refused.text
    span["ends"] = "18:00"
    assert (
        client.post("/schedule/availability", data=span, follow_redirects=False).status_code == 303
    )
    assert "12:00" in client.get(f"/schedule/availability?start={DAY}").text


def test_the_day_view_shows_the_nurse_a_booking_names_to_a_prescriber_off_the_rota(
    client: TestClient, db: Session
) -> None:
    team = _clinic(db)
    desk = TestClient(client.app)
    csrf = login(desk, "frontdesk")
    booked = desk.post("/schedule/book", data=_form(team, team.maria, csrf), follow_redirects=False)
    assert booked.status_code == 303
    login(client, "prescriber")  # on no rota of their own
    day = client.get(f"/schedule?day={DAY}")
    rota = day.text.split("<h2>On duty</h2>", 1)[1].split("</section>", 1)[0]
    assert "No one is on the duty rota" not in rota
    nurse_name = db.get(User, team.nurse.user_id).full_name
    assert f"{nurse_name}: 08:00–17:00" in rota
    assert "(1 visit today)" in rota
