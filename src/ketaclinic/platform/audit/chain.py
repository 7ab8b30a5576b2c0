"""Keyed MACs, seals, the checkpoint file and verification of the audit trail.

Why this design
---------------
The old trail chained every row to the previous one with an unkeyed SHA-256. That needed
the previous hash at insert time, so on PostgreSQL each append took one global lock that
serialised every writer until it committed; and anyone who could write the database
file could recompute the chain behind a forged row or simply cut the tail off.

Now the work is split in two:

* **At insert time** a row gets its own keyed MAC over its id and fields (format
  ``MAC_VERSION``: keyed BLAKE2b over a JSON text both databases can build themselves,
  so that verification streams; rows written before keep HMAC-SHA256, version 1), with
  a key kept outside the database (``KETACLINIC_AUDIT_KEY`` or the ``audit.key`` file). No
  other row is read, so no lock is taken: concurrent writers never wait for each other.
  A row cannot be altered, forged or copied to another id without the key.
* **Afterwards a sealer** chains rows into ``audit_seals``: each seal lists the ids it
  covers (so sequence gaps left by rolled-back transactions are recorded as such, never
  mistaken for deletions) and its HMAC covers the previous seal's MAC and the MACs of
  the rows it lists. A sealed row cannot be deleted without breaking a seal, and a seal
  cannot be rebuilt without the key. A row whose MAC does not hold is sealed as found,
  marked, so the evidence stays and one bad row does not stop sealing. The sealer runs
  at the end of write acts when due (on PostgreSQL behind ``pg_try_advisory_xact_lock``:
  a busy sealer is skipped, never waited for), from ``ketaclinic audit seal``/``verify``
  and from the jobs runner. Rows committed late (a long transaction holding a lower id)
  are sealed by a later seal.
* **Outside the database** every committed seal's head (seal id, last record id,
  running total, MAC) is written to a checkpoint file in the data directory and logged
  on ``ketaclinic.audit``: deleting the newest rows together with their seals leaves a
  database that is consistent in itself but behind its checkpoint.

Rows written before keyed MACs (``mac`` NULL) keep their unkeyed chain, which is checked
the old way; the first seal then binds them under the key.

What it does not cover: rows not sealed yet can be deleted unnoticed (the window is the
act itself plus ``AUTO_SEAL_AFTER``), and whoever holds the key can rewrite anything.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal, Protocol

from sqlalchemy import String, Text, case, cast, func, literal, or_, select, text
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from ketaclinic.platform import settings as settings_module
from ketaclinic.platform.audit.models import AuditEvent, AuditSeal
from ketaclinic.platform.db import utcnow

log = logging.getLogger("ketaclinic.audit")

GENESIS = "0" * 64
# Any fixed number works: it names the lock that keeps two sealers apart on PostgreSQL
# (writers never take it).
_PG_SEAL_LOCK = 7_420_002
CHECKPOINT_NAME = "audit-checkpoint.json"
# A seal at the end of an act when the last one is older than this (or there is none):
# the window in which fresh rows are unsealed stays short without a seal per commit.
AUTO_SEAL_AFTER = timedelta(seconds=1)
# Rows that commit after a later id was sealed are looked for this far back.
LATE_WINDOW = timedelta(hours=1)

_INFO_KEY = "audit_key"  # db.info override of the key (tests, tools)
INFO_CHECKPOINT = "audit_checkpoint"  # db.info override of the checkpoint path
_INFO_CHECKPOINT = INFO_CHECKPOINT
_PENDING = "ketaclinic.audit.pending_checkpoint"
_WROTE = "ketaclinic.audit.wrote"
_LISTENING = "ketaclinic.audit.listening"

_file_keys: dict[Path, bytes] = {}


# --- keys and MACs ---------------------------------------------------------------------


def session_info(conf: settings_module.Settings) -> dict[str, object]:
    """What a session factory gives its sessions so that the trail they write is keyed
    and checkpointed by these settings, not by the process-wide ones (an app made with
    settings of its own: the tests, a benchmark, a second clinic in one process)."""
    return {
        _INFO_KEY: conf.effective_audit_key,
        _INFO_CHECKPOINT: str(conf.data_dir / CHECKPOINT_NAME),
    }


def _settings() -> settings_module.Settings:
    return settings_module.get_settings()


def audit_key(db: Session | None = None) -> bytes:
    """The key of the trail: ``db.info['audit_key']`` if set, else the settings'."""
    if db is not None and db.info.get(_INFO_KEY):
        value = db.info[_INFO_KEY]
        return value.encode() if isinstance(value, str) else bytes(value)
    conf = _settings()
    if conf.audit_key:
        return conf.audit_key.encode()
    path = conf.audit_key_file
    if path not in _file_keys:
        _file_keys[path] = conf.effective_audit_key
    return _file_keys[path]


