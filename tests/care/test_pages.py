"""The care pages over HTTP: the therapist's wall, a signed note through the form, the
decision screen, the next order showing a medication change, the patient's plan."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.care import service
from ketaclinic.care.models import CourseDecision, TherapySession
from ketaclinic.orders.models import Order
from ketaclinic.outcomes import service as outcomes
from tests.candidacy.factories import cleared_patient
from tests.care.factories import a_patient_on_course, a_room, a_user, on_team
from tests.conftest import PASSWORD, committed, login, make_user
from tests.orders.factories import signer
from tests.outcomes.helpers import phq9


def test_a_therapist_sees_only_their_care_team_patients(client: TestClient, db: Session) -> None:
    therapist = a_user(db, "therapist", "therapist.nguyen")
    mine, _ = a_patient_on_course(db, given_name="Ana", family_name="Mine")
    other, _ = a_patient_on_course(db, given_name="Ben", family_name="Other")
    on_team(db, mine, therapist, "therapist")
    nurse = a_user(db, "nurse", "nurse.n")
    outcomes.record_response(
        db, actor=nurse, patient_id=mine.id, instrument_id="phq9", answers=phq9(12)
    )
    db.commit()
    login(client, "therapist.nguyen")
    listed = client.get("/care/patients")
    assert listed.status_code == 200
    assert "Mine, Ana" in listed.text and "Other, Ben" not in listed.text
    assert "Other, Ben" not in client.get("/care/patients?q=Ben").text
    plan = client.get(f"/care/patients/{mine.id}")
    assert plan.status_code == 200 and "phq9: 12 moderate" in plan.text
    assert client.get(f"/care/patients/{other.id}").status_code == 404
    # The clinic-wide chart and register are not the therapist's.
    assert client.get(f"/patients/{mine.id}").status_code == 403
    assert client.get("/patients").status_code == 403
    assert "Mine, Ana" in client.get("/").text


def test_a_therapist_writes_a_preparation_note_through_the_form(
    client: TestClient, db: Session
) -> None:
    therapist = a_user(db, "therapist", "therapist.nguyen")
    patient, _ = a_patient_on_course(db)
    on_team(db, patient, therapist, "therapist")
    room = a_room(db)
    db.rollback()
    csrf = login(client, "therapist.nguyen")
    page = client.get(f"/care/patients/{patient.id}")
    assert "Book the therapy session" in page.text
    refused = client.post(
        f"/care/patients/{patient.id}/therapy",
        data={
            "csrf_token": csrf,
            "phase": "preparation",
            "therapist_user_id": therapist.user_id,
            "starts_at": "2099-03-02T10:00",
        },
    )
    assert refused.status_code == 422
    assert 'aria-invalid="true" aria-describedby="e-room_id"' in refused.text
    booked = client.post(
        f"/care/patients/{patient.id}/therapy",
        data={
            "csrf_token": csrf,
            "phase": "preparation",
            "therapist_user_id": therapist.user_id,
            "starts_at": "2099-03-02T10:00",
            "room_id": room.id,
        },
        follow_redirects=False,
    )
    assert booked.status_code == 303
    db.expire_all()
    session = db.scalar(select(TherapySession))
    assert session is not None
    db.rollback()
    form = {"csrf_token": csrf, "goals": "less stuck", "risk_review": "no ideation"}
    wrong = client.post(f"/care/therapy/{session.id}/note", data={**form, "password": "nope"})
    assert wrong.status_code == 422 and 'aria-describedby="e-password"' in wrong.text
    signed = client.post(
        f"/care/therapy/{session.id}/note",
        data={**form, "password": PASSWORD},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    shown = client.get(f"/care/therapy/{session.id}")
    assert "less stuck" in shown.text and service.THERAPY_NOTE_MEANING in shown.text
    plan = client.get(f"/care/patients/{patient.id}")
    assert "to write" not in plan.text and "signed by Therapist.Nguyen" in plan.text


def test_the_next_order_shows_a_benzodiazepine_started_mid_course(
    client: TestClient, db: Session
) -> None:
    patient, course = a_patient_on_course(db)
    make_user(db, "prescriber", username="dr.page")
    db.rollback()
    csrf = login(client, "dr.page")
    added = client.post(
        f"/care/patients/{patient.id}/medications",
        data={
            "csrf_token": csrf,
            "name": "clonazepam",
            "kind": "psychiatric",
            "prescriber": "Dr. Outside",
            "started_on": "2026-03-01",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    decided = client.post(
        f"/care/courses/{course.id}/decision",
        data={
            "csrf_token": csrf,
            "choice": "extend",
            "extra_sessions": "2",
            "reason": "response without remission",
        },
        follow_redirects=False,
    )
    assert decided.status_code == 303
    db.expire_all()
    draft = db.scalar(select(Order).where(Order.status == "draft"))
    assert draft is not None and decided.headers["location"] == f"/orders/{draft.id}"
    db.rollback()
    order_page = client.get(f"/orders/{draft.id}")
    assert "Medication changes since the current order" in order_page.text
    assert "clonazepam" in order_page.text and "Benzodiazepine" in order_page.text
    screen = client.get(f"/care/courses/{course.id}/decision")
    assert "Extend the induction" in screen.text and "response without remission" in screen.text
    # The form's bounds are the planning limits (course.planning_limits, 12 by default).
    assert 'name="extra_sessions"' in screen.text and 'min="1" max="12"' in screen.text
    assert screen.text.count('min="0" max="12"') == 3


def test_a_decision_without_a_reason_is_refused_at_the_field(
    client: TestClient, db: Session
) -> None:
    _, course = a_patient_on_course(db)
    make_user(db, "prescriber", username="dr.page")
    db.rollback()
    csrf = login(client, "dr.page")
    refused = client.post(
        f"/care/courses/{course.id}/decision",
        data={"csrf_token": csrf, "choice": "maintenance", "reason": ""},
    )
    assert refused.status_code == 422
    assert 'aria-describedby="e-reason"' in refused.text
    db.expire_all()
    assert db.scalar(select(CourseDecision)) is None


def test_a_switch_the_candidacy_does_not_cover_sends_the_prescriber_to_evaluate_it(
    client: TestClient, db: Session
) -> None:
    patient, course = a_patient_on_course(db)
    # Plain ids: reading an expired row later would open a transaction of the test's own
    # (on PostgreSQL a savepoint) that the request's writes land inside.
    patient_id, course_id = patient.id, course.id
    make_user(db, "prescriber", username="dr.page")
    db.rollback()
    csrf = login(client, "dr.page")
    form = {
        "csrf_token": csrf,
        "choice": "switch_route",
        "protocol_id": "in_esketamine",
        "reason": "IV infusions not tolerated",
    }
    refused = client.post(f"/care/courses/{course_id}/decision", data=form)
    assert refused.status_code == 422
    assert "the course is not switched" in refused.text
    link = f'href="/patients/{patient_id}/intake/new?route=intranasal" id="evaluate-candidacy"'
    assert link in refused.text
    db.expire_all()
    assert db.scalar(select(CourseDecision)) is None
    assert db.scalars(select(Order).where(Order.status == "draft")).first() is None

    _cleared_for(db, patient_id, "intranasal")
    switched = client.post(f"/care/courses/{course_id}/decision", data=form, follow_redirects=False)
    assert switched.status_code == 303
    db.rollback()
    draft = db.scalars(select(Order).where(Order.status == "draft")).one()
    assert draft.protocol_id == "in_esketamine" and draft.course_id != course_id
    assert switched.headers["location"] == f"/orders/{draft.id}"


@committed
def _cleared_for(db: Session, patient_id: int, route: str) -> None:
    cleared_patient(db, patient_id, route=route)


@committed
def _patient_login(db: Session, patient_id: int) -> None:
    make_user(db, "patient", username="pat", patient_id=patient_id)


def test_the_patient_sees_the_plan_and_asks_for_a_booster(client: TestClient, db: Session) -> None:
    patient, course = a_patient_on_course(db)
    _patient_login(db, patient.id)
    service.decide(
        db,
        actor=signer(db),
        course_id=course.id,
        choice="maintenance",
        reason="remission",
        schedule_id="iv_taper",
    )
    db.commit()
    csrf = login(client, "pat")
    page = client.get("/portal/plan")
    assert page.status_code == 200
    assert "0 done, 12 still planned." in page.text
    assert "(booster)" in page.text
    asked = client.post(
        "/portal/booster", data={"csrf_token": csrf, "note": "hard week"}, follow_redirects=False
    )
    assert asked.status_code == 303
    assert "Your request is with your prescriber." in client.get("/portal/plan").text
    again = client.post("/portal/booster", data={"csrf_token": csrf})
    assert again.status_code == 409


def test_the_chart_shows_the_care_team(client: TestClient, db: Session) -> None:
    primary = a_user(db, "prescriber", "dr.primary")
    patient, _ = a_patient_on_course(db)
    on_team(db, patient, primary, "prescriber", primary=True)
    db.rollback()
    login(client, "dr.primary")
    chart = client.get(f"/patients/{patient.id}")
    assert chart.status_code == 200
    assert "(primary clinician)" in chart.text and "Care plan" in chart.text
