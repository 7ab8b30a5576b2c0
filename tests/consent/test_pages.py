"""Consent pages through the app: the portal's signing form, bad input at the field, the
signed copy, the readiness link, the front desk's list, the admin's new version."""

from __future__ import annotations

import io
import re
from datetime import datetime, time, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.consent import service
from ketaclinic.consent.models import ConsentDocument, ConsentSignature, ReadinessCheck
from ketaclinic.platform.db import utcnow
from tests.conftest import PASSWORD, login
from tests.consent.factories import data_url, document, patient_account, people
from tests.forms import marked, parse, summary_text
from tests.sessions.factories import appointment, male_patient


def _count(db: Session, model: type) -> int:
    db.commit()  # end this session's read, to see what the app committed
    return db.scalar(select(func.count()).select_from(model)) or 0


def _sign_form(page: str) -> dict[str, str]:
    found = dict(re.findall(r'name="(csrf_token|text_sha256)" value="([^"]*)"', page))
    return found


def test_a_patient_signs_in_the_portal_and_gets_the_signed_copy(
    client: TestClient, db: Session
) -> None:
    from pypdf import PdfReader

    staff = people(db)
    patient = male_patient(db)
    doc = document(db, staff.admin)
    patient_account(db, patient)
    login(client, "pat")
    listing = client.get("/portal/consents")
    assert listing.status_code == 200
    assert f'href="/portal/consents/{doc.id}/sign"' in listing.text
    page = client.get(f"/portal/consents/{doc.id}/sign")
    assert 'id="signature-pad"' in page.text and "/static/js/consent.js" in page.text
    form = _sign_form(page.text)
    assert form["text_sha256"] == doc.body_sha256
    done = client.post(
        f"/portal/consents/{doc.id}/sign",
        data={**form, "typed_name": "Tom Reyes", "signature": data_url()},
        follow_redirects=False,
    )
    assert done.status_code == 303
    signed = db.scalar(select(ConsentSignature))
    assert signed is not None and signed.channel == "portal"
    copy = client.get(f"/consents/signatures/{signed.id}.pdf")
    assert copy.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(copy.content)).pages[0].extract_text()
    assert "Tom Reyes" in text and "off-label" in text
    assert "signed v1" in client.get("/portal/consents").text


def test_a_bad_signature_is_shown_at_the_field_and_nothing_is_stored(
    client: TestClient, db: Session
) -> None:
    staff = people(db)
    patient = male_patient(db)
    doc = document(db, staff.admin)
    patient_account(db, patient)
    login(client, "pat")
    form = _sign_form(client.get(f"/portal/consents/{doc.id}/sign").text)
    bad = client.post(
        f"/portal/consents/{doc.id}/sign",
        data={**form, "typed_name": "Tom Reyes", "signature": "data:image/png;base64,SGVsbG8="},
    )
    assert bad.status_code == 422
    assert 'aria-invalid="true" aria-describedby="e-signature"' in bad.text
    assert 'value="Tom Reyes"' in bad.text
    stale = client.post(
        f"/portal/consents/{doc.id}/sign",
        data={**form, "text_sha256": "f" * 64, "typed_name": "Tom Reyes", "signature": data_url()},
    )
    assert stale.status_code == 409
    assert _count(db, ConsentSignature) == 0


def test_a_patient_cannot_sign_or_read_another_patients_consent(
    client: TestClient, db: Session
) -> None:
    staff = people(db)
    patient = male_patient(db)
    other = male_patient(db, given_name="Ana", family_name="Other")
    doc = document(db, staff.admin)
    theirs = service.sign(
        db,
        actor=staff.nurse,
        patient_id=other.id,
        document_id=doc.id,
        text_sha256=doc.body_sha256,
        typed_name="Ana Other",
        signature_data_url=data_url(),
        channel="clinic",
    )
    db.commit()
    patient_account(db, patient)
    login(client, "pat")
    assert client.get(f"/consents/signatures/{theirs.id}.pdf").status_code == 404
    form = _sign_form(client.get("/portal/consents").text)
    revoke = client.post(
        f"/consents/signatures/{theirs.id}/revoke",
        data={"csrf_token": form["csrf_token"], "reason": "not mine"},
    )
    assert revoke.status_code == 404
    assert client.get(f"/patients/{other.id}/consents").status_code == 403
    db.commit()  # end this session's read, to see what the app committed
    kept = db.get(ConsentSignature, theirs.id)
    assert kept is not None and kept.revoked_at is None


def test_an_administrator_writes_a_new_version_and_the_old_one_stays(
    client: TestClient, db: Session
) -> None:
    staff = people(db)
    first = document(db, staff.admin)
    login(client, "admin")
    page = client.get("/consents/off_label_ketamine/new")
    assert "version 2" in page.text
    csrf = _sign_form(page.text)["csrf_token"]
    short = client.post(
        "/consents/off_label_ketamine/new", data={"csrf_token": csrf, "title": "Off", "body": "x"}
    )
    assert short.status_code == 422 and 'aria-describedby="e-body"' in short.text
    made = client.post(
        "/consents/off_label_ketamine/new",
        data={"csrf_token": csrf, "title": "Off-label ketamine", "body": first.body + " Two."},
        follow_redirects=False,
    )
    assert made.status_code == 303
    assert [d.version for d in db.scalars(select(ConsentDocument))] == [1, 2]
    assert "v2: Off-label ketamine" in client.get("/consents").text


