"""A patient receives a questionnaire link by e-mail, through a real local SMTP server,
opens the link from the captured e-mail in Chromium and answers the questionnaire."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ketaclinic.outcomes import service
from ketaclinic.outcomes.models import QuestionnaireRequest, SuicidalityAlert
from ketaclinic.outcomes.service import outbox
from ketaclinic.patients.models import Patient
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.db import make_engine, make_session_factory, transaction, utcnow
from ketaclinic.platform.settings import Settings, get_settings
from tests.platform.messaging.servers import smtp_server

pytestmark = pytest.mark.browser


def test_a_patient_answers_a_questionnaire_from_the_link_in_an_email(
    live_server: str, page, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(settings.effective_database_url)
    factory = make_session_factory(engine)
    try:
        with smtp_server() as (port, inbox):
            # The clinic's settings: its public address is where this server answers.
            for name, value in {
                "PUBLIC_URL": live_server,
                "EMAIL_TRANSPORT": "smtp",
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(port),
                "SMTP_SECURITY": "none",
                "SMTP_FROM": "clinic@clinic.example.org",
            }.items():
                monkeypatch.setenv(f"KETACLINIC_{name}", value)
            get_settings.cache_clear()
            with transaction(factory) as db:
                alerted = set(db.scalars(select(SuicidalityAlert.patient_id)))
                patient = next(
                    p
                    for p in db.scalars(select(Patient).order_by(Patient.id))
                    if p.id not in alerted and p.email
                )
                address = patient.email
                nurse = accounts.actor_for(accounts.get_user(db, username="nurse.okafor"))
                request = service.request_questionnaire(
                    db, actor=nurse, patient_id=patient.id, instrument_id="phq9"
                )
                request_id = request.id
            with transaction(factory) as db:
                outbox.deliver_pending(db, now=utcnow())
        [(_, email)] = [r for r in inbox.received if r[0] == [address]]
        assert email["Subject"] == "A questionnaire from your clinic"
        link = re.search(re.escape(live_server) + r"/q/[A-Za-z0-9_\-]+", email.get_content())
        assert link is not None

        page.goto(link.group(0))
        assert page.locator("fieldset.q-item").count() == 9
        for n in range(1, 10):
            page.locator(f"#q-item{n}").get_by_label("Not at all").check()
        page.get_by_role("button", name="Submit answers").click()
        assert page.get_by_role("heading", name="Thank you").is_visible()
        with transaction(factory) as db:
            answered = db.get(QuestionnaireRequest, request_id)
            assert answered is not None and answered.status == "completed"
    finally:
        get_settings.cache_clear()
        engine.dispose()
