"""The audit trail is append-only and tamper-evident, on both databases: keyed rows,
keyed seals that chain them, and a checkpoint outside the database."""

from __future__ import annotations

import hmac
import json
import stat
from datetime import timedelta
from hashlib import sha256
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ketaclinic.platform import jobs
from ketaclinic.platform.audit import chain
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.audit.models import AuditEvent, AuditSeal
from ketaclinic.platform.db import make_session_factory, utcnow
from ketaclinic.platform.errors import Invalid
from ketaclinic.platform.settings import ConfigurationError, Settings
from tests.conftest import TEST_ACTOR, login, make_user
from tests.patients.factories import a_patient


def _events(db: Session, n: int, *, sealed: bool = True) -> list[AuditEvent]:
    """``n`` events written and, as at the end of an act, sealed."""
    events = [
        audit.record(db, actor=TEST_ACTOR, action=f"test.{i}", detail=str(i)) for i in range(n)
    ]
    if sealed:
        audit.seal(db, wait=True)
    db.commit()
    return events


def _three_events(db: Session) -> list[AuditEvent]:
    return _events(db, 3)


def _drop_guard(db: Session) -> None:
    """What an intruder with database rights would do before editing history."""
    for table in ("audit_events", "audit_seals"):
        if db.get_bind().dialect.name == "sqlite":
            db.execute(text(f"DROP TRIGGER {table}_no_update"))
            db.execute(text(f"DROP TRIGGER {table}_no_delete"))
        else:
            db.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_no_change"))
    db.commit()


def _rows(db: Session) -> list[AuditEvent]:
    return list(
        db.scalars(
            select(AuditEvent).order_by(AuditEvent.id).execution_options(populate_existing=True)
        )
    )


# --- what a row carries ----------------------------------------------------------------


def test_each_record_carries_a_keyed_mac_and_a_seal_chains_them(db: Session) -> None:
    # Changed with the keyed design: rows no longer link to the previous row's hash (that
    # needed a global lock per append); a seal links them instead.
    first, second, third = _three_events(db)
    for event in (first, second, third):
        assert event.mac == chain.row_mac(b"test-audit-key", event)
        assert event.prev_hash is None and event.hash is None
    (only,) = db.scalars(select(AuditSeal)).all()
    assert (only.first_id, only.last_id, only.count, only.total) == (first.id, third.id, 3, 3)
    assert only.ids == f"{first.id}-{third.id}" and only.prev_mac == "0" * 64
    result = audit.verify(db)
    assert result.ok and result.checked == 3 and result.sealed == 3 and not result.warnings


def test_a_record_says_who_what_which_patient_why_and_in_which_request(db: Session) -> None:
    from ketaclinic.platform.actors import Actor

    patient = a_patient(db)
    nurse = Actor(user_id=None, username="nurse.kim", ip="10.0.0.7")
    db.info["correlation_id"] = "req-42"
    event = audit.record(
        db,
        actor=nurse,
        action="session.vitals",
        patient_id=patient.id,
        object_type="session",
        object_id=7,
        detail="BP 150/95",
        reason="monitoring",
    )
    db.commit()
    assert (event.actor, event.ip, event.patient_id, event.reason) == (
        "nurse.kim",
        "10.0.0.7",
        patient.id,
        "monitoring",
    )
    assert event.correlation_id == "req-42" and event.object_id == "7"
    assert event.sensitive  # a clinical area's action, by the declared table
    assert not audit.record(db, actor=nurse, action="user.create").sensitive
    assert audit.record(db, actor=nurse, action="user.create", sensitive=True).sensitive


def test_the_database_refuses_to_update_or_delete_an_audit_record(db: Session) -> None:
    event = _three_events(db)[1]
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute(text("UPDATE audit_events SET detail = 'x' WHERE id = :id"), {"id": event.id})
    db.rollback()
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": event.id})
    db.rollback()
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute(text("DELETE FROM audit_seals"))
    db.rollback()
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute(text("UPDATE audit_seals SET mac = 'x'"))
    db.rollback()


# --- tampering -------------------------------------------------------------------------


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


