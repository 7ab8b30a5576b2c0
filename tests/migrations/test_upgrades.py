"""Migrations run forward on a populated database from the first revision to head, one
step at a time, and every row survives each step.

The clinic's rows are written at the first revision with SQL (as that release wrote
them: patients, a measurement, a user and an unkeyed audit chain). Each later step also
gets one row in every table it creates, made from the reflected schema, so that each
table the following migrations rebuild (SQLite's batch mode copies a table to alter it)
carries data through them. The walk follows whatever revisions exist."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.exc import DBAPIError

from ketaclinic.platform import integrity, migrate
from ketaclinic.platform.audit import chain
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import UTCDateTime, make_engine, make_session_factory
from tests import databases
from tests.conftest import BACKENDS, POSTGRES_URL

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ketaclinic.db'}"
        return
    assert POSTGRES_URL
    name = databases.name(POSTGRES_URL) + "_upgrade"
    databases.admin(
        POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
    )
    yield databases.with_database(POSTGRES_URL, name)
    databases.admin(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(migrate.config("sqlite://"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def _old_audit_rows(n: int) -> list[dict[str, Any]]:
    """The first release's unkeyed SHA-256 chain, about the two patients."""
    rows, previous = [], "0" * 64
    for i in range(1, n + 1):
        row = SimpleNamespace(
            id=i,
            at=START + timedelta(minutes=i),
            actor_id=1,
            actor="ada",
            action="patient.create" if i <= 2 else "patient.view",
            patient_id=1 + i % 2,
            object_type="patient",
            object_id=str(1 + i % 2),
            detail="",
            ip="10.0.0.9",
            prev_hash=previous,
        )
        row.hash = previous = chain.legacy_digest(row)  # type: ignore[arg-type]
        rows.append(vars(row))
    return rows


def _fill_first_revision(conn: sa.Connection) -> None:
    meta = sa.MetaData()
    meta.reflect(conn)
    t = meta.tables
    now = START
    conn.execute(
        sa.insert(t["patients"]),
        [
            {
                "id": 1,
                "mrn": "MRN-0001",
                "given_name": "Rosa",
                "family_name": "Delgado",
                "date_of_birth": date(1979, 3, 14),
                "sex": "female",
                "phone": "555-0101",
                "version": 1,
                "created_at": now,
                "updated_at": now,
            },
            {
                "id": 2,
                "mrn": "MRN-0002",
                "given_name": "Samuel",
                "family_name": "Okafor",
                "date_of_birth": date(1990, 11, 2),
                "sex": "male",
                "phone": None,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            },
        ],
    )
    users = t["users"]
    conn.execute(
        sa.insert(users),
        {
            "id": 1,
            "username": "ada",
            "full_name": "Ada Admin",
            "password_hash": "$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA",
            "active": True,
            "failed_logins": 0,
            "created_at": now,
            **({"email": "ada@example.org"} if "email" in users.c else {}),
        },
    )
    if "user_roles" in t:
        conn.execute(sa.insert(t["user_roles"]), {"user_id": 1, "role": "admin", "granted_at": now})
    old_audit = sa.table("audit_events", *[sa.column(c) for c in _old_audit_rows(1)[0]])
    conn.execute(sa.insert(old_audit), _old_audit_rows(6))


def _value(column: sa.Column[Any], parents: dict[str, int]) -> Any:
    for fk in column.foreign_keys:
        return parents.get(fk.column.table.name)
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 1
    if isinstance(kind, sa.Numeric | sa.Float):
        return 1
    if isinstance(kind, sa.DateTime | UTCDateTime):
        return START
    if isinstance(kind, sa.Date):
        return START.date()
    if isinstance(kind, sa.JSON):
        return {}
    if isinstance(kind, sa.String):
        return "x"[: kind.length or 1]
    if isinstance(kind, sa.Text):
        return "x"
    return None


