"""The audit trail is append-only and tamper-evident, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.settings import Settings
from tests.conftest import TEST_ACTOR
from tests.patients.factories import a_patient


def _three_events(db: Session) -> list[AuditEvent]:
    events = [
        audit.record(db, actor=TEST_ACTOR, action=f"test.{n}", detail=str(n)) for n in range(3)
    ]
    db.commit()
    return events


def test_each_record_carries_the_hash_of_the_one_before(db: Session) -> None:
    first, second, third = _three_events(db)
    assert first.prev_hash == "0" * 64
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert audit.verify(db).ok


def test_the_database_refuses_to_update_or_delete_an_audit_record(db: Session) -> None:
    event = _three_events(db)[1]
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute(text("UPDATE audit_events SET detail = 'x' WHERE id = :id"), {"id": event.id})
    db.rollback()
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": event.id})
    db.rollback()


def _drop_guard(db: Session) -> None:
    """What an intruder with database rights would do before editing history."""
    if db.get_bind().dialect.name == "sqlite":
        db.execute(text("DROP TRIGGER audit_events_no_update"))
        db.execute(text("DROP TRIGGER audit_events_no_delete"))
    else:
        db.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change"))
    db.commit()


def test_verify_names_the_first_altered_record(db: Session) -> None:
    events = _three_events(db)
    _drop_guard(db)
    db.execute(
        text("UPDATE audit_events SET detail = 'forged' WHERE id = :id"), {"id": events[1].id}
    )
    db.commit()
    result = audit.verify(db)
    assert not result.ok
    assert result.first_broken_id == events[1].id
    assert result.checked == 1
    assert result.problem == "record altered after it was written"


def test_verify_names_the_record_after_a_deleted_one(db: Session) -> None:
    events = _three_events(db)
    _drop_guard(db)
    db.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": events[1].id})
    db.commit()
    result = audit.verify(db)
    assert not result.ok
    assert result.first_broken_id == events[2].id
    assert result.problem == "link to the previous record broken"


def test_the_cli_reports_the_broken_link_and_exits_non_zero(
    db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ketaclinic.cli import app
    from ketaclinic.platform import settings as settings_module

    events = _three_events(db)
    monkeypatch.setattr(settings_module, "get_settings", lambda: settings)
    monkeypatch.setattr("ketaclinic.cli.common.get_settings", lambda: settings)
    runner = CliRunner()
    intact = runner.invoke(app, ["audit", "verify"])
    assert intact.exit_code == 0
    assert "intact: 3 records" in intact.output
    _drop_guard(db)
    db.execute(
        text("UPDATE audit_events SET actor = 'someone else' WHERE id = :id"), {"id": events[2].id}
    )
    db.commit()
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert f"BROKEN at record {events[2].id}" in broken.output


def test_reading_a_patient_is_audited_with_who_and_which_patient(db: Session) -> None:
    from ketaclinic.patients import service as patients

    patient = a_patient(db)
    patients.get_patient(db, actor=TEST_ACTOR, patient_id=patient.id)
    audit.flush_reads(db)  # what the unit of work does when the act ends
    last = audit.for_patient(db, patient.id)[0]
    assert (last.action, last.actor, last.patient_id) == ("patient.view", "test", patient.id)
