"""How fast ``audit verify`` checks a grown audit trail, on SQLite and PostgreSQL.

Run (about two minutes a million rows and backend on this machine):

    .venv/bin/python benchmarks/audit.py --rows 1000000 \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench_scale

A fresh database (SQLite under ``--data-dir``; the PostgreSQL one is emptied and
migrated) gets ``--rows`` audit rows written straight into ``audit_events`` with their
keyed MACs (``chain.row_mac``, the format ``record`` writes today) and
``--legacy-rows`` rows in the earlier keyed format (``chain.row_mac_v1``, when the code
has it) before them, the baseline in the same run. Both are sealed by the trail's own
sealer, then verified by ``audit verify`` (``service.verify_trail``, as the command does,
streaming, with its progress callback). Printed: rows per second writing, sealing and
verifying, the v1 rows' rate beside the current format's (a trail of v1 rows only,
verified in the same run), the verifying process's peak resident set (it runs in a
process of its own), and a JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT / "benchmarks" / ".data" / "audit"
KEY = b"benchmark-audit-key"
ACTIONS = ["patient.read", "session.vital_recorded", "order.signed", "login", "chart.read"]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fresh(url: str | None, data: Path) -> str:
    from ketaclinic.platform import migrate
    from ketaclinic.platform.db import make_engine
    from ketaclinic.platform.model_registry import load_all

    load_all()
    if url is None:
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        url = f"sqlite:///{data / 'ketaclinic.db'}"
    else:
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    migrate.upgrade(url)
    return url


def _grow(db: Any, count: int, first_id: int, mac: Any, extra: dict[str, Any]) -> float:
    from ketaclinic.platform.audit.models import AuditEvent

    rng = random.Random(first_id)
    start = datetime(2017, 1, 1, tzinfo=UTC)
    began = time.perf_counter()
    batch: list[dict[str, Any]] = []
    for n in range(count):
        row_id = first_id + n
        row = {
            "id": row_id,
            "at": start + timedelta(seconds=row_id * 7, microseconds=rng.randrange(10**6)),
            "actor_id": None,
            "actor": f"nurse{rng.randrange(40)}",
            "action": ACTIONS[row_id % len(ACTIONS)],
            "patient_id": None,
            "object_type": "session",
            "object_id": str(rng.randrange(60_000)),
            "detail": "heart rate 74, blood pressure 126/79, SpO2 98 %" if n % 3 else "",
            "ip": "10.0.0.7",
            "reason": "care" if n % 5 == 0 else None,
            "correlation_id": f"{rng.getrandbits(64):016x}",
            "sensitive": n % 2 == 0,
            "prev_hash": None,
            "hash": None,
            **extra,
        }
        row["mac"] = mac(KEY, SimpleNamespace(**row))
        batch.append(row)
        if len(batch) == 10_000:
            db.execute(insert(AuditEvent.__table__), batch)
            batch = []
    if batch:
        db.execute(insert(AuditEvent.__table__), batch)
    db.commit()
    return time.perf_counter() - began


def run(url: str, rows: int, legacy_rows: int) -> dict[str, Any]:
    from ketaclinic.platform.audit import chain
    from ketaclinic.platform.db import make_engine, make_session_factory

    engine = make_engine(url)
    factory = make_session_factory(engine)
    checkpoint = Path(url.removeprefix("sqlite:///")).with_name("checkpoint.json")
    if not url.startswith("sqlite"):
        checkpoint = DEFAULT_DATA / "pg-checkpoint.json"
        checkpoint.unlink(missing_ok=True)
        checkpoint.with_name(chain.PROGRESS_NAME).unlink(missing_ok=True)
    factory.configure(info={"audit_key": KEY, chain.INFO_CHECKPOINT: str(checkpoint)})
    figures: dict[str, Any] = {"backend": engine.dialect.name, "rows": rows}
    v1 = getattr(chain, "row_mac_v1", None)
    columns = {c.name for c in chain.AuditEvent.__table__.columns}
    with factory() as db:
        written = 0
        if legacy_rows and v1 is not None:
            extra = {"mac_version": 1} if "mac_version" in columns else {}
            seconds = _grow(db, legacy_rows, 1, v1, extra)
            figures["v1_write_rows_per_s"] = round(legacy_rows / seconds)
            written = legacy_rows
        extra = {"mac_version": chain.MAC_VERSION} if "mac_version" in columns else {}
        seconds = _grow(db, rows, written + 1, chain.row_mac, extra)
        figures["write_rows_per_s"] = round(rows / seconds)
        if engine.dialect.name == "postgresql":
            db.execute(
                text("SELECT setval(pg_get_serial_sequence('audit_events','id'), :n)"),
                {"n": written + rows + 1},
            )
            db.execute(text("ANALYZE audit_events"))
            db.commit()
        began = time.perf_counter()
        chain.seal(db, wait=True)
        db.commit()
        figures["seal_rows_per_s"] = round((written + rows) / (time.perf_counter() - began))
    engine.dispose()
    # Verified by a process of its own, as ``ketaclinic audit verify`` would be: its peak
    # resident set is the verification's alone.
    child = subprocess.run(
        [sys.executable, __file__, "--verify-only", url, "--checkpoint", str(checkpoint)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures.update(json.loads(child.stdout.strip().splitlines()[-1]))
    return figures


def verify_only(url: str, checkpoint: str) -> dict[str, Any]:
    from ketaclinic.platform.actors import Actor
    from ketaclinic.platform.audit import chain
    from ketaclinic.platform.audit import service as audit
    from ketaclinic.platform.db import make_engine, make_session_factory
    from ketaclinic.platform.model_registry import load_all

    load_all()
    engine = make_engine(url)
    factory = make_session_factory(engine)
    factory.configure(info={"audit_key": KEY, chain.INFO_CHECKPOINT: checkpoint})
    actor = Actor(user_id=None, username="benchmark")
    ticks = [0]

    def progress(reached: int, top: int) -> None:
        ticks[0] += 1

    before = _rss_mb()
    with factory() as db:
        began, cpu = time.perf_counter(), time.process_time()
        result = audit.verify_trail(db, actor=actor, progress=progress)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        db.commit()
    assert result.ok, result.problem
    figures: dict[str, Any] = {
        "verify_seconds": round(seconds, 2),
        "verify_rows_per_s": round(result.checked / seconds),
        # This process's own CPU time: on a machine shared with others the wall time
        # says how busy it was; on SQLite all the work is here, on PostgreSQL the
        # server's share is not counted.
        "verify_cpu_seconds": round(cpu, 2),
        "verify_rows_per_cpu_s": round(result.checked / cpu),
        "verify_peak_rss_mb": round(_rss_mb(), 1),
        "rss_before_verify_mb": round(before, 1),
        "progress_calls": ticks[0],
    }
    engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--legacy-rows", type=int, default=100_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL whose database is emptied")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--verify-only", help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.verify_only:
        print(json.dumps(verify_only(args.verify_only, args.checkpoint)))
        return
    results = []
    targets = ([] if args.no_sqlite else [None]) + ([args.postgres] if args.postgres else [])
    for target in targets:
        url = _fresh(target, args.data_dir)
        if args.legacy_rows:
            # Baseline in the same run: a trail of the earlier format only.
            base = run(url, 0, args.legacy_rows) if _has_v1() else None
            if base is not None:
                url = _fresh(target, args.data_dir)
        figures = run(url, args.rows, 0)
        if args.legacy_rows and _has_v1() and base is not None:
            figures["v1_verify_rows_per_s"] = base["verify_rows_per_s"]
            figures["v1_verify_rows_per_cpu_s"] = base["verify_rows_per_cpu_s"]
            figures["v1_write_rows_per_s"] = base.get("v1_write_rows_per_s")
            # By CPU time: the two runs are minutes apart on a shared machine.
            figures["ratio_vs_v1"] = round(
                figures["verify_rows_per_cpu_s"] / max(base["verify_rows_per_cpu_s"], 1), 1
            )
        results.append(figures)
        print(
            f"{figures['backend']:>10}: {figures['rows']:,} rows verified in "
            f"{figures['verify_seconds']} s = {figures['verify_rows_per_s']:,} rows/s "
            f"({figures['verify_rows_per_cpu_s']:,} per CPU-second of this process) "
            f"(v1 format: {figures.get('v1_verify_rows_per_s', 'n/a')} rows/s, "
            f"{figures.get('v1_verify_rows_per_cpu_s', 'n/a')} per CPU-second; ratio "
            f"{figures.get('ratio_vs_v1', 'n/a')}); written {figures['write_rows_per_s']:,}/s, "
            f"sealed {figures['seal_rows_per_s']:,}/s; verifying process peak "
            f"{figures['verify_peak_rss_mb']} MB ({figures['rss_before_verify_mb']} MB "
            "before it began)",
            flush=True,
        )
    print(json.dumps(results))


def _has_v1() -> bool:
    from ketaclinic.platform.audit import chain

    return hasattr(chain, "row_mac_v1")


if __name__ == "__main__":
    sys.exit(main())