def test_verify_names_a_deleted_record(db: Session) -> None:
    # Changed with the keyed design: the seal lists the ids it covers, so verify names
    # the deleted record itself rather than the one after it.
    events = _three_events(db)
    _drop_guard(db)
    db.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": events[1].id})
    db.commit()
    result = audit.verify(db)
    assert not result.ok
    assert result.first_broken_id == events[1].id
    assert result.problem is not None and result.problem.startswith("record deleted")


def test_a_deleted_middle_row_is_detected(db: Session) -> None:
    events = _events(db, 60)
    _drop_guard(db)
    db.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": events[30].id})
    db.commit()
    result = audit.verify(db)
    assert (result.ok, result.first_broken_id) == (False, events[30].id)
    assert "record deleted" in (result.problem or "")


def test_a_deleted_tail_is_detected(db: Session) -> None:
    events = _events(db, 60)
    _drop_guard(db)
    db.execute(text("DELETE FROM audit_events WHERE id > :id"), {"id": events[9].id})
    db.commit()
    result = audit.verify(db)
    assert (result.ok, result.first_broken_id) == (False, events[10].id)
    assert "record deleted" in (result.problem or "")


def test_a_deleted_tail_with_its_seals_is_detected_by_the_checkpoint(db: Session) -> None:
    events = _events(db, 10)
    _events(db, 50)  # a second act, sealed after the first one
    assert audit.load_checkpoint(db).checkpoint.total == 60  # type: ignore[union-attr]
    _drop_guard(db)
    db.execute(text("DELETE FROM audit_events WHERE id > :id"), {"id": events[-1].id})
    db.execute(text("DELETE FROM audit_seals WHERE last_id > :id"), {"id": events[-1].id})
    db.commit()
    result = audit.verify(db)
    assert not result.ok
    assert result.first_broken_id == events[-1].id + 1
    assert (result.problem or "").startswith("deleted tail: the checkpoint vouches for 60")


def test_the_cut_trail_sealed_again_is_still_behind_its_checkpoint(db: Session) -> None:
    events = _events(db, 10)
    _events(db, 5)
    _drop_guard(db)
    db.execute(text("DELETE FROM audit_events WHERE id > :id"), {"id": events[-1].id})
    db.execute(text("DELETE FROM audit_seals WHERE last_id > :id"), {"id": events[-1].id})
    db.commit()
    _events(db, 8)  # new acts seal on top of the cut trail
    assert audit.load_checkpoint(db).checkpoint.total == 15  # type: ignore[union-attr]
    result = audit.verify(db, seal_first=True)
    assert not result.ok
    assert "deleted tail" in (result.problem or "") or "differs from the checkpoint" in (
        result.problem or ""
    )


def _recompute_old_way(db: Session, from_id: int) -> None:
    """Rebuild the unkeyed SHA-256 chain from ``from_id`` on, as the old code did."""
    rows = _rows(db)
    previous = "0" * 64
    for row in rows:
        if row.id >= from_id:
            row.prev_hash = previous
            row.hash = chain.legacy_digest(row)
        previous = row.hash or previous
    db.commit()


def test_a_row_forged_and_the_chain_recomputed_the_old_way_is_detected(db: Session) -> None:
    events = _events(db, 5)
    _drop_guard(db)
    forged = db.get(AuditEvent, events[2].id)
    assert forged is not None
    forged.detail = "nothing happened"
    db.commit()
    _recompute_old_way(db, 1)
    result = audit.verify(db)
    assert (result.ok, result.first_broken_id) == (False, events[2].id)
    assert result.problem == "record altered after it was written"


def test_a_row_and_its_seals_recomputed_with_a_wrong_key_are_detected(db: Session) -> None:
    events = _events(db, 5)
    _drop_guard(db)
    db.info["audit_key"] = "the intruder's key"
    for row in _rows(db):  # every MAC recomputed with the intruder's key...
        if row.id == events[2].id:
            row.detail = "nothing happened"
        row.mac = chain.row_mac(b"the intruder's key", row)
    db.commit()
    db.execute(text("DELETE FROM audit_seals"))
    audit.seal(db, wait=True)  # ...and every seal rebuilt with it
    db.commit()
    assert audit.verify(db, checkpoint=None).ok  # as the intruder sees it; the real key:
    del db.info["audit_key"]
    result = audit.verify(db)
    assert (result.ok, result.first_broken_id) == (False, events[0].id)
    assert "altered" in (result.problem or "")


