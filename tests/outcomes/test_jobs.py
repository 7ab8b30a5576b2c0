"""The outcomes jobs: claimed before they run, enqueued with the write that causes them,
and quiet when there is nothing to do."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from ketaclinic.outcomes import service
from ketaclinic.outcomes.models import OutboxMessage, SuicidalityAlert
from ketaclinic.outcomes.service import MemoryTransport, alerts, outbox
from ketaclinic.platform import jobs
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.db import make_session_factory, transaction, utcnow
from tests.outcomes.helpers import a_course, a_patient, given_sessions, phq9, staff


@pytest.fixture
def transport(monkeypatch: pytest.MonkeyPatch) -> MemoryTransport:
    sent = MemoryTransport()
    monkeypatch.setattr(outbox, "default_transport", lambda: sent)
    return sent


def _audit_rows(db: Session) -> int:
    db.rollback()  # a fresh snapshot: the jobs committed in their own transactions
    return int(db.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def _queued_links(db: Session, monkeypatch: pytest.MonkeyPatch, patients: int = 3) -> list[int]:
    """Baseline questionnaires due for a few patients, their messages queued unsent."""
    given_sessions(monkeypatch, {})
    for n in range(patients):
        patient = a_patient(db, email=f"patient{n}@example.org")
        a_course(db, patient.id, created_at=utcnow() - timedelta(hours=2))
    report = service.run_due_work(db, now=utcnow(), deliver=False)
    db.commit()
    assert report.requests_created == 2 * patients
    return list(db.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))


def test_every_area_job_is_declared_once_with_a_schedule_or_a_key() -> None:
    declared = jobs.registry()
    assert {
        "outcomes.expire_requests",
        "outcomes.make_due_requests",
        "outcomes.escalate_alerts",
        "outcomes.deliver_outbox",
        "outcomes.escalate_alert",
        "outcomes.deliver_message",
    } <= set(declared)
    assert declared["outcomes.deliver_message"].unique_key(message_id=7) == (
        "outcomes.deliver_message:7"
    )
    assert declared["outcomes.make_due_requests"].cron == "* * * * *"


def test_an_idle_round_of_the_jobs_writes_no_audit_rows(
    engine: Engine, db: Session, monkeypatch: pytest.MonkeyPatch, transport: MemoryTransport
) -> None:
    given_sessions(monkeypatch, {})
    for n in range(3):
        patient = a_patient(db, email=f"p{n}@example.org")
        a_course(db, patient.id, created_at=utcnow() - timedelta(hours=2))
    factory = make_session_factory(engine)
    first = jobs.run_scheduled(factory, force=True)
    assert all(r.ran and not r.failed for r in first)
    assert len(transport.sent) == 6
    acted = _audit_rows(db)
    assert acted > 0  # the requests made, and the reads they were made from
    idle = jobs.run_scheduled(factory, force=True)
    # The daily backup keeps to its schedule even when every job is run by hand.
    assert all(r.ran for r in idle if r.name != "platform.backup")
    assert len(transport.sent) == 6
    assert _audit_rows(db) == acted


def test_a_scheduled_job_runs_in_one_process_at_a_time_and_by_its_schedule(
    engine: Engine,
) -> None:
    factory = make_session_factory(engine)
    job = jobs.get("outcomes.expire_requests")
    now = utcnow()
    assert jobs.claim(factory, job, owner="a", now=now, force=False)
    assert not jobs.claim(factory, job, owner="b", now=now, force=True)  # a holds it
    jobs.release(factory, job, owner="a", result="done")
    assert not jobs.claim(factory, job, owner="b", now=now + timedelta(seconds=5), force=False)
    assert jobs.claim(factory, job, owner="b", now=now + timedelta(seconds=5), force=True)
    # A process that died holding the lease is replaced once the lease has passed.
    assert jobs.claim(factory, job, owner="c", now=now + job.lease * 2, force=False)


def test_a_message_claimed_by_one_sender_is_not_sent_by_another_until_the_lease_passes(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _queued_links(db, monkeypatch, patients=1)
    now = utcnow()
    assert outbox.claim(db, owner="sender-a", now=now) == ids
    db.commit()
    late = MemoryTransport()
    assert outbox.deliver_pending(db, now=now, transport=late, owner="sender-b").sent == 0
    # sender-a crashed after claiming: after the lease another sender takes over.
    after = now + outbox.CLAIM_LEASE + timedelta(seconds=1)
    assert outbox.deliver_pending(db, now=after, transport=late, owner="sender-b").sent == 2
    db.commit()
    rows = db.scalars(select(OutboxMessage)).all()
    assert {(m.status, m.claimed_by) for m in rows} == {("sent", "sender-b")}
    assert outbox.send_claimed(db, message_id=ids[0], owner="sender-a", now=after) is None


def test_two_senders_at_once_send_each_message_exactly_once(
    engine: Engine, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _queued_links(db, monkeypatch, patients=4)
    factory = make_session_factory(engine)
    sent = MemoryTransport()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def sender(owner: str) -> None:
        try:
            start.wait(timeout=10)
            for _ in range(3):
                with transaction(factory) as tx:
                    mine = outbox.claim(tx, owner=owner, now=utcnow(), limit=3)
                for message_id in mine:
                    with transaction(factory) as tx:
                        outbox.send_claimed(
                            tx, message_id=message_id, owner=owner, now=utcnow(), transport=sent
                        )
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=sender, args=(f"sender-{n}",)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(sent.sent) == len(ids) == 8
    db.rollback()
    rows = db.scalars(select(OutboxMessage)).all()
    assert all(m.status == "sent" for m in rows)


def test_an_escalation_checked_twice_escalates_once(db: Session) -> None:
    staff(db, "prescriber", "dr.rivera")
    nurse = staff(db, "nurse")
    patient = a_patient(db)
    service.record_response(
        db, actor=nurse, patient_id=patient.id, instrument_id="phq9", answers=phq9(14, item9=2)
    )
    alert = db.scalar(select(SuicidalityAlert))
    assert alert is not None
    at = alert.raised_at + timedelta(minutes=alert.escalate_after_min)
    assert alerts.escalate_alert(db, alert_id=alert.id, now=at - timedelta(minutes=1)) is False
    assert alerts.escalate_alert(db, alert_id=alert.id, now=at) is True
    assert alerts.escalate_alert(db, alert_id=alert.id, now=at) is False
    assert alerts.escalate_due(db, now=at + timedelta(hours=1)) == []
    escalations = db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "alert.escalate")
    )
    assert escalations == 1


# --- PostgreSQL: the job queue ------------------------------------------------------------


def _queue(db: Session) -> list[tuple[str, str | None, object]]:
    return [
        (row.task_name, row.queueing_lock, row.scheduled_at)
        for row in db.execute(
            text(
                "SELECT task_name, queueing_lock, scheduled_at FROM procrastinate_jobs "
                "WHERE status = 'todo' ORDER BY id"
            )
        )
    ]


def _postgres_only(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the job queue is PostgreSQL's")


def test_jobs_enqueued_in_a_transaction_are_gone_when_it_rolls_back(
    engine: Engine, db: Session
) -> None:
    _postgres_only(engine)
    nurse = staff(db, "nurse")
    staff(db, "prescriber", "dr.rivera")
    patient = a_patient(db)
    service.record_response(
        db, actor=nurse, patient_id=patient.id, instrument_id="phq9", answers=phq9(14, item9=2)
    )
    inside = _queue(db)  # the transaction's own connection sees its jobs
    assert [name for name, _, _ in inside] == [
        "outcomes.deliver_message",
        "outcomes.escalate_alert",
    ]
    db.rollback()
    assert _queue(db) == []
    with make_session_factory(engine)() as other:
        assert _queue(other) == []


def test_an_alert_enqueues_its_notices_and_its_escalation_check_at_its_escalation_time(
    engine: Engine, db: Session
) -> None:
    _postgres_only(engine)
    nurse = staff(db, "nurse")
    staff(db, "prescriber", "dr.rivera")
    staff(db, ["prescriber", "admin"], "dr.chen")
    patient = a_patient(db)
    service.record_response(
        db, actor=nurse, patient_id=patient.id, instrument_id="phq9", answers=phq9(14, item9=2)
    )
    db.commit()
    alert = db.scalar(select(SuicidalityAlert))
    assert alert is not None
    messages = db.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)).all()
    with make_session_factory(engine)() as other:
        queued = _queue(other)
    assert [(name, lock) for name, lock, _ in queued] == [
        *(("outcomes.deliver_message", f"outcomes.deliver_message:{m}") for m in messages),
        ("outcomes.escalate_alert", f"outcomes.escalate_alert:{alert.id}"),
    ]
    assert queued[-1][2] == alert.raised_at + timedelta(minutes=60)


def test_a_job_already_waiting_is_not_enqueued_twice_and_the_act_goes_on(
    engine: Engine, db: Session
) -> None:
    _postgres_only(engine)
    patient = a_patient(db)
    with transaction(make_session_factory(engine)) as tx:
        jobs.enqueue(tx, "outcomes.escalate_alert", alert_id=41)
        jobs.enqueue(tx, "outcomes.escalate_alert", alert_id=41)
        jobs.enqueue(tx, "outcomes.escalate_alert", alert_id=42)
        tx.execute(text("SELECT 1"))  # the transaction is still usable after the duplicate
    assert [lock for _, lock, _ in _queue(db)] == [
        "outcomes.escalate_alert:41",
        "outcomes.escalate_alert:42",
    ]
    assert patient.id


def test_on_sqlite_enqueue_leaves_the_work_to_the_scheduled_jobs(
    engine: Engine, db: Session
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's in-process jobs")
    jobs.enqueue(db, "outcomes.deliver_message", message_id=1)
    with pytest.raises(LookupError):
        jobs.enqueue(db, "outcomes.no_such_job")
