"""A self-screen that reports current suicidal thoughts: the person sees the crisis
resources at once (988 Suicide & Crisis Lifeline, 911), and the clinicians get a
suicidality alert, shown on every page's banner and in the alert list, escalated like a
patient's (60 min by default) when nobody acknowledges it."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.outcomes import service as outcomes
from ketaclinic.outcomes.models import OutboxMessage, SuicidalityAlert
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.public.models import IntakeLead
from tests.conftest import login, make_user
from tests.public.helpers import a_lead, answers, form_of, public_csrf


def _send(client: TestClient, **changes: object) -> object:
    csrf = public_csrf(client)
    data = {
        "csrf_token": csrf,
        "route": "intravenous",
        **form_of(answers(**changes)),  # type: ignore[arg-type]
        "name": "Sam Doe",
        "phone": "+1 555 123 4567",
        "consent": "yes",
    }
    return client.post("/self-screen/send", data=data, follow_redirects=False)


def test_suicidal_thoughts_on_a_sent_self_screen_alert_the_clinicians(
    client: TestClient, db: Session
) -> None:
    make_user(db, "prescriber", username="dr.rivera")
    make_user(db, "nurse")
    response = _send(client, suicidal_ideation=True)
    assert response.status_code == 303  # type: ignore[attr-defined]
    where = response.headers["location"]  # type: ignore[attr-defined]
    assert where == "/self-screen/sent?urgent=1"
    sent = client.get(where).text
    crisis = sent.index("Please do not wait for an appointment")
    assert crisis < sent.index("Thank you: your answers were sent")
    assert 'href="tel:988"' in sent and "988 Suicide &amp; Crisis Lifeline" in sent

    db.commit()
    lead = db.scalars(select(IntakeLead)).one()
    alert = db.scalars(select(SuicidalityAlert)).one()
    assert (alert.lead_id, alert.patient_id, alert.source, alert.status) == (
        lead.id,
        None,
        "self_screen",
        "open",
    )
    assert alert.notified == ["dr.rivera"] and alert.escalate_after_min == 60
    notices = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "alert")).all()
    assert [m.recipient_username for m in notices] == ["dr.rivera"]
    assert "Sam Doe" not in notices[0].body
    assert "Suicidality alert" in lead.events[-1].note
    raised = db.scalars(select(AuditEvent).where(AuditEvent.action == "alert.raise")).all()
    assert [r.object_id for r in raised] == [str(alert.id)]

    csrf = login(client, "nurse")
    home = client.get("/").text
    assert "1 open suicidality alert" in home
    queue = client.get("/outcomes/alerts").text
    assert f'href="/leads/{lead.id}"' in queue and f"Self-screen lead {lead.id}" in queue
    done = client.post(
        f"/outcomes/alerts/{alert.id}/acknowledge",
        data={"csrf_token": csrf, "action": "crisis_line_given", "note": "phoned, 988 given"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    db.commit()
    db.expire_all()
    assert db.get(SuicidalityAlert, alert.id).status == "acknowledged"  # type: ignore[union-attr]
    assert "open suicidality alert" not in client.get("/").text
    listed = client.get("/outcomes/alerts").text
    assert f"Self-screen lead {lead.id}" in listed  # among the acknowledged


def test_a_lead_alert_nobody_acknowledges_escalates_like_a_patients(db: Session) -> None:
    make_user(db, "prescriber", username="dr.rivera")
    make_user(db, ["prescriber", "admin"], username="dr.chen")
    lead = a_lead(db, suicidal_ideation=True)
    alert = db.scalars(select(SuicidalityAlert).where(SuicidalityAlert.lead_id == lead.id)).one()
    assert outcomes.escalate_due(db, now=alert.raised_at + timedelta(minutes=59)) == []
    escalated = outcomes.escalate_due(db, now=alert.raised_at + timedelta(minutes=60))
    assert [a.id for a in escalated] == [alert.id]
    assert alert.escalated_to == ["dr.chen", "dr.rivera"]
    sent = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "alert_escalation")).all()
    assert sorted(m.recipient_username or "" for m in sent) == ["dr.chen", "dr.rivera"]


def test_a_self_screen_without_suicidal_thoughts_raises_no_alert(
    client: TestClient, db: Session
) -> None:
    response = _send(client)
    assert response.headers["location"] == "/self-screen/sent"  # type: ignore[attr-defined]
    assert "Please do not wait" not in client.get("/self-screen/sent").text
    db.commit()
    assert db.scalars(select(SuicidalityAlert)).all() == []


def test_the_alert_api_names_the_lead(client: TestClient, db: Session) -> None:
    make_user(db, "prescriber")
    lead = a_lead(db, suicidal_ideation=True)
    db.commit()
    headers = {"X-CSRF-Token": login(client, "prescriber")}
    body = client.get("/api/outcomes/alerts", headers=headers).json()
    assert [(a["lead_id"], a["patient_id"], a["source"]) for a in body] == [
        (lead.id, None, "self_screen")
    ]


def test_the_alert_follows_the_lead_onto_the_new_patients_chart(db: Session) -> None:
    from datetime import date

    from ketaclinic.patients.schemas import PatientIn
    from ketaclinic.platform.actors import Actor
    from ketaclinic.platform.roles import Role
    from ketaclinic.public import service as public

    lead = a_lead(db, name="Robin Vale", suicidal_ideation=True)
    desk = Actor(user_id=None, username="frontdesk", roles=frozenset({Role.front_desk}))
    data = PatientIn(
        given_name="Robin", family_name="Vale", date_of_birth=date(1985, 3, 2), sex="female"
    )
    converted = public.convert_lead(db, actor=desk, lead_id=lead.id, data=data, note="booked")
    alert = db.scalars(select(SuicidalityAlert).where(SuicidalityAlert.lead_id == lead.id)).one()
    assert alert.patient_id == converted.patient_id
    assert outcomes.has_open_alert(db, patient_id=converted.patient_id or 0)  # holds discharge
    attached = db.scalars(select(AuditEvent).where(AuditEvent.action == "alert.attach")).one()
    assert attached.patient_id == converted.patient_id