def test_a_forged_seal_chain_is_detected(db: Session) -> None:
    _events(db, 3)
    later = _events(db, 2)
    _drop_guard(db)
    # Drop the second act's rows and forge a seal chain that does not list them.
    db.execute(text("DELETE FROM audit_events WHERE id >= :id"), {"id": later[0].id})
    fake = "f" * 64
    db.execute(text("UPDATE audit_seals SET mac = :m, ids = '1-3'"), {"m": fake})
    db.commit()
    result = audit.verify(db, checkpoint=None)
    assert not result.ok and result.first_broken_id == 1
    assert "seal" in (result.problem or "")


def test_a_missing_checkpoint_is_reported(db: Session) -> None:
    _three_events(db)
    path = audit.checkpoint_path(db)
    assert path.exists()
    path.unlink()
    result = audit.verify(db)
    assert result.ok
    assert any("no checkpoint file" in w for w in result.warnings)


def test_an_altered_checkpoint_is_a_break_and_is_never_overwritten(db: Session) -> None:
    _three_events(db)
    path = audit.checkpoint_path(db)
    body = json.loads(path.read_text())
    body["total"] = 2
    path.write_text(json.dumps(body))
    result = audit.verify(db)
    assert not result.ok and "checkpoint file" in (result.problem or "")
    _events(db, 2)
    assert json.loads(path.read_text())["total"] == 2  # kept as evidence


def test_the_checkpoint_is_written_atomically_beside_the_data_and_logged(
    db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="ketaclinic.audit"):
        events = _three_events(db)
    head = audit.load_checkpoint(db).checkpoint
    assert head is not None and (head.last_id, head.total) == (events[-1].id, 3)
    assert f"sealed through record {events[-1].id}" in caplog.text
    assert not list(audit.checkpoint_path(db).parent.glob(".audit-checkpoint.json.*"))


# --- the sealer ------------------------------------------------------------------------


def test_sequence_gaps_from_rolled_back_transactions_are_not_a_break(db: Session) -> None:
    first = _events(db, 2, sealed=False)
    audit.record(db, actor=TEST_ACTOR, action="test.rolled_back")
    db.rollback()
    last = _events(db, 2)
    result = audit.verify(db)
    assert result.ok and result.checked == 4 and result.unsealed == 0
    listed = ",".join(db.scalars(select(AuditSeal.ids)))
    if db.get_bind().dialect.name == "postgresql":
        assert last[0].id == first[-1].id + 2  # the rolled-back id is a gap...
        assert str(first[-1].id + 1) not in listed.replace("-", ",").split(",")
    assert str(last[-1].id) in listed  # ...and the rows after it are sealed


@pytest.fixture
def no_sealing_at_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain, "_auto_seal", lambda db: None)


@pytest.mark.usefixtures("no_sealing_at_commit")
def test_the_sealer_seals_a_record_whose_mac_fails_as_found_so_it_cannot_vanish(
    db: Session,
) -> None:
    events = _events(db, 3, sealed=False)
    _drop_guard(db)
    db.execute(text("UPDATE audit_events SET detail = 'x' WHERE id = :id"), {"id": events[1].id})
    db.commit()
    outcome = audit.seal(db, wait=True)
    db.commit()
    assert outcome is not None and outcome.records == 3 and outcome.flagged == (events[1].id,)
    result = audit.verify(db)
    assert (result.ok, result.first_broken_id) == (False, events[1].id)
    db.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": events[1].id})
    db.commit()
    gone = audit.verify(db)
    assert (gone.ok, gone.first_broken_id) == (False, events[1].id)
    assert "record deleted" in (gone.problem or "")


def test_an_act_seals_its_rows_when_it_commits(db: Session) -> None:
    audit.record(db, actor=TEST_ACTOR, action="test.act")
    db.commit()
    assert db.scalar(select(AuditSeal.count)) == 1
    assert audit.load_checkpoint(db).status == "ok"


