"""On the demo clinic, the pages a clinic reads most commit nothing and write nothing
while they are read: their audit rows come after, one per reader and patient."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from ketaclinic import demo
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.sessions.models import InfusionSession
from tests.conftest import login


def _pages(db: Session) -> list[tuple[str, str]]:
    session_id = db.scalar(
        select(InfusionSession.id)
        .where(InfusionSession.status.in_(["discharged", "signed", "cosigned"]))
        .order_by(InfusionSession.id)
    )
    patient_id = db.scalar(
        select(InfusionSession.patient_id).where(InfusionSession.id == session_id)
    )
    return [
        ("dr.rivera", f"/patients/{patient_id}"),
        ("dr.rivera", f"/sessions/{session_id}"),
        ("dr.rivera", "/outcomes/dashboard"),
        ("dr.chen", "/outcomes/clinic"),
        ("nurse.okafor", "/"),
    ]


@pytest.mark.real_commits  # counts what the app's own engine runs
@pytest.mark.parametrize("index", range(5))
def test_a_page_view_writes_nothing_while_it_is_read(
    client: TestClient, db: Session, caplog: pytest.LogCaptureFixture, index: int
) -> None:
    username, path = _pages(db)[index]
    db.rollback()
    login(client, username, demo.PASSWORD)
    engine = client.app.state.engine  # type: ignore[attr-defined]
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(" ".join(statement.split()[:3]).upper())

    before = db.scalar(select(func.count()).select_from(AuditEvent))
    db.rollback()
    event.listen(engine, "before_cursor_execute", note)
    with caplog.at_level(logging.WARNING, logger="ketaclinic.unit_of_work"):
        response = client.get(path)
    event.remove(engine, "before_cursor_execute", note)
    assert response.status_code == 200, path
    assert "wrote during a read" not in caplog.text
    # The page's own statements only read; what is written is the later writer's audit
    # of the read (and the seal that chains it).
    writes = [s for s in seen if s.split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes, "the read was not audited"
    assert all(
        s.startswith(("INSERT INTO AUDIT_EVENTS", "INSERT INTO AUDIT_SEALS")) for s in writes
    )
    after = db.scalar(select(func.count()).select_from(AuditEvent))
    assert after is not None and before is not None and after > before
