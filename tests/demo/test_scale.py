"""The seeded clinic (``ketaclinic demo --scale``), and what its pages cost as it grows:
the chart and the clinic outcomes page run as many SQL statements for 100 sessions as
for 10."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from ketaclinic import demo
from ketaclinic.demo import scale
from ketaclinic.orders.models import Course
from ketaclinic.outcomes.models import QuestionnaireResponse
from ketaclinic.patients.models import Patient
from ketaclinic.platform.audit import chain
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.sessions.models import InfusionSession, VitalSign
from tests.conftest import login


def _seeded(db: Session, *, patients: int, sessions: int) -> list[int]:
    """Seed patients of ``sessions`` sessions each; their ids."""
    before = db.scalar(select(func.max(Patient.id))) or 0
    scale.seed(
        db,
        clinic_years=0.01,
        patients=patients,
        sessions_per_patient=sessions,
        vitals_per_session=20,
        seed=patients * 1000 + sessions,
    )
    db.commit()
    return list(db.scalars(select(Patient.id).where(Patient.id > before).order_by(Patient.id)))


TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


def _statements(client: TestClient, path: str) -> int:
    """The statements a page runs to show itself. Its audit of the read is left out: one
    row per reader and patient however large the clinic, but written when the batch of
    reads is due and sealed when the last seal is a second old, so the number of
    statements around it depends on the clock."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        # Transaction control is left out too: on PostgreSQL each test commit is a
        # savepoint, and how many there are depends on when the audit batch falls due.
        if statement.split(None, 1)[0].upper() in TRANSACTION_CONTROL:
            return
        if "audit_" not in statement and "advisory" not in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert response.status_code == 200, path
    return len(seen)


@pytest.mark.real_commits
def test_a_tiny_seeded_clinic_renders_every_page_and_its_audit_trail_holds(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = scale.seed(db, clinic_years=0.02, vitals_per_session=30)
    db.commit()
    assert made.patients == 10
    assert made.sessions >= 90
    assert made.vital_signs == 30 * made.sessions
    # The MACs computed in bulk are the current format's, over the very text the
    # database builds: no seeded record needs checking again from its fields.
    older = select(func.count()).where(
        (AuditEvent.mac_version != chain.MAC_VERSION) | AuditEvent.mac_version.is_(None)
    )
    assert db.scalar(older) == 0

    def rechecked(*_: object) -> None:
        raise AssertionError("a seeded record's text differs from the database's")

    monkeypatch.setattr(chain._Checker, "_recheck", rechecked)
    assert audit.verify(db).ok
    patient_id = db.scalar(select(func.max(Patient.id)))
    session_id = db.scalar(
        select(func.max(InfusionSession.id)).where(InfusionSession.patient_id == patient_id)
    )
    assert db.scalar(select(func.count()).where(VitalSign.session_id == session_id)) == 30
    course_id = db.scalar(select(func.max(Course.id)).where(Course.patient_id == patient_id))
    response_id = db.scalar(
        select(func.max(QuestionnaireResponse.id)).where(
            QuestionnaireResponse.patient_id == patient_id
        )
    )
    db.rollback()
    login(client, "dr.chen", demo.PASSWORD)
    for path in (
        f"/patients/{patient_id}/courses/{course_id}",
        f"/outcomes/responses/{response_id}",
        f"/patients/{patient_id}",
        f"/patients/{patient_id}/history",
        f"/sessions/{session_id}",
        f"/patients/{patient_id}/outcomes",
        "/outcomes/dashboard",
        "/outcomes/clinic?start=2000-01-01",
        "/patients",
    ):
        assert client.get(path).status_code == 200, path


@pytest.mark.real_commits
@pytest.mark.parametrize(
    ("page", "username"),
    [
        (lambda ids: f"/patients/{ids[0]}", "dr.rivera"),
        (lambda ids: "/outcomes/clinic?start=2000-01-01", "dr.chen"),
        (lambda ids: "/outcomes/dashboard", "dr.rivera"),
    ],
    ids=["chart", "clinic outcomes", "course dashboard"],
)
def test_a_page_runs_as_many_statements_for_100_sessions_as_for_10(
    client: TestClient, db: Session, page: Callable[[list[int]], str], username: str
) -> None:
    login(client, username, demo.PASSWORD)
    small = _seeded(db, patients=1, sessions=10)
    db.rollback()
    path = page(small)
    _statements(client, path)  # warm: the first request reads the clinic's settings
    at_10 = _statements(client, path)
    large = _seeded(db, patients=9, sessions=10) if "patients/" not in path else []
    if not large:
        # The chart: one patient of 100 sessions against the one of 10.
        large = _seeded(db, patients=1, sessions=100)
        path = page(large)
        _statements(client, path)
    db.rollback()
    at_100 = _statements(client, path)
    # Not growing is the rule; the two charts are of different patients, whose few
    # per-patient reads (alerts, calls, medications) may differ by a statement or two.
    assert at_100 <= at_10, f"{path}: {at_10} statements for 10 sessions, {at_100} for 100"


def test_a_seeded_clinic_on_postgresql_is_planned_from_its_statistics(db: Session) -> None:
    """A bulk load leaves PostgreSQL's statistics empty (``reltuples`` -1 until autovacuum
    comes round), and the planner then takes a big table for a handful of rows; the seeder
    analyzes what it wrote, in its own transaction."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite plans without statistics unless ANALYZE was ever run")
    made = scale.seed(db, clinic_years=0.01, vitals_per_session=20)
    estimated = db.execute(
        text(
            "SELECT relname, reltuples FROM pg_class "
            "WHERE relname IN ('vital_signs', 'session_events', 'infusion_sessions')"
        )
    ).all()
    counted = {
        "vital_signs": db.scalar(select(func.count()).select_from(VitalSign)),
        "infusion_sessions": db.scalar(select(func.count()).select_from(InfusionSession)),
    }
    assert made.vital_signs == 20 * made.sessions
    found = dict(estimated)
    assert found["session_events"] > 0
    # ANALYZE of a table this small reads every row: the estimate is the count.
    for table, rows in counted.items():
        assert found[table] == rows, table