def test_an_act_with_savepoints_seals_once_when_the_act_commits(db: Session) -> None:
    # The bedside-monitor listener writes a group of messages, each in a savepoint.
    audit.record(db, actor=TEST_ACTOR, action="test.kept")
    with db.begin_nested():
        audit.record(db, actor=TEST_ACTOR, action="test.released")
    # Released, not committed: no seal yet (a seal inside a savepoint could be undone).
    assert db.scalar(select(AuditSeal.count)) is None
    try:
        with db.begin_nested():
            audit.record(db, actor=TEST_ACTOR, action="test.undone")
            raise RuntimeError("this message fails")
    except RuntimeError:
        pass
    db.commit()
    # The savepoint rolled back did not make the act forget that it wrote.
    assert db.scalar(select(AuditSeal.count)) == 2
    assert audit.load_checkpoint(db).status == "ok"
    assert audit.verify(db).ok


def test_legacy_rows_are_checked_the_old_way_then_sealed_under_the_key(db: Session) -> None:
    """Rows written before keyed MACs (left by the migration with mac NULL)."""
    previous = "0" * 64
    _drop_guard(db)  # inserting raw rows with explicit ids
    for i in range(1, 4):
        row = AuditEvent(id=i, at=utcnow(), actor="old", action=f"old.{i}", detail=str(i), ip=None)
        row.actor_id = row.patient_id = row.object_type = row.object_id = None
        row.prev_hash = previous
        row.hash = previous = chain.legacy_digest(row)
        db.add(row)
    db.commit()
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), 3)"))
        db.commit()
    assert audit.verify(db, checkpoint=None).ok  # verified the old way, not yet sealed
    audit.record(db, actor=TEST_ACTOR, action="test.new")
    audit.seal(db, wait=True)
    db.commit()
    assert db.scalar(select(AuditSeal.ids)) == "1-4"
    assert audit.verify(db).ok
    # Sealed, a legacy row can no longer be rewritten with its unkeyed chain recomputed.
    db.execute(text("UPDATE audit_events SET detail = 'forged' WHERE id = 2"))
    db.commit()
    _recompute_old_way(db, 2)
    result = audit.verify(db)
    assert (result.ok, result.first_broken_id) == (False, 1)
    assert "seal" in (result.problem or "")


def test_a_record_without_a_mac_after_keyed_ones_is_refused(db: Session) -> None:
    events = _three_events(db)
    _drop_guard(db)
    db.execute(
        text("UPDATE audit_events SET mac = NULL, prev_hash = 'x', hash = 'y' WHERE id = :id"),
        {"id": events[2].id},
    )
    db.commit()
    result = audit.verify(db)
    assert (result.ok, result.first_broken_id) == (False, events[2].id)


