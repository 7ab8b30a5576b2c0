"""Consents and readiness through the service, on both backends."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.consent import service
from ketaclinic.consent.models import ConsentDocument, ConsentSignature, ReadinessCheck
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid, NotFound
from ketaclinic.sessions import service as sessions
from ketaclinic.sessions.models import InfusionSession
from ketaclinic.sessions.service import view
from ketaclinic.sessions.service.checklist import ChecklistItem
from tests.conftest import PASSWORD
from tests.consent.factories import (
    OFF_LABEL_TEXT,
    People,
    data_url,
    document,
    patient_account,
    people,
    signed,
)
from tests.sessions.factories import T0, appointment, iv_order, male_patient


@pytest.fixture
def staff(db: Session) -> People:
    return people(db)


def _signatures(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(ConsentSignature)) or 0


def _consent_items(db: Session, session_id: int, actor: Actor) -> dict[str, ChecklistItem]:
    """The session's checklist items by id, as the nurse's screen reads them."""
    row = db.get(InfusionSession, session_id)
    assert row is not None
    built = view.build(db, actor=actor, row=row, now=T0)
    return {i.rule.id: i for i in built.checklist}


def test_signing_keeps_the_exact_text_and_version_and_prints_them(
    db: Session, staff: People
) -> None:
    from pypdf import PdfReader

    patient = male_patient(db)
    doc = document(db, staff.admin)
    me = patient_account(db, patient)
    row = signed(db, me, patient, doc, now=T0)
    assert isinstance(row, ConsentSignature)
    assert (row.text, row.document_version, row.text_sha256) == (
        OFF_LABEL_TEXT,
        1,
        service.sha256(OFF_LABEL_TEXT),
    )
    assert row.signature_png is not None and row.signature_png.startswith(b"\x89PNG")
    name, pdf = service.signed_copy_pdf(db, actor=me, signature_id=row.id)
    assert name.endswith(".pdf")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "its use for depression is off-label" in text
    assert "Tom Reyes" in text
    # T0 is 14:00 UTC: 10:00 in New York, on summer time since 8 March 2026.
    assert "2026-03-10 10:00 EDT" in text


def test_a_new_version_asks_for_a_new_signature(db: Session, staff: People) -> None:
    patient = male_patient(db)
    iv_order(db, patient)
    doc = document(db, staff.admin)
    signed(db, staff.nurse, patient, doc, now=T0 - timedelta(days=1))
    session = sessions.start_walk_in_session(db, actor=staff.nurse, patient_id=patient.id, now=T0)
    before = _consent_items(db, session.id, staff.nurse)["consent_off_label_ketamine"]
    assert before.met and before.text.startswith("signed v1")
    document(db, staff.admin, body=OFF_LABEL_TEXT + "\n\nA new paragraph.")
    after = _consent_items(db, session.id, staff.nurse)["consent_off_label_ketamine"]
    assert not after.met
    assert after.text == "signed v1, current v2: sign the new version"


def test_revoking_makes_the_consent_unmet_and_is_recorded(db: Session, staff: People) -> None:
    patient = male_patient(db)
    iv_order(db, patient)
    doc = document(db, staff.admin)
    me = patient_account(db, patient)
    row = signed(db, me, patient, doc, now=T0 - timedelta(days=1))
    session = sessions.start_walk_in_session(db, actor=staff.nurse, patient_id=patient.id, now=T0)
    assert _consent_items(db, session.id, staff.nurse)["consent_off_label_ketamine"].met
    service.revoke(db, actor=me, signature_id=row.id, reason="I changed my mind")  # type: ignore[attr-defined]
    item = _consent_items(db, session.id, staff.nurse)["consent_off_label_ketamine"]
    assert not item.met and "revoked" in item.text
    kept = db.get(ConsentSignature, row.id)  # type: ignore[attr-defined]
    assert (
        kept is not None and kept.revoked_by == "pat" and kept.revoke_reason == "I changed my mind"
    )
    with pytest.raises(Conflict):
        service.revoke(db, actor=me, signature_id=kept.id, reason="again")


def test_a_witness_authenticates_with_their_own_password_and_is_not_the_patient(
    db: Session, staff: People
) -> None:
    patient = male_patient(db)
    doc = document(db, staff.admin, kind="esketamine_rems", needs_witness=True)
    me = patient_account(db, patient)
    common = {"now": T0}
    with pytest.raises(Conflict, match="signed at the clinic"):
        signed(db, me, patient, doc, **common)
    db.rollback()
    with pytest.raises(Invalid) as wrong:
        signed(db, staff.desk, patient, doc, witness_username="nurse", witness_password="nope")
    assert wrong.value.fields == {"password": "wrong password"}
    db.rollback()
    with pytest.raises(Invalid) as self_witness:
        signed(db, staff.nurse, patient, doc, witness_username="pat", witness_password=PASSWORD)
    assert self_witness.value.fields == {"witness_username": "same person"}
    db.rollback()
    with pytest.raises(Invalid) as nobody:
        signed(db, staff.nurse, patient, doc, witness_password=PASSWORD)
    assert nobody.value.fields == {"witness_username": "required"}
    db.rollback()
    assert _signatures(db) == 0
    row = signed(db, staff.desk, patient, doc, witness_username="nurse", witness_password=PASSWORD)
    assert isinstance(row, ConsentSignature)
    assert (row.witness_username, row.recorded_by, row.channel) == ("nurse", "frontdesk", "clinic")


def test_bad_signatures_wrong_versions_and_other_patients_are_refused_and_nothing_is_kept(
    db: Session, staff: People
) -> None:
    patient = male_patient(db)
    other = male_patient(db, given_name="Ana", family_name="Other")
    doc = document(db, staff.admin)
    me = patient_account(db, patient)
    refusals: list[tuple[type[Exception], dict[str, object]]] = [
        (Invalid, {"signature_data_url": "data:image/png;base64,AAAA"}),
        (Invalid, {"signature_data_url": None}),
        (Invalid, {"typed_name": " "}),
    ]
    for error, fields in refusals:
        with pytest.raises(error):
            signed(db, me, patient, doc, **fields)
        db.rollback()
    with pytest.raises(NotFound):
        signed(db, me, other, doc)
    db.rollback()
    with pytest.raises(Forbidden):
        signed(db, staff.nurse, patient, doc, channel="portal")
    db.rollback()
    with pytest.raises(Conflict, match="not this version"):
        service.sign(
            db,
            actor=me,
            patient_id=patient.id,
            document_id=doc.id,
            text_sha256="0" * 64,
            typed_name="Tom Reyes",
            signature_data_url=data_url(),
            channel="portal",
        )
    db.rollback()
    newer = document(db, staff.admin, body=OFF_LABEL_TEXT + " Version two.")
    with pytest.raises(Conflict, match="not the current version"):
        signed(db, me, patient, doc)
    db.rollback()
    assert _signatures(db) == 0
    assert signed(db, me, patient, newer) is not None


def test_the_typed_name_alone_signs_only_where_the_document_says_so(
    db: Session, staff: People
) -> None:
    patient = male_patient(db)
    doc = document(db, staff.admin, kind="financial_policy", typed_name_suffices=True)
    row = signed(db, staff.nurse, patient, doc, signature_data_url=None)
    assert isinstance(row, ConsentSignature) and row.signature_png is None


def test_only_an_administrator_writes_a_version_and_earlier_versions_stay(
    db: Session, staff: People
) -> None:
    with pytest.raises(Forbidden):
        service.publish_document(db, actor=staff.prescriber, kind="kap", title="KAP", body="x" * 40)
    db.rollback()
    first = document(db, staff.admin, kind="kap", body="First text of the KAP consent.")
    second = document(db, staff.admin, kind="kap", body="Second text of the KAP consent.")
    versions = [
        (d.version, d.body)
        for d in db.scalars(select(ConsentDocument).order_by(ConsentDocument.version))
    ]
    assert versions == [(1, first.body), (2, second.body)]
    assert service.current_documents(db)["kap"].id == second.id


def test_the_checklist_blocks_the_start_without_the_consent_and_a_prescriber_overrides(
    db: Session, staff: People
) -> None:
    from tests.sessions.conftest import vitals

    patient = male_patient(db)
    iv_order(db, patient)
    document(db, staff.admin)
    session = sessions.start_walk_in_session(db, actor=staff.nurse, patient_id=patient.id, now=T0)
    sessions.answer_checklist(
        db,
        actor=staff.nurse,
        session_id=session.id,
        answers={"identity": "yes", "consent": "yes", "fasting": "yes", "driver": "yes"},
        now=T0,
    )
    vitals(db, staff, session.id, 0, 72, 128, 82)  # type: ignore[arg-type]
    items = _consent_items(db, session.id, staff.nurse)
    assert [k for k, i in items.items() if not i.met] == ["consent_off_label_ketamine"]
    # The financial policy is required too, but the clinic has not written it: met, said so.
    assert "has not written" in items["consent_financial_policy"].text
    with pytest.raises(Conflict, match="Signed consent: Off Label Ketamine"):
        sessions.chart_pump(
            db,
            actor=staff.nurse,
            session_id=session.id,
            kind="start",
            at=T0,
            now=T0,
        )
    db.rollback()
    sessions.override_checklist(
        db,
        actor=staff.prescriber,
        session_id=session.id,
        reason="paper consent signed today, scanned later",
        now=T0,
    )
    started = sessions.chart_pump(
        db,
        actor=staff.nurse,
        session_id=session.id,
        kind="start",
        at=T0,
        now=T0,
    )
    assert started.kind == "start"


def test_readiness_answers_show_on_the_checklist_and_no_ride_is_unmet(
    db: Session, staff: People
) -> None:
    patient = male_patient(db, email="tom@example.org")
    iv_order(db, patient)
    booked = appointment(db, patient, T0 + timedelta(hours=24))
    # The day before, 10:00 in New York.
    asked = service.plan_readiness_links(db, now=T0 + timedelta(hours=1))
    assert asked == 1
    assert service.plan_readiness_links(db, now=T0 + timedelta(hours=2)) == 0
    check = db.scalar(select(ReadinessCheck))
    assert check is not None and check.appointment_id == booked.id and check.token_hash is None
    path = service.readiness_link_for_message(
        db, message_id=check.outbox_message_id or 0, now=T0 + timedelta(hours=1)
    )
    assert path is not None and path.startswith("/ready/")
    token = path.removeprefix("/ready/")
    db.commit()  # the delivery's own transaction
    assert check.token_hash == service.sha256(token)
    form = service.open_readiness(db, token=token, now=T0 + timedelta(hours=3))
    assert [q.id for q in form.questions] == ["ride_home", "iv.food", "iv.liquids"]
    with pytest.raises(Invalid) as missing:
        service.answer_readiness(db, token=token, answers={"ride_home": "no"}, now=T0)
    assert set(missing.value.fields) == {"iv.food", "iv.liquids"}
    db.rollback()
    service.answer_readiness(
        db,
        token=token,
        answers={"ride_home": "no", "iv.food": "yes", "iv.liquids": "yes"},
        now=T0 + timedelta(hours=3),
    )
    session = sessions.start_session_for_appointment(
        db, actor=staff.nurse, appointment_id=booked.id, now=T0 + timedelta(hours=24)
    )
    item = _consent_items(db, session.id, staff.nurse)["readiness"]
    assert not item.met
    assert item.text.startswith("The patient answered: no ride home")
    with pytest.raises(service.LinkUnusable):
        service.open_readiness(db, token="not-a-token")


def test_the_front_desk_sees_who_has_not_confirmed(db: Session, staff: People) -> None:
    ready = male_patient(db, email="a@example.org", given_name="Ready")
    silent = male_patient(db, email="b@example.org", given_name="Silent")
    unreachable = male_patient(db, phone=None, given_name="Nophone")
    tomorrow = T0 + timedelta(hours=24)
    appointment(db, ready, tomorrow)
    appointment(db, silent, tomorrow + timedelta(hours=2))
    appointment(db, unreachable, tomorrow + timedelta(hours=3))
    service.plan_readiness_links(db, now=T0)
    first = db.scalar(select(ReadinessCheck).where(ReadinessCheck.patient_id == ready.id))
    assert first is not None
    service.store_answers(
        db, row=first, answers={"ride_home": "yes", "iv.food": "yes", "iv.liquids": "yes"}, now=T0
    )
    lines = service.readiness_for_day(db, actor=staff.desk, day=tomorrow.date())
    states = {line.patient_name.split(", ")[1]: line.state for line in lines}
    assert states == {"Ready": "ready", "Silent": "not answered", "Nophone": "no contact on file"}
    assert [line.state for line in lines][-1] == "ready"
    assert service.unconfirmed_count(db, actor=staff.desk, day=tomorrow.date()) == 2


def test_the_outbox_mints_the_readiness_link_at_delivery_and_keeps_no_token(
    db: Session, staff: People
) -> None:
    from ketaclinic.outcomes.models import OutboxMessage
    from ketaclinic.outcomes.service import MemoryTransport
    from ketaclinic.outcomes.service.outbox import deliver_pending

    patient = male_patient(db, email="tom@example.org")
    appointment(db, patient, T0 + timedelta(hours=24))
    service.plan_readiness_links(db, now=T0)
    transport = MemoryTransport()
    assert deliver_pending(db, now=T0, transport=transport).sent == 1
    (sent,) = transport.sent
    assert sent["to"] == "tom@example.org"
    token = sent["body"].split("/ready/", 1)[1].split(" ", 1)[0]
    stored = db.scalar(select(OutboxMessage))
    assert stored is not None and "{link}" in stored.body and token not in stored.body
    check = db.scalar(select(ReadinessCheck))
    assert check is not None and check.token_hash == service.sha256(token)
    # Once the session has begun the message would be skipped, not sent.
    assert (
        service.readiness_link_for_message(db, message_id=stored.id, now=T0 + timedelta(days=2))
        is None
    )


def test_readiness_asked_ahead_names_the_session_s_day_not_tomorrow(
    db: Session, staff: People
) -> None:
    from ketaclinic.outcomes.models import OutboxMessage

    tomorrow = male_patient(db, email="tom@example.org")
    appointment(db, tomorrow, T0 + timedelta(hours=24))  # Wednesday 10:00 in New York (EDT)
    assert service.plan_readiness_links(db, now=T0) == 1
    later = male_patient(db, given_name="Rex", email="rex@example.org")
    friday = appointment(db, later, T0 + timedelta(days=3))  # Friday 13 March, 10:00
    assert service.plan_readiness_links(db, now=T0, day=friday.starts_at.date()) == 1
    subjects = {
        m.patient_id: (m.subject, m.body)
        for m in db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "readiness_link"))
    }
    assert subjects[tomorrow.id][0] == "Ready for your session tomorrow?"
    assert "your session tomorrow (Wednesday 10:00)" in subjects[tomorrow.id][1]
    assert subjects[later.id][0] == "Ready for your session on Friday?"
    assert "your session on Friday (Friday 10:00)" in subjects[later.id][1]