def checkpoint_path(db: Session | None = None) -> Path:
    if db is not None and db.info.get(_INFO_CHECKPOINT):
        return Path(db.info[_INFO_CHECKPOINT])
    return _settings().data_dir / CHECKPOINT_NAME


class _Row(Protocol):
    id: int
    at: datetime
    actor_id: int | None
    actor: str
    action: str
    patient_id: int | None
    object_type: str | None
    object_id: str | None
    detail: str
    ip: str | None
    reason: str | None
    correlation_id: str | None
    sensitive: bool
    mac: str | None
    prev_hash: str | None
    hash: str | None


# The format ``record`` writes (``audit_events.mac_version``). Rows keep the version they
# were written with: version 1 (``mac_version`` NULL or 1, written before migration 0018)
# is checked by ``row_mac_v1``, version 2 by ``row_mac``.
MAC_VERSION = 2
_V2_TAG = "audit-event-v2"
_v2_keys: dict[bytes, Any] = {}


def _v2_base(key: bytes) -> Any:
    """Keyed BLAKE2b (RFC 7693's MAC mode) under a key derived from the audit key, ready
    to be copied per row: one C call per row instead of HMAC's two hashes."""
    if key not in _v2_keys:
        derived = hashlib.sha256(b"ketaclinic audit-event-v2\x00" + key).digest()
        _v2_keys[key] = hashlib.blake2b(key=derived, digest_size=32)
    return _v2_keys[key]


def utc_text(at: datetime) -> str:
    """The canonical time of a row: UTC, microseconds always, as SQLite stores it."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


_json_text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def payload_of(fields: list[str | None]) -> str:
    """Version 2's canonical text from a row's 13 fields already as text (id, time as
    ``utc_text``, actor id, actor, action, patient id, object type, object id, detail,
    ip, reason, correlation id, "1"/"0" for sensitive): a JSON array after a tag, without
    spaces. Both databases build exactly this text with one built-in function
    (``_payload_sql``: SQLite's ``json_array``, PostgreSQL's ``array_to_json``), so
    verification reads one string per row and only MACs it."""
    return str(_json_text([_V2_TAG, *fields]))


def row_payload(row: _Row) -> str:
    """``payload_of`` a row."""
    return payload_of(
        [
            str(row.id),
            utc_text(row.at),
            None if row.actor_id is None else str(row.actor_id),
            row.actor,
            row.action,
            None if row.patient_id is None else str(row.patient_id),
            row.object_type,
            row.object_id,
            row.detail,
            row.ip,
            row.reason,
            row.correlation_id,
            "1" if row.sensitive else "0",
        ]
    )


def payload_mac(key: bytes, payload: str) -> str:
    """The current format's MAC of a canonical text (``payload_of``)."""
    mac = _v2_base(key).copy()
    mac.update(payload.encode())
    return str(mac.hexdigest())


def row_mac(key: bytes, row: _Row) -> str:
    """The keyed MAC (hex) of a row in the current format (``MAC_VERSION``)."""
    return payload_mac(key, row_payload(row))