def _postgres_only(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers are a PostgreSQL matter (SQLite has one writer)")


def test_two_writers_on_postgresql_do_not_wait_for_each_other(engine: Engine) -> None:
    _postgres_only(engine)
    factory = make_session_factory(engine)
    with factory() as first, factory() as second:
        audit.record(first, actor=TEST_ACTOR, action="test.first")  # transaction left open
        second.execute(text("SET LOCAL lock_timeout = '300ms'"))
        second.execute(text("SET LOCAL statement_timeout = '2s'"))
        audit.record(second, actor=TEST_ACTOR, action="test.second")
        # A sealer busy in one transaction is skipped by the other, never waited for.
        assert audit.seal(first) is not None
        assert audit.seal(second) is None
        second.commit()
        first.commit()
    with factory() as db:
        audit.seal(db, wait=True, sweep=True)
        db.commit()
        result = audit.verify(db)
        assert result.ok and result.checked == 2 and result.unsealed == 0


def test_a_row_committed_after_a_later_one_was_sealed_is_sealed_late(engine: Engine) -> None:
    _postgres_only(engine)
    factory = make_session_factory(engine)
    with factory() as slow, factory() as fast:
        early = audit.record(slow, actor=TEST_ACTOR, action="test.slow")
        later = audit.record(fast, actor=TEST_ACTOR, action="test.fast")
        assert early.id < later.id
        audit.seal(fast, wait=True)
        fast.commit()
        slow.commit()
    with factory() as db:
        pending = audit.verify(db)
        assert pending.ok and pending.unsealed == 1
        outcome = audit.seal(db, wait=True, sweep=True)
        db.commit()
        assert outcome is not None and outcome.records == 1
        assert db.scalars(select(AuditSeal.ids).order_by(AuditSeal.id)).all() == [
            str(later.id),
            str(early.id),
        ]
        assert audit.verify(db).unsealed == 0 and audit.verify(db).ok


# --- reads -----------------------------------------------------------------------------


def test_reading_a_patient_is_audited_with_who_and_which_patient(db: Session) -> None:
    from ketaclinic.patients import service as patients

    patient = a_patient(db)
    patients.get_patient(db, actor=TEST_ACTOR, patient_id=patient.id)
    audit.flush_reads(db)  # what the unit of work does when the act ends
    last = audit.for_patient(db, patient.id)[0]
    assert (last.action, last.actor, last.patient_id) == ("patient.view", "test", patient.id)


def test_reads_are_batched_to_one_row_per_reader_and_patient(db: Session) -> None:
    maria = a_patient(db)
    other = a_patient(db, given_name="Ana", family_name="Reyes")
    db.commit()
    before = len(_rows(db))
    for action, kind, oid in (
        ("patient.chart", "patient", maria.id),
        ("course.view", "course", 1),
        ("order.view", "order", 2),
        ("order.view", "order", 3),
    ):
        audit.note_read(
            db, actor=TEST_ACTOR, action=action, patient_id=maria.id, object_type=kind,
            object_id=oid,
        )  # fmt: skip
    audit.note_read(db, actor=TEST_ACTOR, action="patient.chart", patient_id=other.id)
    assert len(_rows(db)) == before  # nothing written until the act ends
    assert audit.flush_reads(db) == 2
    db.commit()
    rows = _rows(db)[before:]
    assert len(rows) == 2
    first = next(r for r in rows if r.patient_id == maria.id)
    # The first read names the purpose; what else was read for it is listed once each.
    assert (first.action, first.object_type, first.object_id) == (
        "patient.chart",
        "patient",
        str(maria.id),
    )
    assert first.detail == "also read: course.view, order.view"
    assert audit.flush_reads(db) == 0  # the buffer is cleared


# --- the command line ------------------------------------------------------------------


@pytest.mark.real_commits
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
    assert intact.exit_code == 0, intact.output
    assert "intact: 3 records" in intact.output
    _drop_guard(db)
    db.execute(
        text("UPDATE audit_events SET actor = 'someone else' WHERE id = :id"), {"id": events[2].id}
    )
    db.commit()
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert f"BROKEN at record {events[2].id}" in broken.output


@pytest.mark.real_commits
def test_the_cli_seals_and_records_that_the_trail_was_verified(
    db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ketaclinic.cli import app
    from ketaclinic.platform import settings as settings_module

    _events(db, 4, sealed=False)
    monkeypatch.setattr(settings_module, "get_settings", lambda: settings)
    monkeypatch.setattr("ketaclinic.cli.common.get_settings", lambda: settings)
    runner = CliRunner()
    sealed = runner.invoke(app, ["audit", "seal"])
    assert sealed.exit_code == 0, sealed.output
    checked = runner.invoke(app, ["audit", "verify", "--no-progress"])
    assert checked.exit_code == 0, checked.output
    assert "intact: 4 records" in checked.output
    row = db.scalars(select(AuditEvent).where(AuditEvent.action == "audit.verify")).one()
    assert row.actor == "cli" and row.detail.startswith("intact")


# --- who may see what ------------------------------------------------------------------


def test_an_admin_without_a_clinical_role_sees_clinical_detail_withheld(
    client: TestClient, db: Session
) -> None:
    patient = a_patient(db)
    audit.record(
        db,
        actor=TEST_ACTOR,
        action="alert.raise",
        patient_id=patient.id,
        detail="PHQ-9 item 9 answered 'nearly every day'",
    )
    make_user(db, "admin")
    make_user(db, ["admin", "prescriber"], username="director")
    db.commit()
    login(client, "admin")
    page = client.get("/admin/audit").text
    assert "nearly every day" not in page and audit.WITHHELD in page
    assert "alert.raise" in page
    client.cookies.clear()
    login(client, "director")
    assert "nearly every day" in client.get("/admin/audit").text


def test_a_patients_access_log_withholds_clinical_detail_and_is_audited(
    client: TestClient, db: Session
) -> None:
    patient = a_patient(db)
    audit.record(
        db, actor=TEST_ACTOR, action="alert.raise", patient_id=patient.id, detail="C-SSRS 4"
    )
    make_user(db, "admin")
    db.commit()
    login(client, "admin")
    page = client.get(f"/admin/patients/{patient.id}/access").text
    assert "C-SSRS 4" not in page and audit.WITHHELD in page
    row = db.scalars(select(AuditEvent).where(AuditEvent.action == "audit.view")).one()
    assert row.patient_id == patient.id and row.actor == "admin"


def test_viewing_the_audit_page_writes_audit_view(client: TestClient, db: Session) -> None:
    make_user(db, "admin")
    db.commit()
    login(client, "admin")
    assert client.get("/admin/audit", params={"action": "patient."}).status_code == 200
    row = db.scalars(select(AuditEvent).where(AuditEvent.action == "audit.view")).one()
    assert row.actor == "admin" and "action='patient.'" in row.detail


def test_the_admin_page_asks_for_a_verification_that_a_background_job_runs(
    client: TestClient, db: Session, engine: Engine
) -> None:
    make_user(db, "admin")
    db.commit()
    csrf = login(client, "admin")
    assert "has not been verified yet" in client.get("/admin/audit/verify").text
    asked = client.post("/admin/audit/verify", data={"csrf_token": csrf}, follow_redirects=False)
    assert asked.status_code == 303
    waiting = client.get("/admin/audit/verify").text
    assert "is waiting for the background jobs" in waiting
    # No request verified anything: the job does, in the name of the admin who asked.
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "audit.verify")) is None
    db.rollback()
    factory = make_session_factory(engine)
    factory.configure(info=dict(db.info))
    ran = jobs.run_scheduled(factory, force=True, names={"platform.verify_audit_trail"})
    assert [r.summary for r in ran] == ["intact"]
    row = db.scalars(select(AuditEvent).where(AuditEvent.action == "audit.verify")).one()
    assert row.actor == "admin" and row.detail.startswith("intact")
    db.rollback()
    page = client.get("/admin/audit/verify").text
    assert "by admin: intact" in page and "waiting" not in page
    again = jobs.run_scheduled(factory, force=True, names={"platform.verify_audit_trail"})
    assert [r.summary for r in again] == ["no verification asked for"]
    db.rollback()  # release SQLite's write lock before the app needs it
    api = client.get("/api/audit/verify").json()
    assert api["status"] == "done" and api["last"]["ok"] and api["last"]["by"] == "admin"


