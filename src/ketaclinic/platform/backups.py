"""Backups of the clinic's database: taken while the clinic works, checked, restored.

A backup is a directory ``ketaclinic-<UTC time>`` holding the database copy and
``manifest.json``: when it was taken, the schema revision, the rows of every table, the
audit trail's head, and the SHA-256 of each file. The manifest is signed with the audit
key (an HMAC; the key lives outside the database and its backups), so counts and
checksums rewritten together are refused as surely as a changed byte.

- **SQLite**: SQLite's online backup API copies a consistent snapshot: in WAL mode a
  reader never stops the writer, so the clinic keeps working meanwhile. The counts are
  read from the copy, so they are the copy's own.
- **PostgreSQL**: ``pg_dump`` in custom format, found on the PATH (or refused with a
  clear message). The counts are read in a REPEATABLE READ transaction whose snapshot
  ``pg_dump --snapshot`` dumps, so they describe exactly the rows in the dump.

Encryption, optional, is Fernet (``cryptography``: AES-128-CBC with an HMAC-SHA256 on
each token) with a key file the clinic keeps. The copy is encrypted in chunks of 4 MiB,
one token a line, so a large database never sits in memory whole; the signed manifest's
checksum of the encrypted file catches a chunk dropped or moved.

Scheduled backups (``platform.backup`` job) go to ``backup_dir`` and keep 7 daily, 4
weekly and 12 monthly ones (``to_keep``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from ketaclinic.platform import integrity
from ketaclinic.platform.db import make_engine, utcnow
from ketaclinic.platform.settings import Settings, sqlite_url

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_COPY = "ketaclinic.db"
POSTGRES_DUMP = "ketaclinic.dump"
ENCRYPTED = ".fernet"
PREFIX = "ketaclinic-"
CHUNK = 4 * 1024 * 1024

Progress = Callable[[str, int, int], None]
"""(what is being done, how far, out of how much); total 0 when unknown."""


class BackupError(RuntimeError):
    """A backup cannot be taken, trusted or restored; the message says why."""


@dataclass(frozen=True)
class Backup:
    path: Path
    manifest: dict[str, Any]


@dataclass
class Checked:
    """What checking (or restoring) a backup found."""

    backup: Backup
    tables: int = 0
    rows: int = 0
    audit_records: int = 0
    notes: list[str] = field(default_factory=list)


# --- keys and signatures ---------------------------------------------------------------


def new_key_file(path: Path) -> None:
    """A fresh Fernet key in ``path`` (0600), never over an existing one."""
    from cryptography.fernet import Fernet

    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(Fernet.generate_key() + b"\n")


def _fernet(key_file: Path) -> Any:
    from cryptography.fernet import Fernet

    try:
        return Fernet(key_file.read_bytes().strip())
    except FileNotFoundError:
        raise BackupError(f"no key file at {key_file}") from None
    except ValueError:
        raise BackupError(
            f"{key_file} does not hold a backup key (make one with 'ketaclinic backup new-key')"
        ) from None


def _signature(manifest: dict[str, Any], audit_key: bytes) -> str:
    body = {k: v for k, v in manifest.items() if k != "signature"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(audit_key, canonical, hashlib.sha256).hexdigest()


def _sha256(path: Path, progress: Progress | None = None, done: int = 0, total: int = 0) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress("checksum", done, total)
    return digest.hexdigest()


# --- what a database holds ----------------------------------------------------------------


def describe(conn: Connection) -> dict[str, Any]:
    """Schema revision, rows per table and the audit head, as ``conn`` sees them."""
    names = sorted(inspect(conn).get_table_names())
    tables = {
        # The names come from the database's own catalogue, quoted.
        name: int(conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())  # noqa: S608
        for name in names
    }
    revision = None
    if "alembic_version" in tables:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    audit: dict[str, Any] = {"records": 0, "last_record_id": None, "last_seal_id": None}
    if "audit_events" in tables:
        audit["records"] = tables["audit_events"]
        audit["last_record_id"] = conn.execute(text("SELECT max(id) FROM audit_events")).scalar()
    if "audit_seals" in tables:
        last = conn.execute(
            text("SELECT id, last_id, mac FROM audit_seals ORDER BY id DESC LIMIT 1")
        ).first()
        if last is not None:
            audit.update(
                last_seal_id=last.id, last_sealed_record_id=last.last_id, seal_mac=last.mac
            )
    return {"schema_revision": revision, "tables": tables, "audit": audit}


def _describe_url(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return describe(conn)
    finally:
        engine.dispose()


# --- taking a backup ---------------------------------------------------------------------


def _new_directory(parent: Path, at: datetime) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    stem = f"{PREFIX}{at:%Y%m%dT%H%M%SZ}"
    candidate, n = parent / stem, 1
    while candidate.exists():
        n += 1
        candidate = parent / f"{stem}-{n}"
    return candidate


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"{name} is not on this machine's PATH: a PostgreSQL backup needs the PostgreSQL "
            f"client tools (Debian: apt install postgresql-client) of the server's version"
        )
    return found


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and the environment that carries it."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    # The PostgreSQL tools found by shutil.which, with arguments of our own making.
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"{what} failed: {last}")


def _copy_sqlite(source: Path, target: Path) -> dict[str, Any]:
    import sqlite3

    health = integrity.check_sqlite_file(source)
    if not health.ok:
        raise BackupError(f"no backup taken: {health.reason}")
    src = sqlite3.connect(integrity.read_only_uri(source), uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        # All pages in one step, inside one read transaction: a consistent snapshot even
        # while others write (stepping page by page would restart at each of their commits).
        src.backup(dst)
        # The copy stands alone: no -wal file beside it.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()
    return _describe_url(sqlite_url(target))


def _dump_postgres(url: str, target: Path) -> dict[str, Any]:
    pg_dump = _pg_tool("pg_dump")
    dsn, env = _libpq(url)
    engine = make_engine(url)
    try:
        with (
            engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn,
            conn.begin(),
        ):
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            described = describe(conn)
            # The dump sees exactly this transaction's snapshot while it stays open.
            _run(
                [pg_dump, "-Fc", "--no-owner", f"--snapshot={snapshot}", "-f", str(target)]
                + ["--dbname", dsn],
                env,
                "pg_dump",
            )
    finally:
        engine.dispose()
    return described


def _encrypt(plain: Path, key_file: Path, progress: Progress | None) -> Path:
    fernet = _fernet(key_file)
    target = plain.with_name(plain.name + ENCRYPTED)
    total, done = plain.stat().st_size, 0
    with plain.open("rb") as source, target.open("wb") as out:
        while chunk := source.read(CHUNK):
            out.write(fernet.encrypt(chunk) + b"\n")
            done += len(chunk)
            if progress:
                progress("encrypt", done, total)
    plain.unlink()
    return target


def take(
    conf: Settings,
    *,
    to: Path | None = None,
    key_file: Path | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> Backup:
    """Take a backup of the clinic's database into a new directory under ``to``
    (default: the settings' backup directory) and return it."""
    url = conf.effective_database_url
    at = now or utcnow()
    parent = to or conf.effective_backup_dir
    final = _new_directory(parent, at)
    work = Path(tempfile.mkdtemp(prefix=".partial-", dir=parent))
    try:
        if progress:
            progress("copy", 0, 0)
        if url.startswith("postgresql"):
            stored = work / POSTGRES_DUMP
            described = _dump_postgres(url, stored)
            backend = "postgresql"
        else:
            source = integrity.sqlite_file(url)
            if source is None:
                raise BackupError("an in-memory database cannot be backed up")
            stored = work / SQLITE_COPY
            described = _copy_sqlite(source, stored)
            backend = "sqlite"
        if key_file is not None:
            stored = _encrypt(stored, key_file, progress)
        size = stored.stat().st_size
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": at.astimezone(UTC).isoformat(),
            "backend": backend,
            "encrypted": key_file is not None,
            **described,
            "files": {stored.name: {"sha256": _sha256(stored, progress, 0, size), "bytes": size}},
        }
        manifest["signature"] = _signature(manifest, conf.effective_audit_key)
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        # A backup appears whole or not at all.
        os.replace(work, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    made = Backup(final, manifest)
    try:
        if manifest["schema_revision"] in integrity.expected_heads():
            record_taken(conf, made)
        # else: the database is older than this code's audit trail (the backup ``migrate``
        # takes first); ``migrate`` records it once the schema is current.
    except Exception:
        # A copy of every patient's record that the trail does not name is not kept.
        shutil.rmtree(final, ignore_errors=True)
        raise
    return made


def record_taken(conf: Settings, made: Backup) -> None:
    """A backup reads every patient's record: the trail says when, where to and how much,
    in the clinic's own database, once the copy is whole (so it is not in the copy)."""
    from ketaclinic.platform.actors import Actor
    from ketaclinic.platform.audit import chain
    from ketaclinic.platform.audit import service as audit
    from ketaclinic.platform.db import make_session_factory, transaction
    from ketaclinic.platform.model_registry import load_all

    path, manifest = made.path, made.manifest
    load_all()
    engine = make_engine(conf.effective_database_url)
    try:
        factory = make_session_factory(engine)
        factory.configure(info=chain.session_info(conf))
        with transaction(factory) as db:
            audit.record(
                db,
                actor=Actor(user_id=None, username="backup"),
                action="backup.take",
                detail=(
                    f"{path.name}: {sum(manifest['tables'].values())} rows in "
                    f"{len(manifest['tables'])} tables"
                    + (", encrypted" if manifest["encrypted"] else "")
                ),
                sensitive=False,
            )
    finally:
        engine.dispose()


# --- checking and restoring -----------------------------------------------------------------


def read(path: Path) -> Backup:
    if not path.is_dir():
        raise BackupError(f"{path} is not a backup directory")
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{path} holds no {MANIFEST}: not a ketaclinic backup") from None
    except ValueError:
        raise BackupError(f"the manifest of {path} is not readable JSON: damaged") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a ketaclinic backup of a format this version reads")
    return Backup(path, manifest)


def check_files(backup: Backup, audit_key: bytes, progress: Progress | None = None) -> None:
    """The manifest is signed by this clinic's audit key and every file matches its checksum."""
    manifest = backup.manifest
    if not hmac.compare_digest(str(manifest.get("signature", "")), _signature(manifest, audit_key)):
        raise BackupError(
            f"the manifest of {backup.path} was altered, or signed with another audit key: refused"
        )
    for name, expected in dict(manifest.get("files", {})).items():
        path = backup.path / name
        if not path.is_file():
            raise BackupError(f"{name} is missing from {backup.path}: refused")
        if path.stat().st_size != expected["bytes"] or not hmac.compare_digest(
            _sha256(path, progress, 0, int(expected["bytes"])), expected["sha256"]
        ):
            raise BackupError(
                f"{name} in {backup.path} does not match its checksum (altered or damaged): refused"
            )


def _stored(backup: Backup) -> Path:
    (name,) = backup.manifest["files"]
    return backup.path / name


def _plain_copy(
    backup: Backup, into: Path, key_file: Path | None, progress: Progress | None
) -> Path:
    """The backup's database file, decrypted if need be, at ``into``."""
    stored = _stored(backup)
    if not backup.manifest.get("encrypted"):
        shutil.copyfile(stored, into)
        return into
    if key_file is None:
        raise BackupError(f"{backup.path} is encrypted: give its key with --key-file")
    from cryptography.fernet import InvalidToken

    fernet = _fernet(key_file)
    total, done = stored.stat().st_size, 0
    try:
        with stored.open("rb") as source, into.open("wb") as out:
            for line in source:
                out.write(fernet.decrypt(line.strip()))
                done += len(line)
                if progress:
                    progress("decrypt", done, total)
    except InvalidToken:
        into.unlink(missing_ok=True)
        raise BackupError(
            f"{key_file} is not the key of {backup.path} (or it was altered)"
        ) from None
    return into


def _compare(backup: Backup, found: dict[str, Any]) -> None:
    expected = backup.manifest
    if found["schema_revision"] != expected["schema_revision"]:
        raise BackupError(
            f"the copy is at schema revision {found['schema_revision']}, its manifest says "
            f"{expected['schema_revision']}: refused"
        )
    differing = [
        name
        for name in sorted(set(expected["tables"]) | set(found["tables"]))
        if expected["tables"].get(name) != found["tables"].get(name)
    ]
    if differing:
        first = differing[0]
        raise BackupError(
            f"the copy's rows differ from its manifest in {len(differing)} table(s), first "
            f"{first}: {found['tables'].get(first)} rows, manifest {expected['tables'].get(first)}"
        )
    if found["audit"] != expected["audit"]:
        raise BackupError("the copy's audit trail head differs from its manifest: refused")


def _verify_trail(url: str, conf: Settings, *, seal: bool) -> int:
    """The restored (or scratch) database's audit trail, checked record by record; the
    tail is covered by the manifest's signed head, so no checkpoint file is needed.
    With ``seal`` the pending records are sealed and the new data directory gets its
    own checkpoint (the act is recorded in the trail)."""
    from ketaclinic.platform.actors import Actor
    from ketaclinic.platform.audit import chain
    from ketaclinic.platform.audit import service as audit
    from ketaclinic.platform.db import make_session_factory, transaction
    from ketaclinic.platform.model_registry import load_all

    load_all()
    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        factory.configure(info=chain.session_info(conf))
        with transaction(factory) as db:
            result = audit.verify(db, checkpoint=None)
            if not result.ok:
                raise BackupError(
                    f"the audit trail of the backup is broken at record "
                    f"{result.first_broken_id}: {result.problem}"
                )
            if not seal:
                db.rollback()
                return result.checked
            audit.record(
                db,
                actor=Actor(user_id=None, username="restore"),
                action="backup.restore",
                detail=f"restored, audit trail intact: {result.checked} records",
                sensitive=False,
            )
            # Sealed at once: the new data directory gets its checkpoint now.
            audit.seal(db, wait=True, sweep=True)
            return result.checked
    finally:
        engine.dispose()


def verify(
    path: Path,
    conf: Settings,
    *,
    key_file: Path | None = None,
    progress: Progress | None = None,
    scratch_database_url: str | None = None,
) -> Checked:
    """Every check a restore makes, on a scratch copy: nothing is restored. A PostgreSQL
    dump is restored into ``scratch_database_url`` (an empty database, emptied again
    afterwards) when given; otherwise it is read through with ``pg_restore --list``."""
    backup = read(path)
    check_files(backup, conf.effective_audit_key, progress)
    checked = _summary(backup)
    if backup.manifest["backend"] == "postgresql":
        if scratch_database_url:
            _verify_in_scratch_database(backup, conf, scratch_database_url, key_file, progress)
            checked.audit_records = int(backup.manifest["audit"]["records"])
            return checked
        stored = _stored(backup)
        with tempfile.TemporaryDirectory(prefix="ketaclinic-verify-") as scratch:
            dump = (
                _plain_copy(backup, Path(scratch) / POSTGRES_DUMP, key_file, progress)
                if backup.manifest.get("encrypted")
                else stored
            )
            _run([_pg_tool("pg_restore"), "--list", str(dump)], dict(os.environ), "pg_restore")
        checked.notes.append(
            "the PostgreSQL dump was read through (pg_restore --list); give "
            "--scratch-database-url (an empty database) to check its rows and audit trail too"
        )
        return checked
    with tempfile.TemporaryDirectory(prefix="ketaclinic-verify-") as scratch:
        copy = _plain_copy(backup, Path(scratch) / SQLITE_COPY, key_file, progress)
        health = integrity.check_sqlite_file(copy, full=True)
        if not health.ok:
            raise BackupError(f"the backup's database does not hold: {health.reason}")
        url = sqlite_url(copy)
        _compare(backup, _describe_url(url))
        scratch_conf = conf.model_copy(
            update={
                "data_dir": Path(scratch),
                "database_url": url,
                "audit_key": conf.effective_audit_key.decode(),
            }
        )
        checked.audit_records = _verify_trail(url, scratch_conf, seal=False)
    return checked


def _verify_in_scratch_database(
    backup: Backup,
    conf: Settings,
    url: str,
    key_file: Path | None,
    progress: Progress | None,
) -> None:
    _restore_postgres(backup, url, force=False, key_file=key_file, progress=progress)
    try:
        _compare(backup, _describe_url(url))
        with tempfile.TemporaryDirectory(prefix="ketaclinic-verify-") as scratch:
            scratch_conf = conf.model_copy(
                update={
                    "data_dir": Path(scratch),
                    "database_url": url,
                    "audit_key": conf.effective_audit_key.decode(),
                }
            )
            _verify_trail(url, scratch_conf, seal=False)
    finally:
        # Only what the restore just put there: it refuses a database that holds tables.
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        finally:
            engine.dispose()


def _summary(backup: Backup) -> Checked:
    tables = backup.manifest["tables"]
    return Checked(backup, tables=len(tables), rows=sum(tables.values()))


def restore(
    path: Path,
    conf: Settings,
    target: Settings,
    *,
    force: bool = False,
    key_file: Path | None = None,
    progress: Progress | None = None,
) -> Checked:
    """Restore the backup at ``path`` into ``target`` (a new data directory, or a
    PostgreSQL database), never over a database already there without ``force``; check
    it against the manifest, migrate it to this code's schema and verify its audit
    trail. ``conf`` is the clinic's settings (whose audit key signed the backup)."""
    from ketaclinic.platform import migrate

    backup = read(path)
    check_files(backup, conf.effective_audit_key, progress)
    checked = _summary(backup)
    url = target.effective_database_url
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    if backend != backup.manifest["backend"]:
        raise BackupError(
            f"{path} is a {backup.manifest['backend']} backup; the target is {backend}"
        )
    target.data_dir.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        _restore_sqlite(backup, target, force=force, key_file=key_file, progress=progress)
    else:
        _restore_postgres(backup, url, force=force, key_file=key_file, progress=progress)
    integrity.forget_checks()
    _compare(backup, _describe_url(url))
    if backup.manifest["schema_revision"] not in integrity.expected_heads():
        migrate.upgrade(url)
        checked.notes.append(
            f"migrated from schema revision {backup.manifest['schema_revision']} to "
            f"{', '.join(sorted(integrity.expected_heads()))}"
        )
    _keep_audit_key(conf, target)
    _set_checkpoint_aside(target)
    checked.audit_records = _verify_trail(url, target, seal=True)
    return checked


def _restore_sqlite(
    backup: Backup,
    target: Settings,
    *,
    force: bool,
    key_file: Path | None,
    progress: Progress | None,
) -> None:
    database = integrity.sqlite_file(target.effective_database_url)
    assert database is not None
    if database.exists() and not force:
        raise BackupError(
            f"{database} already holds a database: restore into a new data directory, or "
            "give --force to replace it (stop the clinic first)"
        )
    database.parent.mkdir(parents=True, exist_ok=True)
    incoming = database.with_name(f".{database.name}.restoring")
    _plain_copy(backup, incoming, key_file, progress)
    health = integrity.check_sqlite_file(incoming, full=True)
    if not health.ok:
        incoming.unlink(missing_ok=True)
        raise BackupError(f"the backup's database does not hold: {health.reason}")
    # The old file's write-ahead log must not be replayed onto the restored one.
    for leftover in (database.with_name(database.name + s) for s in ("-wal", "-shm")):
        leftover.unlink(missing_ok=True)
    os.replace(incoming, database)


def _restore_postgres(
    backup: Backup, url: str, *, force: bool, key_file: Path | None, progress: Progress | None
) -> None:
    pg_restore = _pg_tool("pg_restore")
    # One engine for the restore; no pool, so no idle connection of ours sits in the
    # database while pg_restore drops and recreates its tables.
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            occupied = bool(inspect(conn).get_table_names())
        if occupied and not force:
            raise BackupError(
                "the target database already holds tables: restore into a new, empty "
                "database, or give --force to replace what it holds (stop the clinic first)"
            )
        dsn, env = _libpq(url)
        with tempfile.TemporaryDirectory(prefix="ketaclinic-restore-") as scratch:
            dump = _plain_copy(backup, Path(scratch) / POSTGRES_DUMP, key_file, progress)
            options = ["--clean", "--if-exists"] if occupied else []
            _run(
                [pg_restore, "--no-owner", "--exit-on-error", "--single-transaction", *options]
                + ["--dbname", dsn, str(dump)],
                env,
                "pg_restore",
            )
        # A dump carries no column statistics: until autovacuum comes round the restored
        # tables are planned by guesses (a filter on a 180,000-row table taken for 6 rows).
        # pg_restore's manual: "Once restored, it is wise
        # to run ANALYZE on each restored table so the optimizer has useful statistics."
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()


def _set_checkpoint_aside(target: Settings) -> None:
    """A checkpoint already in the target vouches for the trail that was replaced: it is
    kept, renamed, as evidence, and the restored trail starts its own (as a demo reset
    does)."""
    from ketaclinic.platform.audit.chain import CHECKPOINT_NAME

    checkpoint = target.data_dir / CHECKPOINT_NAME
    if checkpoint.exists():
        checkpoint.rename(
            checkpoint.with_name(f"{checkpoint.name}.before-restore-{utcnow():%Y%m%dT%H%M%S}")
        )


def _keep_audit_key(conf: Settings, target: Settings) -> None:
    """A clinic keyed by its data directory's key file keeps it in the new one, so that the
    restored clinic serves from there (the key never travels inside a backup)."""
    if conf.audit_key or target.audit_key:
        return
    source, copy = conf.audit_key_file, target.audit_key_file
    if source.exists() and not copy.exists() and source.resolve() != copy.resolve():
        descriptor = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(source.read_bytes())


# --- the schedule's retention -----------------------------------------------------------------


def to_keep(
    times: Iterable[datetime], *, daily: int = 7, weekly: int = 4, monthly: int = 12
) -> set[datetime]:
    """Which backups to keep: the newest of each of the last ``daily`` days that have
    one, of the last ``weekly`` ISO weeks, and of the last ``monthly`` months."""
    ordered = sorted(set(times), reverse=True)
    keep: set[datetime] = set()
    for count, period in (
        (daily, lambda t: t.date()),
        (weekly, lambda t: tuple(t.isocalendar())[:2]),
        (monthly, lambda t: (t.year, t.month)),
    ):
        seen: list[object] = []
        for moment in ordered:
            bucket = period(moment)
            if bucket in seen:
                continue
            if len(seen) == count:
                break
            seen.append(bucket)
            keep.add(moment)
    return keep


def listed(directory: Path) -> list[Backup]:
    """The backups in ``directory``, newest first; unreadable ones are left out."""
    found = []
    for path in directory.glob(f"{PREFIX}*") if directory.is_dir() else []:
        try:
            found.append(read(path))
        except BackupError:
            continue
    return sorted(found, key=lambda b: str(b.manifest.get("created_at")), reverse=True)


def prune(directory: Path, **retention: int) -> list[Path]:
    """Remove the backups in ``directory`` that the retention does not keep."""
    backups = listed(directory)
    moments = {b.path: datetime.fromisoformat(b.manifest["created_at"]) for b in backups}
    keep = to_keep(moments.values(), **retention)
    removed = []
    for path, moment in moments.items():
        if moment not in keep:
            shutil.rmtree(path)
            removed.append(path)
    return removed


# --- what the admin sees ------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleState:
    """The scheduled backup's last run and the backups it keeps."""

    directory: Path
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_result: str | None
    backups: list[Backup]

    @property
    def failed(self) -> bool:
        return bool(self.last_result and self.last_result.startswith("failed"))


def schedule_state(db: Session, conf: Settings) -> ScheduleState:
    from ketaclinic.platform.jobs import JobRun

    run = db.get(JobRun, "platform.backup")
    directory = conf.effective_backup_dir
    return ScheduleState(
        directory=directory,
        last_started_at=run.last_started_at if run else None,
        last_finished_at=run.last_finished_at if run else None,
        last_result=run.last_result if run else None,
        backups=listed(directory),
    )
