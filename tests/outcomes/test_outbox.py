"""Messages that reach people, end to end through the outbox: e-mail through a real
local SMTP server, texts through a provider's API shape, consent, backoff, the
delivery-failures list, retry and cancel, reminders until a questionnaire is answered."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.clinical import instruments
from ketaclinic.outcomes import service
from ketaclinic.outcomes.models import OutboxMessage, QuestionnaireRequest
from ketaclinic.outcomes.service import MemoryTransport, outbox, texts
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Forbidden, Invalid
from ketaclinic.platform.roles import Role
from ketaclinic.platform.settings import get_settings
from tests.outcomes.helpers import a_patient, phq9, staff
from tests.platform.messaging.servers import Provider, free_port, smtp_server, text_provider

PUBLIC = "https://portal.clinic.test"
CLINIC_ZONE = "America/Phoenix"
DESK = Actor(user_id=None, username="desk", roles=frozenset({Role.front_desk}))
LINK = re.compile(re.escape(PUBLIC) + r"/q/([A-Za-z0-9_\-]+)")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Settings from KETACLINIC_* variables, re-read after each change."""
    monkeypatch.setenv("KETACLINIC_PUBLIC_URL", PUBLIC)
    # A zone without daylight saving time: local hours computed by hand hold all year.
    monkeypatch.setenv("KETACLINIC_TIME_ZONE", CLINIC_ZONE)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _smtp(env: pytest.MonkeyPatch, port: int) -> None:
    env.setenv("KETACLINIC_EMAIL_TRANSPORT", "smtp")
    env.setenv("KETACLINIC_SMTP_HOST", "127.0.0.1")
    env.setenv("KETACLINIC_SMTP_PORT", str(port))
    env.setenv("KETACLINIC_SMTP_SECURITY", "none")
    env.setenv("KETACLINIC_SMTP_FROM", "clinic@clinic.test")
    env.setenv("KETACLINIC_SMTP_TIMEOUT_SECONDS", "3")
    get_settings.cache_clear()


def _ask(
    db: Session, patient_id: int, instrument_id: str = "phq9", now: datetime | None = None
) -> QuestionnaireRequest:
    prescriber = Actor(user_id=None, username="dr.rivera", roles=frozenset({Role.prescriber}))
    request = service.request_questionnaire(
        db, actor=prescriber, patient_id=patient_id, instrument_id=instrument_id, now=now
    )
    db.commit()
    return request


def _messages(db: Session) -> list[OutboxMessage]:
    db.expire_all()
    return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


CLINICAL_WORDS = ("depress", "anxiety", "ptsd", "ketamine", "score", "suicid", "infusion")


def _no_clinical_content(text: str) -> None:
    lowered = text.lower()
    for instrument in instruments.all():
        assert instrument.name.lower() not in lowered, instrument.name
        assert instrument.id.lower() not in lowered, instrument.id
    for word in CLINICAL_WORDS:
        assert word not in lowered, word


def test_a_questionnaire_link_arrives_by_email_through_the_smtp_server(
    db: Session, env: pytest.MonkeyPatch
) -> None:
    patient = a_patient(db, email="maria@example.org")
    request = _ask(db, patient.id)
    with smtp_server() as (port, inbox):
        _smtp(env, port)
        delivered = outbox.deliver_pending(db, now=utcnow())
        db.commit()
    assert (delivered.sent, delivered.failed) == (1, 0)
    [(envelope_to, email)] = inbox.received
    assert envelope_to == ["maria@example.org"] and email["To"] == "maria@example.org"
    assert email["From"] == "clinic@clinic.test"
    assert email["Subject"] == "A questionnaire from your clinic"
    body = email.get_content()
    token = LINK.search(body)
    assert token is not None, body  # the link uses the clinic's public address
    assert "127.0.0.1" not in body
    _no_clinical_content(body + email["Subject"])
    assert patient.family_name not in body
    [message] = _messages(db)
    assert (message.status, message.transport, message.request_id) == ("sent", "smtp", request.id)
    assert token.group(1) not in message.body  # only the link's hash is kept


def test_a_mail_server_that_is_down_is_retried_with_backoff_then_failed_and_visible(
    db: Session, env: pytest.MonkeyPatch
) -> None:
    patient = a_patient(db, email="maria@example.org")
    _ask(db, patient.id)
    _smtp(env, free_port())  # nothing listens there
    now = utcnow()
    tried_at: list[datetime] = []
    while True:
        if tried_at:  # not before its next try is due
            assert outbox.deliver_pending(db, now=now - timedelta(seconds=1)).failed == 0
        assert outbox.deliver_pending(db, now=now).failed == 1
        db.commit()
        tried_at.append(now)
        [message] = _messages(db)
        if message.status == "failed":
            break
        assert message.status == "queued" and message.next_attempt_at is not None
        now = message.next_attempt_at
    [message] = _messages(db)
    assert message.status == "failed" and message.attempts == outbox.MAX_ATTEMPTS
    assert "could not be reached" in (message.error or "")
    # Waits of 1, 2, 4, 8 and 16 minutes between the six attempts (computed by hand).
    gaps = [
        round((b - a).total_seconds() / 60) for a, b in zip(tried_at, tried_at[1:], strict=False)
    ]
    assert gaps == [1, 2, 4, 8, 16]
    desk = staff(db, "front_desk", "desk")
    [shown] = outbox.failures(db, actor=desk)
    assert shown.id == message.id
    # Failed for good: a later round leaves it alone.
    assert outbox.deliver_pending(db, now=now + timedelta(days=1)).failed == 0