def row_mac_v1(key: bytes, row: _Row) -> str:
    """Version 1: HMAC-SHA256 over the row's id and every field it shows, as JSON."""
    payload = json.dumps(
        [
            "audit-event-v1",
            row.id,
            row.at.astimezone(UTC).isoformat(),
            row.actor_id,
            row.actor,
            row.action,
            row.patient_id,
            row.object_type,
            row.object_id,
            row.detail,
            row.ip,
            row.reason,
            row.correlation_id,
            bool(row.sensitive),
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def mac_of(key: bytes, row: _Row, version: int | None) -> str:
    """The MAC a row of ``version`` (NULL: 1) should carry."""
    return row_mac(key, row) if version == MAC_VERSION else row_mac_v1(key, row)


_payload_sql_cache: dict[str, Any] = {}


def _payload_sql(dialect: str) -> Any:
    """``row_payload`` as one SQL expression: the database builds each row's canonical
    text (C speed on both backends), Python only MACs it. SQLite holds times as the text
    ``utc_text`` gives; PostgreSQL formats its timestamptz the same way. Should SQLite
    hold a time in another spelling, the row is checked again from its fields in Python
    before it is called altered (``_Checker._recheck``)."""
    if dialect in _payload_sql_cache:
        return _payload_sql_cache[dialect]
    c = AuditEvent.__table__.c
    at: Any
    if dialect == "postgresql":
        at = func.to_char(func.timezone("UTC", c.at), "YYYY-MM-DD HH24:MI:SS.US")
    else:
        at = cast(c.at, String)
    parts = [
        literal(_V2_TAG, String),
        cast(c.id, String),
        at,
        cast(c.actor_id, String),
        c.actor,
        c.action,
        cast(c.patient_id, String),
        c.object_type,
        c.object_id,
        c.detail,
        c.ip,
        c.reason,
        c.correlation_id,
        case((c.sensitive, literal("1", String)), else_=literal("0", String)),
    ]
    if dialect == "postgresql":
        texts = [cast(p, Text) for p in parts]
        made: Any = cast(func.array_to_json(postgresql.array(texts)), Text)
    else:
        # Built for every row (cheaper than a CASE on the version); read only for
        # current-format rows.
        made = func.json_array(*parts)
    _payload_sql_cache[dialect] = made
    return made


def legacy_digest(row: _Row) -> str:
    """The unkeyed SHA-256 of rows written before keyed MACs (the old method)."""
    payload = json.dumps(
        [
            row.at.isoformat(),
            row.actor_id,
            row.actor,
            row.action,
            row.patient_id,
            row.object_type,
            row.object_id,
            row.detail,
            row.ip,
            row.prev_hash,
        ],
        separators=(",", ":"),
        sort_keys=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _seal_mac(
    key: bytes,
    *,
    prev_mac: str,
    first_id: int,
    last_id: int,
    count: int,
    total: int,
    ids: str,
    sealed_at: datetime,
    leaves: Iterable[tuple[int, str]],
) -> str:
    mac = hmac.new(key, digestmod=hashlib.sha256)
    header = ["audit-seal-v1", prev_mac, first_id, last_id, count, total, ids]
    mac.update(json.dumps(header + [sealed_at.astimezone(UTC).isoformat()]).encode())
    # One update over all the leaves: the same bytes as one update per leaf, far cheaper.
    mac.update("".join([f"\n{row_id}:{leaf}" for row_id, leaf in leaves]).encode())
    return mac.hexdigest()


def _runs(ids: list[int]) -> str:
    """Sorted ids as runs: [1, 2, 3, 5, 7, 8] -> "1-3,5,7-8"."""
    spans: list[list[int]] = []
    for value in ids:
        if spans and value == spans[-1][1] + 1:
            spans[-1][1] = value
        else:
            spans.append([value, value])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def _parse_runs(value: str) -> list[int] | None:
    """The ids of a seal; None if the text is not runs of ascending ids."""
    found: list[int] = []
    try:
        for part in value.split(","):
            low, _, high = part.partition("-")
            span = range(int(low), int(high or low) + 1)
            if not span or (found and span[0] <= found[-1]):
                return None
            found.extend(span)
    except ValueError:
        return None
    return found


# --- checkpoint ------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """The head of the sealed trail, kept outside the database."""

    seal_id: int
    last_id: int
    total: int
    mac: str
    sealed_at: str

    def _signed(self, key: bytes) -> dict[str, Any]:
        body = asdict(self)
        body["check"] = hmac.new(
            key, json.dumps(body, sort_keys=True).encode(), hashlib.sha256
        ).hexdigest()
        return body


@dataclass(frozen=True)
class CheckpointState:
    status: Literal["missing", "invalid", "ok"]
    path: Path
    checkpoint: Checkpoint | None = None


def read_checkpoint(path: Path, key: bytes) -> CheckpointState:
    try:
        body = json.loads(path.read_text())
    except FileNotFoundError:
        return CheckpointState("missing", path)
    except (OSError, ValueError):
        return CheckpointState("invalid", path)
    try:
        check = body.pop("check")
        found = Checkpoint(**body)
    except (KeyError, TypeError, AttributeError):
        return CheckpointState("invalid", path)
    if not hmac.compare_digest(str(check), found._signed(key)["check"]):
        return CheckpointState("invalid", path)
    return CheckpointState("ok", path, found)


def load_checkpoint(db: Session) -> CheckpointState:
    return read_checkpoint(checkpoint_path(db), audit_key(db))


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_checkpoint(path: Path, key: bytes, head: Checkpoint) -> bool:
    """Atomically replace the checkpoint with ``head`` unless a later one is there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        current = read_checkpoint(path, key)
        if current.status == "invalid":
            log.error("audit checkpoint %s does not hold: left for inspection", path)
            return False
        if current.checkpoint is not None and current.checkpoint.total > head.total:
            return False  # another process checkpointed a later seal meanwhile
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
        with open(temporary, "w") as handle:
            json.dump(head._signed(key), handle, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    log.info(
        "audit trail sealed through record %d: seal %d, %d records in all, mac %s",
        head.last_id,
        head.seal_id,
        head.total,
        head.mac,
    )
    return True


PROGRESS_NAME = "audit-verify-progress.json"


def progress_path(db: Session | None = None) -> Path:
    """Where ``audit verify`` keeps the last seal it verified (beside the checkpoint)."""
    return checkpoint_path(db).with_name(PROGRESS_NAME)


def write_progress(path: Path, key: bytes, head: Checkpoint | None) -> None:
    """Keep (or, with None, forget) how far a verification got, signed like the
    checkpoint so that a forged file cannot make a resumed verification skip records."""
    if head is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    temporary.write_text(json.dumps(head._signed(key), sort_keys=True))
    os.replace(temporary, path)


# A savepoint's release or rollback fires the session's commit and rollback events too
# (while the savepoint is still the current transaction): only the outer transaction
# seals and writes the checkpoint, or a seal made inside a savepoint rolled back later
# would be checkpointed though never committed.


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop(_WROTE, None)
    pending = session.info.pop(_PENDING, None)
    if pending is None:
        return
    path, key, head = pending
    try:
        write_checkpoint(path, key, head)
    except OSError as exc:
        log.error("audit checkpoint %s not written: %s", path, exc.strerror)


def _after_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop(_WROTE, None)
    session.info.pop(_PENDING, None)


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction() or not session.info.get(_WROTE):
        return
    _auto_seal(session)


def listen(db: Session) -> None:
    """Hook the session once: seal when due before commit, checkpoint after commit."""
    if db.info.get(_LISTENING):
        return
    db.info[_LISTENING] = True
    sa_event.listen(db, "before_commit", _before_commit)
    sa_event.listen(db, "after_commit", _after_commit)
    sa_event.listen(db, "after_rollback", _after_rollback)


def mark_written(db: Session) -> None:
    listen(db)
    db.info[_WROTE] = True


# --- sealing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SealOutcome:
    seals: int  # seals written
    records: int  # records they cover
    head: Checkpoint | None  # the newest seal, sealed now or before
    flagged: tuple[int, ...] = ()  # records sealed as found although their MAC fails
    problem: str | None = None  # what is wrong with the first of them


def _is_postgresql(db: Session) -> bool:
    return db.get_bind().dialect.name == "postgresql"


def _event_rows(db: Session, query: Any) -> list[Any]:
    # Core rows: read what the database holds now and keep nothing in the identity map.
    return list(db.execute(query).all())


def _fast_rows(db: Session, where: Any, limit: int | None = None) -> list[Any]:
    """(id, mac, mac_version, canonical text) of the rows ``where`` selects, by id; the
    text is meant for current-format rows (``MAC_VERSION``). Read on the session's own
    connection with the driver's cursor: plain tuples, no result objects per row (a
    third of the time at a few hundred thousand rows a second)."""
    c = AuditEvent.__table__.c
    dialect = db.get_bind().dialect
    query = (
        select(c.id, c.mac, c.mac_version, _payload_sql(dialect.name)).where(where).order_by(c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    # Only ints and the fixed tag are bound here: rendered in place, safely.
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    cursor = db.connection().connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


@dataclass
class _Checker:
    """Checks rows in id order, as verification and sealing both need: each row's MAC in
    its own version, legacy rows (no MAC) by their unkeyed chain.

    ``sealing``: a bad row is kept with an ``x:`` leaf and reported, and what came before
    the first row (keyed rows, the last legacy hash) is read from the database when first
    needed; otherwise the check stops at the first bad row."""

    db: Session
    key: bytes
    sealing: bool
    keyed: bool | None = None  # a keyed row came before
    legacy_prev: str | None = None

    def __post_init__(self) -> None:
        self._v2 = _v2_base(self.key)
        if not self.sealing:
            self.keyed = bool(self.keyed)
            self.legacy_prev = self.legacy_prev or GENESIS

    def check(self, rows: list[Any]) -> tuple[list[int], list[str], list[tuple[int, str]]]:
        """Ids, leaves and problems (id, what) of ``rows`` (from ``_fast_rows``). When
        not sealing, ids and leaves end before the first bad row."""
        ids: list[int] = []
        leaves: list[str] = []
        problems: list[tuple[int, str]] = []
        older = [r[0] for r in rows if r[2] != MAC_VERSION]
        full = self._full(older) if older else {}
        copy, current = self._v2.copy, MAC_VERSION
        for row_id, mac, version, payload in rows:
            if version == current and payload is not None:
                digest = copy()
                digest.update(payload.encode())
                self.keyed = True
                if digest.hexdigest() == mac:
                    ids.append(row_id)
                    leaves.append("k:" + mac)
                    continue
                problem = self._recheck(row_id, mac)
                leaf = "k:" + (mac or "")
            else:
                row = full.get(row_id) or self._full([row_id]).get(row_id)
                if row is None:  # pragma: no cover - deleted between two reads
                    continue
                problem, leaf = self._older(row)
            if problem is not None:
                problems.append((row_id, problem))
                if not self.sealing:
                    break
                # Sealed as found, marked: the evidence cannot be deleted afterwards,
                # and one bad row does not leave every later row unsealed.
                leaf = "x:" + (mac or self._hash(row_id, full) or "-")
            ids.append(row_id)
            leaves.append(leaf)
        return ids, leaves, problems

    def _full(self, ids: list[int]) -> dict[int, Any]:
        table = AuditEvent.__table__
        found: dict[int, Any] = {}
        for at in range(0, len(ids), 1000):
            chunk = ids[at : at + 1000]
            for row in _event_rows(self.db, select(table).where(table.c.id.in_(chunk))):
                found[row.id] = row
        return found

    def _hash(self, row_id: int, full: dict[int, Any]) -> str | None:
        row = full.get(row_id) or self._full([row_id]).get(row_id)
        return None if row is None else row.hash

    def _recheck(self, row_id: int, mac: str | None) -> str | None:
        """The database's text did not match: build it from the fields in Python (a time
        SQLite holds in another spelling) before the row is called altered."""
        row = self._full([row_id]).get(row_id)
        if row is not None and mac is not None and hmac.compare_digest(mac, row_mac(self.key, row)):
            return None
        return "record altered after it was written"

    def _older(self, row: Any) -> tuple[str | None, str]:
        if row.mac is not None:
            self.keyed = True
            if not hmac.compare_digest(row.mac, mac_of(self.key, row, row.mac_version)):
                return "record altered after it was written", "k:" + row.mac
            return None, "k:" + row.mac
        if self.keyed is None:
            self.keyed = (
                self.db.scalar(
                    select(AuditEvent.id)
                    .where(AuditEvent.mac.is_not(None), AuditEvent.id < row.id)
                    .limit(1)
                )
                is not None
            )
        if self.legacy_prev is None:
            self.legacy_prev = (
                self.db.scalar(
                    select(AuditEvent.hash)
                    .where(AuditEvent.mac.is_(None), AuditEvent.id < row.id)
                    .order_by(AuditEvent.id.desc())
                    .limit(1)
                )
                or GENESIS
            )
        digest = legacy_digest(row)
        problem: str | None = None
        if self.sealing:
            if self.keyed:
                problem = "record without a MAC after keyed records (inserted)"
            elif row.prev_hash != self.legacy_prev or row.hash != digest:
                problem = "legacy record altered or its link broken"
            self.legacy_prev = row.hash or digest
        else:
            if self.keyed:
                problem = "record without a MAC after keyed records (inserted or forged)"
            elif row.prev_hash != self.legacy_prev:
                problem = "link to the previous record broken"
            elif row.hash != digest:
                problem = "record altered after it was written"
            self.legacy_prev = digest
        return problem, "l:" + digest


def _spans(value: str) -> list[tuple[int, int]]:
    spans = []
    for part in value.split(","):
        low, _, high = part.partition("-")
        with contextlib.suppress(ValueError):
            spans.append((int(low), int(high or low)))
    return spans


def _late_ids(db: Session, head: int, since: datetime) -> list[int]:
    """Ids at or below the sealed head that exist but no seal lists: rows whose
    transaction committed after a higher id was sealed. Only the gaps left by seals made
    since ``since`` are looked into, and only as intervals (memory stays small)."""
    earliest = db.scalar(select(func.min(AuditSeal.id)).where(AuditSeal.sealed_at >= since))
    if earliest is None:
        return []
    before = db.scalar(select(func.max(AuditSeal.last_id)).where(AuditSeal.id < earliest))
    low = (before or 0) + 1
    covered = sorted(
        span
        for runs in db.scalars(select(AuditSeal.ids).where(AuditSeal.last_id >= low))
        for span in _spans(runs)
    )
    gaps: list[tuple[int, int]] = []
    cursor = low
    for start, end in covered:
        if start > cursor:
            gaps.append((cursor, min(start - 1, head)))
        cursor = max(cursor, end + 1)
        if cursor > head:
            break
    found: list[int] = []
    for at in range(0, len(gaps), 200):
        chunk = gaps[at : at + 200]
        found += db.scalars(
            select(AuditEvent.id).where(or_(*(AuditEvent.id.between(a, b) for a, b in chunk)))
        ).all()
    return sorted(found)


def _head(last: AuditSeal | None) -> Checkpoint | None:
    if last is None:
        return None
    return Checkpoint(
        seal_id=last.id,
        last_id=last.last_id,
        total=last.total,
        mac=last.mac,
        sealed_at=last.sealed_at.isoformat(),
    )


def seal(
    db: Session,
    *,
    wait: bool = False,
    sweep: bool = False,
    batch: int = 5000,
    now: datetime | None = None,
) -> SealOutcome | None:
    """Seal every unsealed row, in id order, into seals of at most ``batch`` rows, inside
    the caller's transaction; the checkpoint file follows when that transaction commits.

    ``wait=False`` returns None at once if another sealer is busy (PostgreSQL); ``sweep``
    also seals rows that committed after a higher id was sealed. A row whose own MAC (or
    legacy hash) does not hold is sealed as found but marked, so that it cannot vanish
    afterwards; verification names it whatever the seal says."""
    key = audit_key(db)
    if _is_postgresql(db):
        if wait:
            db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_SEAL_LOCK})
        elif not db.execute(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _PG_SEAL_LOCK}
        ).scalar_one():
            return None
    moment = (now or utcnow()).astimezone(UTC)
    last = db.scalars(
        select(AuditSeal)
        .order_by(AuditSeal.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    ).first()
    head = db.scalar(select(func.max(AuditSeal.last_id))) or 0
    late = _late_ids(db, head, moment - LATE_WINDOW) if sweep and last is not None else []
    had_seals = last is not None
    prev_mac = last.mac if last else GENESIS
    total = last.total if last else 0
    cursor = head
    written = records = 0
    checker = _Checker(db, key, sealing=True)
    flagged: list[tuple[int, str]] = []
    c = AuditEvent.__table__.c
    while True:
        rows = []
        chunk, late = late[:batch], late[batch:]
        if chunk:
            rows += _fast_rows(db, c.id.in_(chunk))
        room = batch - len(chunk)
        tail = _fast_rows(db, c.id > cursor, limit=room) if room else []
        rows = sorted(rows + tail, key=lambda r: r[0]) if chunk else tail
        found_ids, found_leaves, problems = checker.check(rows)
        flagged += problems
        leaves = list(zip(found_ids, found_leaves, strict=False))
        if leaves:
            ids = [i for i, _ in leaves]
            runs = _runs(ids)
            total += len(ids)
            made = AuditSeal(
                sealed_at=moment,
                first_id=ids[0],
                last_id=ids[-1],
                count=len(ids),
                total=total,
                ids=runs,
                prev_mac=prev_mac,
            )
            made.mac = _seal_mac(
                key,
                prev_mac=prev_mac,
                first_id=made.first_id,
                last_id=made.last_id,
                count=made.count,
                total=total,
                ids=runs,
                sealed_at=moment,
                leaves=leaves,
            )
            db.add(made)
            db.flush()
            last, prev_mac = made, made.mac
            written += 1
            records += len(ids)
        if tail:
            cursor = tail[-1][0]
        if not late and len(tail) < room:
            break
    for row_id, problem in flagged:
        log.warning("audit record %d sealed as found, marked: %s", row_id, problem)
    outcome = SealOutcome(
        seals=written,
        records=records,
        head=_head(last),
        flagged=tuple(i for i, _ in flagged),
        problem=flagged[0][1] if flagged else None,
    )
    if written and outcome.head is not None:
        _schedule_checkpoint(db, key, outcome.head, had_seals=had_seals)
    return outcome


def _schedule_checkpoint(db: Session, key: bytes, head: Checkpoint, *, had_seals: bool) -> None:
    path = checkpoint_path(db)
    current = read_checkpoint(path, key)
    if current.status == "invalid":
        log.error("audit checkpoint %s does not hold: not replaced", path)
        return
    if current.checkpoint is not None:
        held = db.get(AuditSeal, current.checkpoint.seal_id, populate_existing=True)
        if held is None or held.mac != current.checkpoint.mac:
            log.error(
                "audit checkpoint names seal %d, which the database does not hold: "
                "not replaced (run ketaclinic audit verify)",
                current.checkpoint.seal_id,
            )
            return
    elif had_seals:
        log.warning("no audit checkpoint at %s: starting one at seal %d", path, head.seal_id)
    listen(db)
    db.info[_PENDING] = (path, key, head)


def _auto_seal(db: Session) -> None:
    """End of an act that wrote audit rows: seal if the last seal is old, never waiting."""
    last_at = db.scalar(select(AuditSeal.sealed_at).order_by(AuditSeal.id.desc()).limit(1))
    if last_at is not None and utcnow() - last_at < AUTO_SEAL_AFTER:
        return
    try:
        with db.begin_nested():
            seal(db, wait=False)
    except Exception:  # noqa: BLE001 - sealing later is fine; the act must not fail for it
        log.exception("audit sealing at the end of an act failed; the jobs runner retries")


def seal_job(db: Session) -> str:
    """The declared background job: seal everything pending, late rows included. The
    caller commits (the checkpoint follows the commit)."""
    outcome = seal(db, wait=True, sweep=True)
    if outcome is None:  # pragma: no cover - wait=True always gets the lock
        return "audit: sealer busy"
    text_ = f"audit: {outcome.records} record(s) sealed in {outcome.seals} seal(s)"
    if outcome.flagged:
        text_ += (
            f"; WARNING record {outcome.flagged[0]}: {outcome.problem} "
            f"({len(outcome.flagged)} such record(s), run ketaclinic audit verify)"
        )
    return text_


# --- verification ----------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_broken_id: int | None = None
    problem: str | None = None
    warnings: tuple[str, ...] = ()
    sealed: int = 0
    unsealed: int = 0
    resumed_after: int | None = None  # the record a resumed verification started after


Progress = Callable[[int, int], None]  # (id reached, highest id)
Reached = Callable[[Checkpoint], None]  # each seal verified, for a later resume
_UNSET: Any = object()


@dataclass
class _Walk:
    """The records in id order, a batch at a time (keyset paging by id: memory stays
    bounded by the batch, and a resumed walk starts anywhere), each batch checked at
    once by the ``_Checker``; ``advance`` hands the leaves of checked records up to a
    seal's last id to ``pending``, where the seals that list them pick them up."""

    checker: _Checker
    db: Session
    batch: int
    sealed_head: int
    progress: Progress | None
    top: int
    position: int = 0  # the last record handed on
    checked: int = 0
    pending: dict[int, str] = field(default_factory=dict)
    beyond: int = 0  # rows above every seal: unsealed, counted only
    ids: list[int] = field(default_factory=list)
    leaves: list[str] = field(default_factory=list)
    index: int = 0
    broken: tuple[int, str] | None = None  # the first bad record, once read
    fetched: int | None = None  # the last id read (None: start after ``position``)
    done: bool = False

    def _fill(self) -> None:
        after = self.position if self.fetched is None else self.fetched
        rows = _fast_rows(self.db, AuditEvent.__table__.c.id > after, limit=self.batch)
        if not rows:
            self.done = True
            return
        self.fetched = rows[-1][0]
        self.ids, self.leaves, problems = self.checker.check(rows)
        self.index = 0
        if problems:
            self.broken = problems[0]
            self.done = True

    def advance(self, upto: int | None) -> tuple[int, str] | None:
        """Hand on checked rows up to ``upto`` (all if None); the first broken one."""
        while True:
            if self.index >= len(self.ids):
                if self.broken is not None:
                    if upto is not None and self.broken[0] > upto:
                        return None
                    return self.broken
                if self.done:
                    return None
                self._fill()
                continue
            ids, start = self.ids, self.index
            end = len(ids) if upto is None else bisect.bisect_right(ids, upto, start)
            if end == start:
                return None
            split = bisect.bisect_right(ids, self.sealed_head, start, end)
            if split > start:
                self.pending.update(zip(ids[start:split], self.leaves[start:split], strict=False))
            self.beyond += end - split
            self.checked += end - start
            self.position, self.index = ids[end - 1], end
            if self.progress:
                self.progress(self.position, self.top)
            if end < len(ids):
                return None


def verify(
    db: Session,
    *,
    checkpoint: CheckpointState | None = _UNSET,
    seal_first: bool = False,
    progress: Progress | None = None,
    batch: int = 20000,
    resume: Checkpoint | None = None,
    reached: Reached | None = None,
) -> Verification:
    """Check every row's MAC (legacy rows: the old chain), every seal and the checkpoint,
    streaming rows and seals by id in batches; report the first broken record.

    ``checkpoint`` defaults to the file as it is now; ``seal_first`` seals pending rows
    (in the caller's transaction) after reading the checkpoint and before checking.
    ``resume``: a seal an earlier verification reached (``reached`` is told of each
    seal verified): the seals and records up to it are taken as verified then, the seal
    itself must still be in the database as it was, and the walk goes on after it."""
    key = audit_key(db)
    state = load_checkpoint(db) if checkpoint is _UNSET else checkpoint
    if seal_first:
        seal(db, wait=True, sweep=True)
    warnings: list[str] = []
    if state is not None and state.status == "missing":
        warnings.append(
            f"no checkpoint file at {state.path}: a deleted tail (the newest records with "
            "their seals) cannot be detected; one is written when records are next sealed"
        )
    elif state is not None and state.status == "invalid":
        return Verification(
            False,
            0,
            None,
            f"the checkpoint file {state.path} was altered or written with another key",
        )
    wanted = state.checkpoint if state is not None else None
    walk = _Walk(
        checker=_Checker(db, key, sealing=False, keyed=resume is not None),
        db=db,
        batch=batch,
        sealed_head=db.scalar(select(func.max(AuditSeal.last_id))) or 0,
        progress=progress,
        top=db.scalar(select(func.max(AuditEvent.id))) or 0,
    )

    def broken(at: int | None, problem: str) -> Verification:
        return Verification(False, walk.checked, at, problem, tuple(warnings))

    resume_id = resume.last_id if resume is not None else 0

    prev_mac, total, seal_cursor, sealed = GENESIS, 0, 0, 0
    matched = False
    last_seal: Any = None
    if resume is not None:
        start = _resumable(db, resume)
        if start is not None:
            return broken(resume.last_id, start)
        prev_mac, total, seal_cursor = resume.mac, resume.total, resume.seal_id
        walk.position = resume.last_id
        if wanted is not None and wanted.seal_id <= resume.seal_id:
            held = db.execute(
                select(AuditSeal.mac, AuditSeal.total, AuditSeal.last_id).where(
                    AuditSeal.id == wanted.seal_id
                )
            ).first()
            if held is None or tuple(held) != (wanted.mac, wanted.total, wanted.last_id):
                return broken(
                    resume.last_id,
                    f"seal {wanted.seal_id} differs from the checkpoint: the trail was cut "
                    "and sealed again, or its chain recomputed",
                )
            matched = True
    while True:
        seals = [
            SimpleNamespace(**found._mapping)  # a Row's own .count would shadow the column
            for found in db.execute(
                select(AuditSeal.__table__)
                .where(AuditSeal.id > seal_cursor)
                .order_by(AuditSeal.id)
                .limit(batch)
            )
        ]
        if not seals:
            break
        for one in seals:
            found = walk.advance(one.last_id)
            if found:
                return broken(*found)
            listed = _parse_runs(one.ids)
            if not listed:
                return broken(
                    one.first_id, f"seal {one.id} does not hold: its list of ids is unreadable"
                )
            try:
                leaves = list(zip(listed, map(walk.pending.pop, listed), strict=False))
            except KeyError as missing:
                return broken(
                    missing.args[0],
                    f"record deleted: seal {one.id} lists it but the database no longer holds it",
                )
            if one.prev_mac != prev_mac:
                return broken(
                    one.first_id,
                    f"seal {one.id} does not follow the seal before it "
                    "(a seal was deleted or inserted)",
                )
            expected = _seal_mac(
                key,
                prev_mac=one.prev_mac,
                first_id=one.first_id,
                last_id=one.last_id,
                count=one.count,
                total=one.total,
                ids=one.ids,
                sealed_at=one.sealed_at,
                leaves=leaves,
            )
            consistent = (
                one.count == len(leaves)
                and one.total == total + one.count
                and (leaves[0][0], leaves[-1][0]) == (one.first_id, one.last_id)
            )
            if not consistent or not hmac.compare_digest(one.mac, expected):
                return broken(
                    one.first_id,
                    f"seal {one.id} over records {one.first_id}-{one.last_id} does not hold: "
                    "a record in it was altered and its hash recomputed, or the seal was "
                    "forged or recomputed without the key",
                )
            if wanted is not None and one.id == wanted.seal_id:
                if (one.mac, one.total, one.last_id) != (
                    wanted.mac,
                    wanted.total,
                    wanted.last_id,
                ):
                    return broken(
                        one.first_id,
                        f"seal {one.id} differs from the checkpoint: the trail was cut "
                        "and sealed again, or its chain recomputed",
                    )
                matched = True
            prev_mac, total, last_seal = one.mac, one.total, one
            sealed += one.count
            if reached is not None:
                reached(
                    Checkpoint(
                        seal_id=one.id,
                        last_id=one.last_id,
                        total=one.total,
                        mac=one.mac,
                        sealed_at=one.sealed_at.isoformat(),
                    )
                )
        seal_cursor = seals[-1].id
    found = walk.advance(None)
    if found:
        return broken(*found)
    if wanted is not None and not matched:
        reached_id = last_seal.last_id if last_seal is not None else resume_id
        return broken(
            reached_id + 1,
            f"deleted tail: the checkpoint vouches for {wanted.total} records up to record "
            f"{wanted.last_id} (seal {wanted.seal_id}), the database's sealed trail ends "
            f"at record {reached_id} after {total} records",
        )
    if walk.pending and (last_seal is not None or resume is not None):
        legacy = [i for i, leaf in walk.pending.items() if leaf.startswith("l:")]
        if legacy:
            return broken(min(legacy), "record without a MAC that no seal covers (inserted)")
    unsealed = walk.beyond + len(walk.pending)
    if unsealed and last_seal is None and resume is None:
        warnings.append(
            f"{unsealed} record(s) not sealed yet: their deletion would go unnoticed "
            "(ketaclinic audit seal)"
        )
    return Verification(
        True,
        walk.checked,
        warnings=tuple(warnings),
        sealed=sealed,
        unsealed=unsealed,
        resumed_after=resume.last_id if resume is not None else None,
    )


def _resumable(db: Session, resume: Checkpoint) -> str | None:
    """Why a verification cannot go on after ``resume``, or None: the seal must still be
    as it was, and the record it ends with keyed (legacy rows are verified in one walk)."""
    held = db.execute(
        select(AuditSeal.mac, AuditSeal.total, AuditSeal.last_id).where(
            AuditSeal.id == resume.seal_id
        )
    ).first()
    if held is None or tuple(held) != (resume.mac, resume.total, resume.last_id):
        return (
            f"seal {resume.seal_id}, where the last verification stopped, was deleted or "
            "changed since: verify the whole trail again"
        )
    if db.scalar(select(AuditEvent.mac).where(AuditEvent.id == resume.last_id)) is None:
        return f"record {resume.last_id} was deleted or carries no MAC: verify the whole trail"
    return None
