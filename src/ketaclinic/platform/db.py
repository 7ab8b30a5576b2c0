"""Database engine, sessions and the shared declarative base.

SQLite is the embedded default (WAL so readers never wait for the writer, foreign keys
on because SQLite leaves them off); PostgreSQL is the multi-user deployment. The same
models and migrations serve both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    DateTime,
    Engine,
    MetaData,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.orm.util import identity_key
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


RowT = TypeVar("RowT", bound=Base)


def utcnow() -> datetime:
    return datetime.now(UTC)


def keep_row(db: Session, model: type[RowT], key: int, values: dict[str, Any]) -> RowT:
    """A kept (derived) row stored again: the row of ``model`` with primary key ``key``,
    added when missing, given ``values`` and stamped ``updated_at``. The row is in the
    unit of work, flushed with it."""
    kept = db.get(model, key)
    if kept is None:
        mapper = model.__mapper__
        kept = model(**{mapper.get_property_by_column(mapper.primary_key[0]).key: key})
        db.add(kept)
    for name, value in values.items():
        setattr(kept, name, value)
    kept.updated_at = utcnow()  # type: ignore[attr-defined]
    return kept


def rows_by_id(db: Session, model: type[RowT], ids: Iterable[int]) -> dict[int, RowT]:
    """The rows of ``model`` with these ids (a single-column primary key): those this
    unit of work holds already, loaded and current, from its identity map; the others
    with one query. An act that reads the same rows through two services (a group of
    monitor messages: matched to sessions, then charted) reads them once."""
    wanted = set(ids)
    found: dict[int, RowT] = {}
    if not wanted:
        return found
    held = db.identity_map
    for key in wanted:
        row = held.get(identity_key(model, key))
        if row is not None and not inspect(row).expired_attributes:
            found[key] = row
    missing = wanted - found.keys()
    if missing:
        column = model.__mapper__.primary_key[0]
        name = model.__mapper__.get_property_by_column(column).key
        for row in db.scalars(select(model).where(column.in_(sorted(missing)))):
            found[getattr(row, name)] = row
    return found


_READ_ONCE = "ketaclinic.read_once"
ReadT = TypeVar("ReadT")


def read_once(db: Session, key: str, read: Callable[[], ReadT]) -> ReadT:
    """What ``read`` returns, read once in ``db``'s current transaction: later calls with
    the same ``key`` in that transaction get the same value. For a small table that
    several services of one act consult (the clinic's overrides of the clinical
    defaults: eight reads a session page). The end of the transaction (commit, rollback,
    a savepoint's end) forgets it; the service that writes the table within the
    transaction calls ``forget_read``."""
    memo: dict[str, Any] = db.info.setdefault(_READ_ONCE, {})
    if key in memo:
        return memo[key]
    value = read()
    # Only what was read inside a transaction is kept: its end is what forgets it.
    if db.in_transaction():
        db.info.setdefault(_READ_ONCE, {})[key] = value
    return value


def forget_read(db: Session, key: str) -> None:
    db.info.get(_READ_ONCE, {}).pop(key, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_reads(session: Session, _transaction: Any) -> None:
    session.info.pop(_READ_ONCE, None)


def new_ids(db: Session, model: type[Base], n: int) -> list[int]:
    """``n`` ids for new rows of ``model`` (an integer ``id`` key), ascending, with one
    statement, known before the insert (an audit row's MAC covers its id; a group's
    readings go in with one ``executemany``, which returns no ids). On PostgreSQL the
    table's own sequence (values nobody else is given, no lock); on SQLite one past the
    last: a writing unit of work holds SQLite's write lock from its first statement
    (BEGIN IMMEDIATE), so nobody else takes these ids, and in a deferred transaction
    another writer's commit in between makes the insert fail (SQLite refuses to upgrade
    a stale snapshot, and the key is unique), never collide."""
    if n <= 0:
        return []
    table = model.__table__.name  # type: ignore[attr-defined]
    if db.get_bind().dialect.name == "postgresql":
        return sorted(
            int(i)
            for i in db.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"
                ),
                {"t": table, "n": n},
            ).scalars()
        )
    column = model.__table__.c.id
    last = int(db.execute(select(func.coalesce(func.max(column), 0))).scalar_one())
    return list(range(last + 1, last + 1 + n))


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back an aware UTC datetime, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        zone = value.tzinfo
        if zone is None:
            raise ValueError("naive datetime given to the database: times must carry a zone")
        if zone is not UTC:  # most times are made in UTC already (``utcnow``)
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


SQLITE_BUSY_TIMEOUT_MS = 5000
"""How long a SQLite connection waits for another's lock before 'database is locked'."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    # Bound parameters (patient ids, names, audit text) never go into an error's message
    # or a log line.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling is off: the "begin" listener below
            # says how each transaction begins.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_MS)}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # A unit of work that writes takes the write lock when it begins (BEGIN
            # IMMEDIATE): a deferred transaction that upgrades after another writer
            # committed fails at once instead of waiting its turn. Reads begin deferred
            # and never hold the lock, so pages do not queue behind each other.
            if conn.get_execution_options().get(WRITES):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


WRITES = "ketaclinic_writes"
"""Execution option of a transaction that will write (see ``begin_writing``)."""


def begin_writing(session: Session) -> None:
    """Begin ``session``'s transaction as one that writes: on SQLite it takes the write
    lock now rather than failing to upgrade later. Call before the first statement."""
    if session.in_transaction():
        raise RuntimeError("begin_writing must open the transaction, not join one")
    session.connection(execution_options={WRITES: True})


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work that writes (a CLI command, a job): commits once on success,
    rolls everything back on any error. The reads it noted are audited in the same
    transaction."""
    from ketaclinic.platform.audit import service as audit

    session = factory()
    try:
        begin_writing(session)
        yield session
        audit.flush_reads(session)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