def test_the_api_starts_a_verification_in_the_background_and_shows_its_result(
    client: TestClient, db: Session, engine: Engine
) -> None:
    make_user(db, "admin")
    db.commit()
    csrf = login(client, "admin")
    assert client.get("/api/audit/verify").json()["status"] == "never"
    started = client.post("/api/audit/verify", headers={"X-CSRF-Token": csrf})
    assert started.status_code == 202
    assert started.headers["location"] == "/api/audit/verify"
    body = started.json()
    assert body["status"] == "waiting" and body["asked_by"] == "admin"
    assert body["status_url"] == "/api/audit/verify"
    # The request verified nothing: no audit.verify record yet, the status says waiting.
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "audit.verify")) is None
    assert client.get(body["status_url"]).json()["status"] == "waiting"
    db.rollback()
    factory = make_session_factory(engine)
    factory.configure(info=dict(db.info))
    ran = jobs.run_scheduled(factory, force=True, names={"platform.verify_audit_trail"})
    assert [r.summary for r in ran] == ["intact"]
    done = client.get(body["status_url"]).json()
    assert done["status"] == "done" and done["asked_by"] is None
    assert done["last"]["ok"] and done["last"]["by"] == "admin"
    assert done["last"]["outcome"].startswith("intact, ")


def test_a_denied_request_writes_access_denied(client: TestClient, db: Session) -> None:
    nurse = make_user(db, "nurse")
    db.commit()
    login(client, "nurse")
    response = client.get("/admin/audit", params={"action": "patient.secret"})
    assert response.status_code == 403
    row = db.scalars(select(AuditEvent).where(AuditEvent.action == "access.denied")).one()
    assert (row.actor, row.actor_id, row.detail) == ("nurse", nurse.id, "GET /admin/audit")
    assert row.object_type == "route" and row.ip is not None
    assert audit.verify(db).ok