def test_the_patient_answers_the_readiness_link_and_the_front_desk_sees_it(
    client: TestClient, db: Session
) -> None:
    people(db)
    patient = male_patient(db, email="tom@example.org")
    zone = client.app.state.settings.zone  # type: ignore[attr-defined]
    now = utcnow()
    day = now.astimezone(zone).date() + timedelta(days=1)
    tomorrow = datetime.combine(day, time(10), tzinfo=zone)
    appointment(db, patient, tomorrow)
    service.plan_readiness_links(db, now=now)
    check = db.scalar(select(ReadinessCheck))
    assert check is not None
    path = service.readiness_link_for_message(db, message_id=check.outbox_message_id or 0, now=now)
    db.commit()
    assert path is not None
    page = client.get(path)
    assert page.status_code == 200 and "Someone will take you home" in page.text
    missing = client.post(path, data={"ride_home": "yes"})
    assert missing.status_code == 422 and 'aria-invalid="true"' in missing.text
    done = client.post(path, data={"ride_home": "no", "iv.food": "yes", "iv.liquids": "yes"})
    assert done.status_code == 200 and "Thank you" in done.text
    assert client.get("/ready/unknown-token").status_code == 410
    login(client, "frontdesk")
    listing = client.get(f"/consents/readiness?day={day.isoformat()}")
    assert listing.status_code == 200
    assert "no ride home" in listing.text


def test_a_nurse_hands_the_tablet_over_and_it_stays_on_the_one_document_until_signed(
    client: TestClient, db: Session
) -> None:
    staff = people(db)
    patient = male_patient(db)
    doc = document(db, staff.admin, kind="esketamine_rems", needs_witness=True)
    csrf = login(client, "nurse")
    handed = client.post(
        f"/patients/{patient.id}/consents/{doc.id}/tablet",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert handed.status_code == 303
    home = handed.headers["location"]
    assert home.startswith("/tablet/sign/")
    # The tablet is locked on the document: the chart sends it back; the nurse is logged out.
    elsewhere = client.get(f"/patients/{patient.id}", follow_redirects=False)
    assert (elsewhere.status_code, elsewhere.headers["location"]) == (303, home)
    page = client.get(home)
    assert page.status_code == 200 and "Witness username" in page.text
    form = {"text_sha256": doc.body_sha256, "typed_name": "Tom Reyes", "signature": data_url()}
    wrong = client.post(home, data={**form, "witness_username": "nurse", "witness_password": "x"})
    assert wrong.status_code == 422 and 'aria-describedby="e-password"' in wrong.text
    witness = marked(wrong.text, "witness_password")
    assert witness.control.attrs["id"] == "w-pass" and witness.value == ""
    assert 'value="nurse"' in wrong.text and 'value="Tom Reyes"' in wrong.text
    assert _count(db, ConsentSignature) == 0
    done = client.post(
        home, data={**form, "witness_username": "nurse", "witness_password": PASSWORD}
    )
    assert done.status_code == 200 and "hand the tablet back" in done.text
    db.commit()  # end this session's read, to see what the app committed
    row = db.scalar(select(ConsentSignature))
    assert row is not None
    assert (row.channel, row.recorded_by, row.witness_username) == ("tablet", "nurse", "nurse")
    # Used once: the lock is gone and the token opens nothing more.
    assert client.get(home).status_code == 410
    assert client.get("/login").status_code == 200


def test_signing_without_a_name_marks_the_name_and_a_bad_drawing_marks_the_pad(
    client: TestClient, db: Session
) -> None:
    staff = people(db)
    patient = male_patient(db)
    doc = document(db, staff.admin)
    patient_account(db, patient)
    login(client, "pat")
    form = _sign_form(client.get(f"/portal/consents/{doc.id}/sign").text)
    nameless = client.post(
        f"/portal/consents/{doc.id}/sign", data={**form, "typed_name": "", "signature": data_url()}
    )
    assert nameless.status_code == 422
    name = marked(nameless.text, "typed_name")
    assert name.control.attrs["id"] == "typed-name" and name.message
    scribble = client.post(
        f"/portal/consents/{doc.id}/sign",
        data={**form, "typed_name": "Tom Reyes", "signature": "data:image/png;base64,SGVsbG8="},
    )
    pad = {e.attrs.get("id"): e for e in parse(scribble.text).walk()}
    assert pad["signature-pad"].attrs["aria-invalid"] == "true"
    assert pad["e-signature"].text and "Your signature" in summary_text(scribble.text)
    assert _count(db, ConsentSignature) == 0