def _fill_new_tables(conn: sa.Connection, new: set[str]) -> set[str]:
    """One row in each new table that takes one made from its schema alone (a CHECK or
    a parent that took none may refuse: that table is left empty)."""
    meta = sa.MetaData()
    meta.reflect(conn)
    parents = {
        name: int(conn.execute(sa.select(sa.func.min(table.c.id))).scalar() or 0)
        for name, table in meta.tables.items()
        if "id" in table.c and name not in new
    }
    filled = set()
    for table in meta.sorted_tables:
        # The trail's seals are made by sealing, never by hand: a made-up one breaks it.
        if table.name not in new or table.name in {"alembic_version", "audit_seals"}:
            continue
        row = {
            c.name: _value(c, parents)
            for c in table.columns
            if not c.nullable
            and c.server_default is None
            and c.autoincrement is not True
            # A key of its own is numbered by the database; one that is its parent's is not.
            and not (c.primary_key and isinstance(c.type, sa.Integer) and not c.foreign_keys)
        }
        savepoint = conn.begin_nested()
        try:
            inserted = conn.execute(sa.insert(table).values(row))
        except DBAPIError:
            savepoint.rollback()
            continue
        savepoint.commit()
        if "id" in table.c:
            key = inserted.inserted_primary_key
            parents[table.name] = int(key[0]) if key and key[0] is not None else 1
        filled.add(table.name)
    return filled


def _counts(conn: sa.Connection) -> dict[str, int]:
    names = sa.inspect(conn).get_table_names()
    return {
        n: int(conn.execute(sa.text(f'SELECT count(*) FROM "{n}"')).scalar_one())  # noqa: S608
        for n in names
        if not n.startswith("procrastinate")
    }


@pytest.mark.real_commits
def test_a_populated_database_upgrades_from_the_first_revision_to_head(empty_url: str) -> None:
    revisions = _revisions()
    assert revisions[0] == "0001" and len(revisions) >= 10
    migrate.upgrade(empty_url, revisions[0])
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        _fill_first_revision(conn)
        before = first = _counts(conn)
    filled_later: set[str] = set()
    for revision in revisions[1:]:
        migrate.upgrade(empty_url, revision)
        with engine.begin() as conn:
            after = _counts(conn)
            lost = {n: (c, after.get(n)) for n, c in before.items() if (after.get(n) or 0) < c}
            assert lost == {}, f"rows lost at revision {revision}: {lost}"
            filled_later |= _fill_new_tables(conn, set(after) - set(before))
            before = _counts(conn)
    # The tables later steps created carried rows through the steps after them: all of
    # them today; a new table whose CHECKs refuse a made-up row may be left empty, a few.
    later = set(before) - set(first) - {"audit_seals"}
    empty = sorted(later - filled_later)
    assert len(empty) <= len(later) // 10, f"tables no made-up row went into: {empty}"

    with engine.connect() as conn:
        assert integrity.revision_problem(conn) is None
        patients = conn.execute(
            sa.text("SELECT mrn, given_name, family_name, date_of_birth FROM patients ORDER BY id")
        ).all()
        assert [tuple(map(str, p)) for p in patients] == [
            ("MRN-0001", "Rosa", "Delgado", "1979-03-14"),
            ("MRN-0002", "Samuel", "Okafor", "1990-11-02"),
        ]
        assert conn.execute(sa.text("SELECT username FROM users")).scalar() == "ada"
    # The first release's audit chain still verifies, and takes the key's seal.
    with make_session_factory(engine)() as db:
        result = audit.verify(db)
        assert result.ok and result.checked == 6, result.problem
        audit.seal(db, wait=True)
        db.commit()
        assert audit.verify(db).sealed == 6
    engine.dispose()
    if empty_url.startswith("sqlite"):
        path = integrity.sqlite_file(empty_url)
        assert path is not None
        assert integrity.check_sqlite_file(path, full=True).ok


@pytest.mark.real_commits
@pytest.mark.parametrize("empty_url", ["sqlite"], indirect=True)
def test_a_backup_from_the_first_revision_is_migrated_when_restored(
    empty_url: str, tmp_path: Path
) -> None:
    from ketaclinic.platform import backups
    from ketaclinic.platform.settings import Settings

    migrate.upgrade(empty_url, "0001")
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        _fill_first_revision(conn)
    engine.dispose()
    old = Settings(mode="test", data_dir=tmp_path, database_url=empty_url, secret_key="s")
    made = backups.take(old, to=tmp_path / "backups")
    assert made.manifest["schema_revision"] == "0001"
    new = Settings(mode="test", data_dir=tmp_path / "new", secret_key="s")
    checked = backups.restore(made.path, old, new)
    (head,) = integrity.expected_heads()
    assert checked.notes == [f"migrated from schema revision 0001 to {head}"]
    assert checked.audit_records == 6
