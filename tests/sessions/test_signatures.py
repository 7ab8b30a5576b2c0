"""Signing and co-signing the session note (and an addendum) re-authenticates the signer
and records the meaning of each signature (21 CFR 11.50); a wrong password signs
nothing, says so, and is audited."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.sessions import service
from ketaclinic.sessions.models import InfusionSession, MonitoringRecord, SessionNote
from tests.conftest import PASSWORD, login
from tests.sessions.conftest import at, ready_iv_session
from tests.sessions.factories import ESCORTED, Staff
from tests.sessions.test_esketamine import ANSWERS, dose_and_observe, open_session
from tests.sessions.test_service import finish


def _discharged(db: Session, team: Staff) -> InfusionSession:
    row = ready_iv_session(db, team)
    finish(db, team, row.id)
    service.discharge(db, actor=team.nurse, session_id=row.id, now=at(72), **ESCORTED)
    db.commit()
    return row


def _fresh(db: Session) -> None:
    db.commit()
    db.expire_all()


def test_the_note_is_signed_and_cosigned_with_each_signers_password(
    client: TestClient, db: Session, team: Staff
) -> None:
    row = _discharged(db, team)
    url = f"/sessions/{row.id}"
    csrf = login(client, "nurse")
    page = client.get(url).text
    assert 'id="sign-password"' in page and "I authored this session note" in page
    wrong = client.post(url + "/sign", data={"csrf_token": csrf, "password": "guess"})
    assert wrong.status_code == 422 and "the password is not right" in wrong.text
    _fresh(db)
    assert db.scalar(select(SessionNote)) is None
    assert db.get(InfusionSession, row.id).status == "discharged"  # type: ignore[union-attr]
    refused = db.scalars(select(AuditEvent).where(AuditEvent.action == "signature.refused")).all()
    assert [(r.actor, r.object_type, r.object_id) for r in refused] == [
        ("nurse", "session", str(row.id))
    ]
    assert "authored this session note" in refused[0].detail

    done = client.post(
        url + "/sign", data={"csrf_token": csrf, "password": PASSWORD}, follow_redirects=False
    )
    assert done.status_code == 303
    _fresh(db)
    note = db.scalars(select(SessionNote)).one()
    assert (note.signed_by, note.signed_by_name, note.signature_meaning) == (
        "nurse",
        "Nurse",
        "authored this session note",
    )
    printed = client.get(url + "/note").text
    assert "Signed: Nurse" in printed and "authored this session note" in printed

    addendum = {"csrf_token": csrf, "text": "patient called: home safely"}
    no_password = client.post(url + "/addendum", data=addendum)
    assert no_password.status_code == 422
    assert (
        client.post(
            url + "/addendum", data=addendum | {"password": PASSWORD}, follow_redirects=False
        ).status_code
        == 303
    )

    client.post("/logout", data={"csrf_token": csrf})
    csrf = login(client, "prescriber")
    wrong = client.post(url + "/cosign", data={"csrf_token": csrf, "password": PASSWORD + "x"})
    assert wrong.status_code == 422
    cosigned = client.post(
        url + "/cosign", data={"csrf_token": csrf, "password": PASSWORD}, follow_redirects=False
    )
    assert cosigned.status_code == 303
    _fresh(db)
    notes = db.scalars(select(SessionNote).order_by(SessionNote.id)).all()
    assert notes[0].cosignature_meaning == "reviewed and co-signed this session note"
    assert notes[0].cosigned_by_name == "Prescriber"
    assert notes[1].kind == "addendum" and notes[1].signature_meaning == "authored this addendum"
    actors = [
        r.actor
        for r in db.scalars(select(AuditEvent).where(AuditEvent.action == "signature.refused"))
    ]
    assert actors == ["nurse", "nurse", "prescriber"]


def test_the_api_signs_the_note_with_the_password_in_the_body(
    client: TestClient, db: Session, team: Staff
) -> None:
    row = _discharged(db, team)
    headers = {"X-CSRF-Token": login(client, "nurse")}
    sign = f"/api/sessions/{row.id}/note/sign"
    assert client.post(sign, headers=headers).status_code == 422
    wrong = client.post(sign, json={"password": "guess"}, headers=headers)
    assert wrong.status_code == 422 and wrong.json()["errors"] == {"password": "wrong password"}
    done = client.post(sign, json={"password": PASSWORD}, headers=headers)
    assert done.status_code == 201, done.text
    assert done.json()["signature_meaning"] == "authored this session note"
    assert done.json()["signed_by_name"] == "Nurse"


def _rems_discharged(db: Session, team: Staff) -> int:
    """An esketamine session discharged with its monitoring record complete."""
    sid = open_session(db, team)
    dose_and_observe(db, team, sid)
    service.discharge(db, actor=team.nurse, session_id=sid, now=at(130), **ESCORTED)
    service.answer_record(db, actor=team.nurse, session_id=sid, answers=ANSWERS)
    db.commit()
    return sid


def test_the_rems_monitoring_record_is_signed_with_the_password_and_its_meaning(
    client: TestClient, db: Session, team: Staff
) -> None:
    sid = _rems_discharged(db, team)
    url = f"/sessions/{sid}"
    csrf = login(client, "nurse")
    page = client.get(url).text
    assert 'id="record-password"' in page and "I attest this REMS patient monitoring form" in page
    for password in ("", "guess"):
        wrong = client.post(url + "/record/sign", data={"csrf_token": csrf, "password": password})
        assert wrong.status_code == 422 and "the password is not right" in wrong.text
    _fresh(db)
    record = db.scalar(select(MonitoringRecord).where(MonitoringRecord.session_id == sid))
    assert record is not None and record.signed_at is None and record.snapshot is None
    refused = db.scalars(select(AuditEvent).where(AuditEvent.action == "signature.refused")).all()
    assert [(r.actor, r.object_type, r.object_id) for r in refused] == [
        ("nurse", "rems_monitoring_record", str(record.id))
    ] * 2
    assert "attested this REMS patient monitoring form" in refused[0].detail

    done = client.post(
        url + "/record/sign",
        data={"csrf_token": csrf, "password": PASSWORD},
        follow_redirects=False,
    )
    assert done.status_code == 303
    _fresh(db)
    signed = db.get(MonitoringRecord, record.id)
    assert signed is not None and signed.snapshot is not None
    assert (signed.signed_by, signed.signed_by_name, signed.signature_meaning) == (
        "nurse",
        "Nurse",
        "attested this REMS patient monitoring form",
    )
    assert "(attested this REMS patient monitoring form)" in client.get(url).text
    audited = db.scalars(select(AuditEvent).where(AuditEvent.action == "session.rems.sign")).one()
    assert audited.detail == "Nurse: attested this REMS patient monitoring form"


def test_the_api_signs_the_rems_record_with_the_password_in_the_body(
    client: TestClient, db: Session, team: Staff
) -> None:
    sid = _rems_discharged(db, team)
    headers = {"X-CSRF-Token": login(client, "nurse")}
    sign = f"/api/sessions/{sid}/monitoring-record/sign"
    assert client.post(sign, headers=headers).status_code == 422
    wrong = client.post(sign, json={"password": "guess"}, headers=headers)
    assert wrong.status_code == 422 and wrong.json()["errors"] == {"password": "wrong password"}
    assert client.get(f"/api/sessions/{sid}/monitoring-record").json()["signed_at"] is None
    done = client.post(sign, json={"password": PASSWORD}, headers=headers)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["signature_meaning"] == "attested this REMS patient monitoring form"
    assert (body["signed_by"], body["signed_by_name"]) == ("nurse", "Nurse")
