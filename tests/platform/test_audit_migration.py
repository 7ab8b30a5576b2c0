"""A trail written before keyed MACs stays verifiable through the migration and is then
bound under the key by the first seal. (SQLite only: the PostgreSQL test schema is shared
by the session, and the same migration code path runs there in test_migrations.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError

from ketaclinic.platform import migrate
from ketaclinic.platform.audit import chain
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import UTCDateTime, make_engine, make_session_factory
from tests.conftest import TEST_ACTOR

OLD_AUDIT = sa.table(
    "audit_events",
    sa.column("id", sa.Integer),
    sa.column("at", UTCDateTime()),
    sa.column("actor_id", sa.Integer),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("patient_id", sa.Integer),
    sa.column("object_type", sa.String),
    sa.column("object_id", sa.String),
    sa.column("detail", sa.Text),
    sa.column("ip", sa.String),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)


def _old_rows(n: int) -> list[dict[str, object]]:
    """Rows as the previous release wrote them: an unkeyed SHA-256 chain."""
    rows, previous = [], "0" * 64
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    for i in range(1, n + 1):
        row = SimpleNamespace(
            id=i,
            at=start + timedelta(minutes=i, microseconds=i),
            actor_id=None,
            actor="frontdesk",
            action="patient.view",
            patient_id=None,
            object_type="patient",
            object_id=str(i),
            detail="",
            ip="10.0.0.9",
            prev_hash=previous,
        )
        row.hash = previous = chain.legacy_digest(row)  # type: ignore[arg-type]
        rows.append(vars(row))
    return rows


def test_a_trail_from_before_keyed_macs_stays_verifiable_and_is_then_sealed(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "0007")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.insert(OLD_AUDIT), _old_rows(4))
    migrate.upgrade(url)
    try:
        with make_session_factory(engine)() as db:
            before = audit.verify(db)
            assert before.ok and before.checked == 4 and before.unsealed == 4
            assert any("not sealed yet" in w for w in before.warnings)
            audit.record(db, actor=TEST_ACTOR, action="test.after_upgrade")
            outcome = audit.seal(db, wait=True)
            db.commit()
            assert outcome is not None and outcome.records == 5
            after = audit.verify(db)
            assert after.ok and after.checked == 5 and after.sealed == 5 and not after.warnings
            for table in ("audit_events", "audit_seals"):
                with pytest.raises(DatabaseError, match="append-only"):
                    db.execute(sa.text(f"DELETE FROM {table}"))
                db.rollback()
    finally:
        engine.dispose()


def test_a_broken_old_chain_is_still_named_after_the_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "0007")
    engine = make_engine(url)
    rows = _old_rows(3)
    rows[1]["detail"] = "altered before the upgrade"
    with engine.begin() as conn:
        conn.execute(sa.insert(OLD_AUDIT), rows)
    migrate.upgrade(url)
    try:
        with make_session_factory(engine)() as db:
            result = audit.verify(db)
            assert (result.ok, result.first_broken_id) == (False, 2)
            assert result.problem == "record altered after it was written"
            outcome = audit.seal(db, wait=True)
            assert outcome is not None and outcome.flagged == (2,)
            assert (audit.verify(db).first_broken_id, audit.verify(db).ok) == (2, False)
    finally:
        engine.dispose()