# --- the key ---------------------------------------------------------------------------


def test_production_mode_without_an_audit_key_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KETACLINIC_AUDIT_KEY")
    with pytest.raises(ConfigurationError, match="KETACLINIC_AUDIT_KEY"):
        _ = Settings(mode="production", data_dir=tmp_path).effective_audit_key
    (tmp_path / "audit.key").write_text("a key made by the installer\n")
    assert Settings(mode="production", data_dir=tmp_path).effective_audit_key == (
        b"a key made by the installer"
    )


def test_the_embedded_mode_keeps_one_generated_audit_key_readable_by_its_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KETACLINIC_AUDIT_KEY")
    first = Settings(data_dir=tmp_path).effective_audit_key
    assert len(first) > 40
    assert Settings(data_dir=tmp_path).effective_audit_key == first
    assert stat.S_IMODE((tmp_path / "audit.key").stat().st_mode) == 0o600
    assert Settings(data_dir=tmp_path, audit_key="set").effective_audit_key == b"set"


def test_the_checkpoint_itself_is_keyed(db: Session) -> None:
    _three_events(db)
    body = json.loads(audit.checkpoint_path(db).read_text())
    check = body.pop("check")
    expected = hmac.new(
        b"test-audit-key", json.dumps(body, sort_keys=True).encode(), sha256
    ).hexdigest()
    assert check == expected


def test_sealed_rows_older_than_the_late_window_are_left_alone(db: Session) -> None:
    _events(db, 2)
    outcome = audit.seal(db, wait=True, sweep=True, now=utcnow() + timedelta(hours=2))
    assert outcome is not None and outcome.records == 0


def test_a_resumed_verification_checks_only_what_came_after_the_last_seal_it_reached(
    db: Session,
) -> None:
    first = _events(db, 3)
    assert audit.verify_trail(db, actor=TEST_ACTOR).checked == 3
    db.commit()
    _events(db, 2)
    resumed = audit.verify_trail(db, actor=TEST_ACTOR, resume=True)
    db.commit()
    assert resumed.ok
    assert resumed.resumed_after == first[-1].id
    # The first run's own audit.verify record and the two written since.
    assert resumed.checked == 3
    newest = _events(db, 2)
    _drop_guard(db)
    db.execute(
        text("UPDATE audit_events SET detail = 'forged' WHERE id = :id"), {"id": newest[0].id}
    )
    db.commit()
    broken = audit.verify_trail(db, actor=TEST_ACTOR, resume=True)
    assert not broken.ok and broken.first_broken_id == newest[0].id
    # A break forgets the progress: the next resumed run walks the whole trail again.
    assert not chain.progress_path(db).exists()
    db.commit()
    again = audit.verify_trail(db, actor=TEST_ACTOR, resume=True)
    assert again.resumed_after is None and again.first_broken_id == newest[0].id


def test_a_forged_progress_file_is_refused(db: Session) -> None:
    _events(db, 2)
    audit.verify_trail(db, actor=TEST_ACTOR)
    path = chain.progress_path(db)
    body = path.read_text().replace('"total": ', '"total": 1')
    path.write_text(body)
    with pytest.raises(Invalid):
        audit.verify_trail(db, actor=TEST_ACTOR, resume=True)