def test_the_backoff_doubles_up_to_its_cap() -> None:
    assert [outbox.retry_delay(n).total_seconds() / 60 for n in range(1, 9)] == [
        1,
        2,
        4,
        8,
        16,
        32,
        60,
        60,
    ]


def test_the_delivery_failures_page_masks_recipients_and_an_admin_retries_or_cancels(
    db: Session, client: object, env: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from tests.conftest import login

    assert isinstance(client, TestClient)
    first = a_patient(db, email="maria@example.org")
    second = a_patient(db, given_name="Ana", email="ana@example.org")
    _ask(db, first.id)
    _ask(db, second.id, "gad7")

    class Down:
        name = "down"

        def send(self, **_: str) -> None:
            raise ConnectionError("mail server unreachable")

    outbox.deliver_pending(db, now=utcnow(), transport=Down())
    db.commit()
    staff(db, "front_desk", "desk")
    login(client, "desk")
    page = client.get("/outcomes/messages")
    assert page.status_code == 200
    assert "m***@example.org" in page.text and "maria@example.org" not in page.text
    assert "mail server unreachable" in page.text and "Next try" in page.text
    one, two = _messages(db)
    # The front desk sees; only the administrator retries or cancels.
    with pytest.raises(Forbidden):
        outbox.retry(db, actor=staff(db, "front_desk", "desk2"), message_id=one.id, now=utcnow())
    admin = staff(db, "admin", "ada")
    outbox.retry(db, actor=admin, message_id=one.id, now=utcnow())
    with pytest.raises(Invalid):
        outbox.cancel(db, actor=admin, message_id=two.id, reason="")
    outbox.cancel(db, actor=admin, message_id=two.id, reason="patient asked by phone")
    db.commit()
    one, two = _messages(db)
    assert (one.status, one.attempts, one.next_attempt_at) == ("queued", 0, None)
    assert two.status == "cancelled" and two.cancelled_by == "ada"
    actions = set(db.scalars(select(AuditEvent.action).where(AuditEvent.actor == "ada")))
    assert {"outbox.retry", "outbox.cancel"} <= actions
    transport = MemoryTransport()
    assert outbox.deliver_pending(db, now=utcnow(), transport=transport).sent == 1
    assert [m["to"] for m in transport.sent] == ["maria@example.org"]


def test_the_administrators_outbox_masks_recipients_and_its_read_is_audited(
    db: Session, client: object
) -> None:
    from fastapi.testclient import TestClient

    from tests.conftest import login

    assert isinstance(client, TestClient)
    _ask(db, a_patient(db, email="maria@example.org").id)
    db.commit()
    staff(db, "admin", "ada")
    login(client, "ada")
    page = client.get("/outcomes/outbox")
    assert page.status_code == 200
    assert "m***@example.org" in page.text and "maria@example.org" not in page.text
    db.expire_all()
    assert "outbox.read" in set(
        db.scalars(select(AuditEvent.action).where(AuditEvent.actor == "ada"))
    )


# ----------------------------------------------------------------------- text messages
def _consenting(db: Session, preference: str = "text") -> patients.Patient:
    patient = a_patient(db, email="maria@example.org", phone="(555) 201-3344")
    patients.set_contact_preferences(
        db, actor=DESK, patient_id=patient.id, preference=preference, text_consent=True
    )
    db.commit()
    return patient


def test_a_text_goes_through_the_provider_with_the_declared_words_and_the_public_link(
    db: Session, env: pytest.MonkeyPatch
) -> None:
    patient = _consenting(db, "both")
    _ask(db, patient.id)
    provider = Provider()
    with text_provider(provider) as url:
        env.setenv("KETACLINIC_TEXT_TRANSPORT", "twilio")
        env.setenv("KETACLINIC_TWILIO_ACCOUNT_SID", "AC123")
        env.setenv("KETACLINIC_TWILIO_AUTH_TOKEN", "token")
        env.setenv("KETACLINIC_TWILIO_FROM", "+15550001111")
        env.setenv("KETACLINIC_TWILIO_API_URL", url)
        get_settings.cache_clear()
        delivered = outbox.deliver_pending(db, now=utcnow())
    assert delivered.sent == 2  # e-mail (to the file) and text: the patient asked for both
    [request] = provider.requests
    assert request["path"] == "/2010-04-01/Accounts/AC123/Messages.json"
    form = parse_qs(request["body"])
    assert form["To"] == ["+15552013344"] and form["From"] == ["+15550001111"]
    [body] = form["Body"]
    assert body.startswith(get_settings().clinic_name + ": ") and LINK.search(body)
    _no_clinical_content(body)
    assert patient.given_name not in body  # not even the name: lock screens are seen
    assert {m.transport for m in _messages(db)} == {"file", "twilio"}


def test_no_text_without_consent(db: Session, env: pytest.MonkeyPatch) -> None:
    desk = DESK
    phone_only = a_patient(db, phone="+1 555 201 3344")
    with pytest.raises(Invalid, match="consent"):
        patients.set_contact_preferences(
            db, actor=desk, patient_id=phone_only.id, preference="text", text_consent=False
        )
    db.rollback()
    _ask(db, phone_only.id)
    assert _messages(db) == []  # no e-mail address, no consent to texts: nothing to send
    # A text another area queues without consent is kept as skipped, never sent.
    refused = outbox.enqueue(
        db,
        kind="questionnaire_link",
        channel="sms",
        recipient="+15552013344",
        subject="",
        body="Your PHQ-9 score was 22",
        patient_id=phone_only.id,
    )
    assert refused.status == "skipped" and "consented" in (refused.error or "")
    assert "PHQ" not in refused.body  # the declared words, not the caller's
    # Consent withdrawn after a text was queued: it is not sent.
    patient = _consenting(db)
    _ask(db, patient.id)
    patients.set_contact_preferences(
        db, actor=desk, patient_id=patient.id, preference="email", text_consent=False
    )
    db.commit()
    transport = MemoryTransport()
    outbox.deliver_pending(db, now=utcnow(), transport=transport)
    assert transport.sent == []
    assert [m.status for m in _messages(db) if m.patient_id == patient.id] == ["skipped"]
    with pytest.raises(ValueError, match="no text message is declared"):
        outbox.enqueue(
            db, kind="lab_result", channel="sms", recipient="+1555", subject="", body="x"
        )


def test_consent_is_recorded_with_when_and_who_and_dropped_with_a_new_number(
    db: Session,
) -> None:
    patient = _consenting(db)
    db.refresh(patient)
    assert patient.text_consent_by == "desk" and patient.text_consent_at is not None
    assert patient.contact_preference == "text"
    from ketaclinic.patients.schemas import PatientUpdate

    data = {k: getattr(patient, k) for k in ("given_name", "family_name", "date_of_birth", "sex")}
    patients.update_patient(
        db,
        actor=staff(db, "front_desk", "desk.two"),
        patient_id=patient.id,
        data=PatientUpdate(**data, email=patient.email, phone="+1 555 999 0000", reason="moved"),
    )
    assert patient.text_consent_at is None
    assert not patients.contact_for(db, patient.id).may_text


def test_every_declared_text_names_the_clinic_holds_a_link_and_no_clinical_content() -> None:
    assert texts.TEMPLATES
    for kind, template in texts.TEMPLATES.items():
        assert template.startswith("{clinic}"), kind
        assert texts.LINK in template or texts.PUBLIC_URL in template, kind
        _no_clinical_content(texts.render(template, clinic="Clinic"))
        assert len(texts.render(template, clinic="A clinic")) + 80 <= 320, kind  # two segments


# --------------------------------------------------------------------------- reminders
def _morning() -> datetime:
    """10:00 at the clinic today: reminders are sent in the clinic's daytime only."""
    local = datetime.now(ZoneInfo(CLINIC_ZONE)).replace(hour=10, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


def _deliver(db: Session, now: datetime) -> MemoryTransport:
    transport = MemoryTransport()
    outbox.deliver_pending(db, now=now, transport=transport)
    db.commit()
    return transport


def test_reminders_go_a_day_apart_and_stop_when_the_questionnaire_is_answered(
    db: Session, env: pytest.MonkeyPatch
) -> None:
    patient = a_patient(db, email="maria@example.org")
    t0 = _morning()
    request = _ask(db, patient.id, now=t0)
    first = _deliver(db, t0)
    assert len(first.sent) == 1
    assert outbox.send_reminders(db, now=t0 + timedelta(hours=23, minutes=59)) == 0
    assert outbox.send_reminders(db, now=t0 + timedelta(hours=24, minutes=1)) == 1
    db.commit()
    reminded = _deliver(db, t0 + timedelta(hours=24, minutes=1))
    [sent] = reminded.sent
    assert sent["subject"] == "Reminder: A questionnaire from your clinic"
    token = LINK.search(sent["body"])
    assert token is not None  # a fresh link, at the public address
    service.submit_by_link(db, token=token.group(1), answers=phq9(6), now=t0 + timedelta(hours=25))
    db.commit()
    db.refresh(request)
    assert request.status == "completed"
    assert outbox.send_reminders(db, now=t0 + timedelta(hours=49)) == 0
    db.commit()
    original = _messages(db)[0]
    assert original.remind is False  # done: the job no longer looks at it


def test_an_unanswered_questionnaire_gets_three_reminders_then_no_more(
    db: Session, env: pytest.MonkeyPatch
) -> None:
    patient = a_patient(db, email="maria@example.org")
    now = _morning()
    _ask(db, patient.id, now=now)
    _deliver(db, now)
    for _ in range(5):
        now += timedelta(hours=24, minutes=1)
        outbox.send_reminders(db, now=now)
        db.commit()
        _deliver(db, now)
    messages = _messages(db)
    assert [m.reminder_number for m in messages] == [0, 1, 2, 3]
    assert {m.reminder_of_id for m in messages[1:]} == {messages[0].id}
    assert all(m.status == "sent" for m in messages)


def test_a_clinic_may_change_the_reminder_count_recorded(
    db: Session, env: pytest.MonkeyPatch
) -> None:
    from ketaclinic.outcomes.service import config

    admin = staff(db, "admin", "ada")
    config.change_setting(db, actor=admin, key="reminder_count", value="1", reason="fewer")
    with pytest.raises(Invalid):
        config.change_setting(db, actor=admin, key="reminder_count", value="11", reason="many")
    db.rollback()
    config.change_setting(db, actor=admin, key="reminder_count", value="1", reason="fewer")
    db.commit()
    patient = a_patient(db, email="maria@example.org")
    now = _morning()
    _ask(db, patient.id, now=now)
    _deliver(db, now)
    for _ in range(3):
        now += timedelta(hours=24, minutes=1)
        outbox.send_reminders(db, now=now)
        db.commit()
        _deliver(db, now)
    assert [m.reminder_number for m in _messages(db)] == [0, 1]


def test_reminders_wait_for_the_clinics_morning(db: Session, env: pytest.MonkeyPatch) -> None:
    patient = a_patient(db, email="maria@example.org")
    evening = _morning() + timedelta(hours=11)  # 21:00 at the clinic
    _ask(db, patient.id, now=evening)
    _deliver(db, evening)
    next_night = evening + timedelta(hours=24, minutes=1)  # 21:01: not now
    assert outbox.send_reminders(db, now=next_night) == 0
    # 07:59 the morning after is still night; 08:00 is morning (Phoenix, by hand).
    assert outbox.send_reminders(db, now=evening + timedelta(hours=34, minutes=59)) == 0
    assert outbox.send_reminders(db, now=evening + timedelta(hours=35)) == 1


# ---------------------------------------------------------------------- staff notices
def test_staff_alerts_go_to_their_addresses_in_the_clinics_time_or_not_at_all(
    db: Session, env: pytest.MonkeyPatch
) -> None:
    from tests.conftest import make_user

    make_user(db, "prescriber", username="dr.mail", email="dr.mail@clinic.test")
    make_user(db, "prescriber", username="dr.nomail", email=None)
    quiet = make_user(db, "prescriber", username="dr.quiet", email="q@clinic.test")
    from ketaclinic.platform.accounts import service as accounts

    accounts.set_alert_preference(
        db,
        actor=staff(db, "admin", "ada"),
        user_id=quiet.id,
        email="q@clinic.test",
        preference="none",
    )
    db.commit()
    env.setenv("KETACLINIC_TIME_ZONE", "America/Chicago")
    get_settings.cache_clear()
    patient = a_patient(db, email="maria@example.org")
    service.flag_by_clinician(
        db,
        actor=staff(db, "nurse", "nurse.a"),
        patient_id=patient.id,
        note="said she has thoughts of ending her life",
    )
    db.commit()
    alerts = [m for m in _messages(db) if m.kind == "alert"]
    by_user = {m.recipient_username: m for m in alerts}
    assert set(by_user) == {"dr.mail", "dr.nomail"}  # dr.quiet asked for none
    assert by_user["dr.mail"].recipient == "dr.mail@clinic.test"
    assert by_user["dr.nomail"].status == "failed"
    assert "no e-mail address" in (by_user["dr.nomail"].error or "")
    transport = MemoryTransport()
    outbox.deliver_pending(db, now=utcnow(), transport=transport)
    [sent] = transport.sent
    assert sent["to"] == "dr.mail@clinic.test"
    assert "UTC" not in sent["body"] and re.search(r"\d{2}:\d{2} C[SD]T", sent["body"])
    assert f"{PUBLIC}/outcomes/alerts" in sent["body"]
