"""The trail's MAC formats: the database builds the same canonical text Python MACs,
rows of the earlier format keep verifying, and verification streams in batches."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import chain
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.audit.models import AuditEvent
from tests.conftest import TEST_ACTOR
from tests.patients.factories import a_patient

KEY = b"test-audit-key"
# Text a database escapes on its own: quotes, backslashes, line ends, control
# characters, accents, CJK, an emoji, DEL (PostgreSQL text holds no NUL).
AWKWARD = 'he said "stop" \\ then\nleft\ttab \x01\x1f é 漢字 😀 \x7f '


def _drop_guard(db: Session) -> None:
    if db.get_bind().dialect.name == "sqlite":
        db.execute(text("DROP TRIGGER audit_events_no_update"))
    else:
        db.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change"))


def test_the_database_builds_the_text_python_macs_for_every_kind_of_field(db: Session) -> None:
    patient = a_patient(db)
    odd = Actor(user_id=None, username='nurse ü "q"', ip="::1")
    rows = [
        audit.record(
            db,
            actor=odd,
            action="session.vitals",
            patient_id=patient.id,
            object_type="session",
            object_id=7,
            detail=AWKWARD,
            reason=AWKWARD,
        ),
        audit.record(db, actor=TEST_ACTOR, action="user.create", detail=""),
        # A time with no microseconds, and one long ago in another zone.
        audit.record(
            db, actor=TEST_ACTOR, action="t.a", at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        ),
        audit.record(
            db,
            actor=TEST_ACTOR,
            action="t.b",
            at=datetime.fromisoformat("2017-06-30T23:59:59.000001+05:30"),
        ),
    ]
    db.commit()
    c = AuditEvent.__table__.c
    built = {r[0]: r for r in chain._fast_rows(db, c.id.in_([e.id for e in rows]))}
    for event in rows:
        row_id, mac, version, payload = built[event.id]
        assert version == chain.MAC_VERSION == event.mac_version
        assert payload == chain.row_payload(event)
        assert mac == event.mac == chain.row_mac(KEY, event)
    # The text is JSON: every field as text, the tag first, the time in UTC.
    fields = json.loads(built[rows[3].id][3])
    assert fields[0] == "audit-event-v2" and fields[2] == "2017-06-30 18:29:59.000001"
    assert json.loads(built[rows[0].id][3])[9] == AWKWARD
    assert audit.verify(db, seal_first=True).ok


def test_rows_of_the_earlier_format_keep_verifying_beside_current_ones(db: Session) -> None:
    # A trail written before migration 0018: mac_version NULL, HMAC-SHA256 over JSON.
    moment = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
    old = []
    for n in range(1, 4):
        row = {
            "id": n,
            "at": moment,
            "actor_id": None,
            "actor": "nurse",
            "action": f"old.{n}",
            "patient_id": None,
            "object_type": None,
            "object_id": None,
            "detail": AWKWARD,
            "ip": None,
            "reason": None,
            "correlation_id": None,
            "sensitive": False,
            "prev_hash": None,
            "hash": None,
            "mac_version": None,
        }
        row["mac"] = chain.row_mac_v1(KEY, SimpleNamespace(**row))
        old.append(row)
    db.execute(insert(AuditEvent.__table__), old)
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), 3)"))
    new = audit.record(db, actor=TEST_ACTOR, action="new.1")
    audit.seal(db, wait=True)
    db.commit()
    result = audit.verify(db)
    assert result.ok and result.checked == 4 and result.sealed == 4
    assert new.mac_version == chain.MAC_VERSION
    # Each row is held to its own version: an old row altered is named...
    _drop_guard(db)
    db.execute(text("UPDATE audit_events SET detail = 'forged' WHERE id = 2"))
    db.commit()
    broken = audit.verify(db)
    assert not broken.ok and broken.first_broken_id == 2
    assert broken.problem == "record altered after it was written"


def test_a_current_row_passed_off_as_an_earlier_format_is_named(db: Session) -> None:
    events = [audit.record(db, actor=TEST_ACTOR, action=f"t.{i}") for i in range(3)]
    audit.seal(db, wait=True)
    db.commit()
    _drop_guard(db)
    db.execute(
        text("UPDATE audit_events SET mac_version = NULL WHERE id = :id"), {"id": events[1].id}
    )
    db.commit()
    result = audit.verify(db)
    assert not result.ok and result.first_broken_id == events[1].id


def test_a_time_sqlite_holds_in_another_spelling_is_checked_from_its_fields(
    db: Session,
) -> None:
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL formats its own timestamps")
    event = audit.record(db, actor=TEST_ACTOR, action="t.x", at=datetime(2026, 3, 1, tzinfo=UTC))
    audit.seal(db, wait=True)
    db.commit()
    _drop_guard(db)
    # Same instant, written without microseconds (another tool, an old driver).
    db.execute(
        text("UPDATE audit_events SET at = '2026-03-01 00:00:00' WHERE id = :id"), {"id": event.id}
    )
    db.commit()
    (row,) = chain._fast_rows(db, AuditEvent.__table__.c.id == event.id)
    assert row[3] != chain.row_payload(event)  # the database's text differs...
    assert audit.verify(db).ok  # ...so the row is checked from its fields, and holds


def test_verification_streams_in_batches_and_reports_progress(db: Session) -> None:
    for i in range(50):
        audit.record(db, actor=TEST_ACTOR, action=f"t.{i}")
        if i % 9 == 8:
            audit.seal(db, wait=True)  # seals of a few records each
    db.commit()
    top = db.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    seen: list[tuple[int, int]] = []
    result = chain.verify(db, batch=7, progress=lambda at, last: seen.append((at, last)))
    assert result.ok and result.checked == 50 and result.sealed == 45 and result.unsealed == 5
    reached = [at for at, _ in seen]
    assert reached == sorted(reached) and reached[-1] == top and {t for _, t in seen} == {top}
    # One altered record in the middle of a batch is still the one named.
    victim = db.scalars(select(AuditEvent.id).order_by(AuditEvent.id).offset(23)).first()
    _drop_guard(db)
    db.execute(text("UPDATE audit_events SET actor = 'x' WHERE id = :id"), {"id": victim})
    db.commit()
    broken = chain.verify(db, batch=7)
    assert not broken.ok and broken.first_broken_id == victim and broken.checked == 23
