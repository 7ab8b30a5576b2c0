"""Is the database the clinic's own, whole, and at the schema this code expects?

A damaged database must be refused, not served: a zero-byte file is not a new clinic, a
truncated or overwritten file is not an empty one, and one damaged page of vital signs
must not leave ``/readyz`` answering 200 while reads of those sessions fail. The checks,
cheapest first:

1. the file exists and is not empty (only ``init`` and ``demo`` create a database);
2. its header is SQLite's and the file is as long as the header says;
3. ``PRAGMA application_id`` is ketaclinic's (set by migration 0013; a database from
   before it is recognised by its Alembic table);
4. ``PRAGMA quick_check`` passes (``integrity_check``, which also checks every index
   against its table, with ``full``: ``ketaclinic doctor``);
5. the schema revision is the one this code's migrations end at.

PostgreSQL keeps its own pages whole; there the database must answer and be at the
expected revision.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url

from ketaclinic.platform import db

APPLICATION_ID = 0x4B434C4E  # "KCLN", in the 4 bytes SQLite keeps at offset 68 for this
SQLITE_MAGIC = b"SQLite format 3\x00"
RESTORE_HINT = (
    "restore the latest backup into a new data directory "
    "('ketaclinic restore BACKUP --data-dir NEW') and serve from there"
)
# quick_check reads every page: on /readyz, which a load balancer polls every few
# seconds, its verdict is reused for this long (the cheap checks run on every call).
QUICK_CHECK_REUSE_SECONDS = 60.0


class DamagedDatabase(RuntimeError):
    """The database cannot be used as it is; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class Health:
    ok: bool
    reason: str | None = None


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:" or parsed.database.startswith("file::memory:"):
        return None
    return Path(parsed.database)


# The migrations shipped with this code do not change while it runs: read them once.
@lru_cache(maxsize=1)
def expected_heads() -> frozenset[str]:
    from ketaclinic.platform import migrate

    return frozenset(ScriptDirectory.from_config(migrate.config("sqlite://")).get_heads())


@lru_cache(maxsize=1)
def known_revisions() -> frozenset[str]:
    from ketaclinic.platform import migrate

    script = ScriptDirectory.from_config(migrate.config("sqlite://"))
    return frozenset(r.revision for r in script.walk_revisions())


def read_only_uri(path: Path) -> str:
    """A SQLite URI that opens ``path`` read-only, whatever characters its name holds."""
    return f"file:{quote(str(path.resolve()))}?mode=ro"


def _header_problem(path: Path) -> str | None:
    if not path.exists():
        return (
            f"there is no database at {path}: create a clinic with 'ketaclinic init' "
            f"(or 'ketaclinic demo'), or {RESTORE_HINT}"
        )
    if not path.is_file():
        return f"the database path {path} is not a file"
    size = path.stat().st_size
    if size == 0:
        return f"the database file {path} is empty (0 bytes): it is not a clinic; {RESTORE_HINT}"
    with path.open("rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        return (
            f"the database file {path} is not a SQLite database (its header is damaged, "
            f"or it is another kind of file); {RESTORE_HINT}"
        )
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The page count in the header holds when the change counter matches the
    # version-valid-for number (SQLite file format, section 1.3.7).
    if header[24:28] == header[92:96] and pages and size < pages * page_size:
        return (
            f"the database file {path} is truncated ({size} bytes of the "
            f"{pages * page_size} its header promises); {RESTORE_HINT}"
        )
    return None


def check_sqlite_file(path: Path, *, full: bool = False) -> Health:
    """Checks 1 to 4 on a SQLite file, read-only."""
    problem = _header_problem(path)
    if problem:
        return Health(False, problem)
    try:
        conn = sqlite3.connect(
            read_only_uri(path), uri=True, timeout=db.SQLITE_BUSY_TIMEOUT_MS / 1000
        )
    except sqlite3.Error as exc:
        return Health(False, f"the database file {path} cannot be opened: {exc}")
    try:
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        if application_id != APPLICATION_ID:
            has_schema = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
            if application_id != 0 or not has_schema:
                return Health(
                    False,
                    f"the file {path} is a SQLite database but not a ketaclinic one "
                    f"(application id {application_id}); {RESTORE_HINT}",
                )
        pragma = "integrity_check" if full else "quick_check"
        found = [row[0] for row in conn.execute(f"PRAGMA {pragma}(20)")]
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):
            return Health(False, f"the database file {path} is locked by another process")
        return Health(False, f"the database file {path} is damaged ({exc}); {RESTORE_HINT}")
    except sqlite3.DatabaseError as exc:
        return Health(False, f"the database file {path} is damaged ({exc}); {RESTORE_HINT}")
    finally:
        conn.close()
    if found != ["ok"]:
        # One line: a problem SQLite reports over several lines is joined.
        first = " ".join(found[0].split()) if found else "no answer"
        return Health(
            False,
            f"the database file {path} is damaged ({pragma}: {first}"
            f"{f' and {len(found) - 1} more problems' if len(found) > 1 else ''}); "
            f"{RESTORE_HINT}",
        )
    return Health(True)


def revision_problem(conn: Connection) -> str | None:
    """Check 5: None when the schema is at this code's head revision."""
    current = set(MigrationContext.configure(conn).get_current_heads())
    wanted = expected_heads()
    if current == wanted:
        return None
    if not current:
        return "the database holds no ketaclinic schema (no schema revision recorded)"
    unknown = current - known_revisions()
    if unknown:
        return (
            f"the database is at schema revision {', '.join(sorted(unknown))}, which this "
            "version of ketaclinic does not know (made by a newer version?)"
        )
    return (
        f"the database is at schema revision {', '.join(sorted(current))}, this version "
        f"expects {', '.join(sorted(wanted))}: run 'ketaclinic migrate'"
    )


def check_database(url: str, *, full: bool = False) -> Health:
    """The file checks (SQLite), without the revision: what must hold before migrating."""
    path = sqlite_file(url)
    if path is None:
        return Health(True)
    return check_sqlite_file(path, full=full)


def require_usable(url: str, *, full: bool = False) -> None:
    health = check_database(url, full=full)
    if not health.ok:
        raise DamagedDatabase(health.reason or "the database cannot be used")


_reused: dict[Path, tuple[float, Health]] = {}
_reused_lock = threading.Lock()


def _file_health(path: Path) -> Health:
    """The file checks, the quick_check's verdict reused for a while (see above)."""
    problem = _header_problem(path)
    if problem:
        return Health(False, problem)
    now = time.monotonic()
    with _reused_lock:
        found = _reused.get(path)
    if found and now - found[0] < QUICK_CHECK_REUSE_SECONDS:
        return found[1]
    health = check_sqlite_file(path)
    with _reused_lock:
        _reused[path] = (now, health)
    return health


def forget_checks() -> None:
    """Drop the reused quick_check verdicts (a restore, a test)."""
    with _reused_lock:
        _reused.clear()


def readiness(engine: Engine) -> Health:
    """What ``/readyz`` answers: every check, on the app's own engine."""
    url = engine.url.render_as_string(hide_password=False)
    path = sqlite_file(url)
    if path is not None:
        health = _file_health(path)
        if not health.ok:
            return health
    try:
        with engine.connect() as conn:
            problem = revision_problem(conn)
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return Health(False, f"the database does not answer ({type(exc).__name__})")
    return Health(problem is None, problem)
