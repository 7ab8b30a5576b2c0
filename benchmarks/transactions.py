"""Statements, commits and audit rows per request, and the chart's throughput.

The figures the issue "One transaction per act" asks for, to run before and after the
change (it prints figures and never fails):

    .venv/bin/python benchmarks/transactions.py \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench_demo \\
        --json benchmarks/results/transactions-after.json \\
        --compare benchmarks/results/transactions-before.json

1. The demo clinic (``ketaclinic demo``, about a minute) on SQLite under
   ``--data-dir`` (default ``benchmarks/.data/``, ignored by git) and, with ``--postgres``,
   on PostgreSQL. A clinic already there is reused (the command migrates it and leaves
   its data); ``--rebuild`` wipes it and builds it again.
2. Per request, in-process (``TestClient`` on ``create_app(settings)``), each request
   once to warm up and then ``--repeat`` times: SQL statements (``before_cursor_execute``
   on the app's engine; SQLite's ``BEGIN IMMEDIATE`` counted apart), transactions begun,
   commits and rollbacks (the engine's events), audit rows written (``audit_events``
   counted before and after, on a connection of its own) and wall time (median).
   Requests: the patient chart, an infusion session page, the prescriber's course
   dashboard, the clinic outcomes page, and POST vital signs on an open session (the
   one left open by an earlier run, else one started for a booked infusion, else a
   walk-in), all with bearer API tokens made through the accounts service.
3. Throughput of the chart against a real ``ketaclinic serve`` (uvicorn) on a loopback
   port: ``--requests`` requests at 1 and at 16 concurrent clients (threads, one
   keep-alive connection each; at most ``--time-cap`` seconds a level), counting non-2xx
   replies, 500s and "database is locked" (in reply bodies and the server log).
   On PostgreSQL also with ``--workers 2`` when ``serve`` offers that option ("n/a" if not).

Counts are exact; times and rates depend on the machine and whoever else is using it.
Only public entry points are used (the app factory, HTTP routes, the CLI, the accounts
service for tokens, raw SQL for counting and for choosing ids), so that the script runs
unchanged on either side of the refactor. ``--load FILE`` prints saved figures instead
of running; with ``--compare OLD`` it prints after/before ratios.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT / "benchmarks" / ".data"
PRESCRIBER = "dr.rivera"
NURSE = "nurse.okafor"
TOKEN_NAME = "benchmarks/transactions.py"
VITALS = {
    "heart_rate": 74,
    "systolic_bp": 126,
    "diastolic_bp": 79,
    "spo2": 98,
    "respiratory_rate": 14,
}
LEVELS = (1, 16)
# The thread that writes the batched read-audit rows (``platform.unit_of_work``).
BACKGROUND_WRITER = "ketaclinic-later-writes"
LOCKED = "database is locked"
# name, method, path template, user; the ids are filled in from the demo's data.
REQUESTS = [
    ("patient chart", "GET", "/patients/{chart_patient}", PRESCRIBER),
    ("session page", "GET", "/sessions/{page_session}", NURSE),
    ("course dashboard", "GET", "/outcomes/dashboard", PRESCRIBER),
    ("clinic outcomes", "GET", "/outcomes/clinic", PRESCRIBER),
    ("POST vitals", "POST", "/api/sessions/{open_session}/vitals", NURSE),
]


# ----------------------------------------------------------------- the demo clinic
class Backend:
    def __init__(self, name: str, url: str, data_dir: Path) -> None:
        self.name, self.url, self.data_dir = name, url, data_dir
        data_dir.mkdir(parents=True, exist_ok=True)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KETACLINIC_")}
        env.update(
            KETACLINIC_DATA_DIR=str(self.data_dir),
            KETACLINIC_DATABASE_URL=self.url,
            KETACLINIC_MODE="development",
            COLUMNS="300",
            NO_COLOR="1",
            TERM="dumb",
        )
        return env

    def settings(self) -> Any:
        from ketaclinic.platform.settings import Settings

        return Settings(mode="development", data_dir=self.data_dir, database_url=self.url)


def cli() -> list[str]:
    beside = Path(sys.executable).parent / "ketaclinic"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("ketaclinic")
    if found is None:
        sys.exit("the ketaclinic command is not installed (run scripts/bootstrap)")
    return [found]


def demo(backend: Backend, rebuild: bool) -> dict[str, Any]:
    """Build the demo clinic, or reuse (and migrate) the one already there."""
    start = time.perf_counter()
    command = cli() + ["demo"] + (["--reset"] if rebuild else [])
    done = subprocess.run(command, env=backend.env(), capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"ketaclinic demo failed on {backend.name}:\n{done.stdout}\n{done.stderr}")
    reused = "already holds a clinic" in done.stdout
    what = "reused (migrated)" if reused else "built"
    print(f"[{backend.name}] demo clinic {what} in {seconds:.1f} s", flush=True)
    return {"reused": reused, "seconds": round(seconds, 1)}


def make_tokens(backend: Backend) -> dict[str, str]:
    """One bearer token per user, made through the accounts service and committed."""
    from ketaclinic.platform.accounts import service as accounts
    from ketaclinic.platform.actors import Actor
    from ketaclinic.platform.audit import chain

    actor = Actor(user_id=None, username="benchmark")
    engine = create_engine(backend.url)
    tokens = {}
    try:
        # The token's audit row is keyed and checkpointed by the clinic's own data folder,
        # as the app's are; without it the process-wide settings (./data) would key it.
        with Session(engine, info=chain.session_info(backend.settings())) as db:
            for username in (PRESCRIBER, NURSE):
                user = accounts.get_user(db, username=username)
                tokens[username] = accounts.create_api_token(
                    db, actor=actor, user_id=user.id, name=TOKEN_NAME
                )
                db.commit()  # a service that only flushes leaves the commit to its caller
    finally:
        engine.dispose()
    return tokens


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def choose_ids(engine: Engine) -> dict[str, int]:
    """Fixed choices: the patient with the most sessions, the latest finished session."""
    patient = scalar(
        engine,
        "SELECT patient_id FROM infusion_sessions GROUP BY patient_id "
        "ORDER BY count(*) DESC, patient_id LIMIT 1",
    )
    session = scalar(
        engine,
        "SELECT id FROM infusion_sessions WHERE status NOT IN ('open', 'cancelled') "
        "ORDER BY id DESC LIMIT 1",
    )
    if patient is None or session is None:
        sys.exit("the demo clinic has no infusion sessions: rebuild it with --rebuild")
    return {"chart_patient": int(patient), "page_session": int(session)}


def open_session(engine: Engine, client: Any, headers: dict[str, str]) -> int:
    """An open session to chart vitals on: one already open, else start one (through the
    API) for the next booked infusion, else as a walk-in for a patient with a signed order."""
    found = scalar(engine, "SELECT min(id) FROM infusion_sessions WHERE status = 'open'")
    if found is not None:
        return int(found)
    with engine.connect() as conn:
        booked = conn.execute(
            text(
                "SELECT id FROM appointments WHERE status = 'booked' AND kind <> 'consultation' "
                "ORDER BY starts_at, id"
            )
        ).scalars()
        signed = conn.execute(
            text("SELECT DISTINCT patient_id FROM orders WHERE status = 'signed' ORDER BY 1")
        ).scalars()
        attempts = [{"appointment_id": a} for a in booked] + [{"patient_id": p} for p in signed]
    for body in attempts:
        reply = client.post("/api/sessions", json=body, headers=headers)
        if reply.status_code == 201:
            print(f"  opened session {reply.json()['id']} with {body}", flush=True)
            return int(reply.json()["id"])
    sys.exit("could not open an infusion session in the demo clinic")


# ----------------------------------------------------------------- per-request counts
class EngineCounts:
    """Statements, transactions and commits seen by one engine (those of the app's
    background writer counted apart)."""

    def __init__(self, engine: Engine) -> None:
        self.lock = threading.Lock()
        self.reset()
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "begin", self._event("begin"))
        event.listen(engine, "commit", self._event("commit"))
        event.listen(engine, "rollback", self._event("rollback"))

    def reset(self) -> None:
        self.counts: Counter[str] = Counter()

    def _statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        head = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        with self.lock:
            if threading.current_thread().name == BACKGROUND_WRITER:
                # The batched read-audit rows of earlier requests, written by the app's
                # own thread while this one ran: counted apart, not as the request's.
                self.counts["background_statements"] += 1
                return
            if statement.strip().upper() == "BEGIN IMMEDIATE":
                self.counts["begin_immediate"] += 1
                return
            self.counts["statements"] += 1
            if head in ("SELECT", "WITH"):
                self.counts["selects"] += 1
            elif head in ("INSERT", "UPDATE", "DELETE"):
                self.counts["writes"] += 1

    def _event(self, name: str) -> Any:
        def count(*_: Any) -> None:
            background = threading.current_thread().name == BACKGROUND_WRITER
            with self.lock:
                self.counts[f"background_{name}" if background else name] += 1

        return count

    def snapshot(self) -> dict[str, int]:
        keys = ("statements", "selects", "writes", "begin", "commit", "rollback")
        return {k: self.counts[k] for k in (*keys, "begin_immediate")}


def app_engine(app: Any) -> Engine:
    engine = getattr(app.state, "engine", None)
    if isinstance(engine, Engine):
        return engine
    for value in vars(app.state).get("_state", {}).values():
        if isinstance(value, Engine):
            return value
    sys.exit("create_app() keeps no SQLAlchemy engine on app.state: adapt the benchmark")


def audit_actions(engine: Engine, after_id: int) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT action, count(*) FROM audit_events WHERE id > :after "
                "GROUP BY action ORDER BY action"
            ),
            {"after": after_id},
        ).all()
    return {action: int(n) for action, n in rows}


def per_request(backend: Backend, repeat: int) -> tuple[dict[str, Any], dict[str, Any]]:
    from fastapi.testclient import TestClient

    from ketaclinic.platform.app import create_app

    app = create_app(backend.settings())  # imports every area's models, too
    tokens = make_tokens(backend)
    counting = create_engine(backend.url)  # raw SQL for choosing and counting, not counted
    counts = EngineCounts(app_engine(app))
    results: dict[str, Any] = {}
    try:
        ids = choose_ids(counting)
        with TestClient(app) as client:
            ids["open_session"] = open_session(counting, client, bearer(tokens[NURSE]))
            print(f"[{backend.name}] ids: {ids}", flush=True)
            for name, method, template, user in REQUESTS:
                path = template.format(**ids)
                body = VITALS if method == "POST" else None
                results[name] = measure(
                    client, counts, counting, method, path, bearer(tokens[user]), body, repeat
                )
    finally:
        app_engine(app).dispose()
        counting.dispose()
    return results, {"ids": ids, "tokens": tokens}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "text/html"}


def measure(
    client: Any,
    counts: EngineCounts,
    counting: Engine,
    method: str,
    path: str,
    headers: dict[str, str],
    body: dict[str, Any] | None,
    repeat: int,
) -> dict[str, Any]:
    warm = client.request(method, path, headers=headers, json=body)  # templates, caches
    if not 200 <= warm.status_code < 300:
        print(f"  {method} {path}: {warm.status_code} {warm.text[:300]!r}", flush=True)
    runs = []
    for _ in range(repeat):
        last_id = scalar(counting, "SELECT coalesce(max(id), 0) FROM audit_events")
        audit_before = scalar(counting, "SELECT count(*) FROM audit_events")
        counts.reset()
        start = time.perf_counter()
        reply = client.request(method, path, headers=headers, json=body)
        wall = time.perf_counter() - start
        seen = counts.snapshot()
        audit = scalar(counting, "SELECT count(*) FROM audit_events") - audit_before
        runs.append({**seen, "audit_rows": int(audit), "status": reply.status_code, "s": wall})
    counted = [k for k in runs[0] if k != "s"]
    varies = sorted(k for k in counted if len({r[k] for r in runs}) > 1)
    last = runs[-1]
    return {
        "method": method,
        "path": path,
        **{k: last[k] for k in counted},
        "varies": varies,
        "ms_median": round(statistics.median(r["s"] for r in runs) * 1000, 2),
        "ms_min": round(min(r["s"] for r in runs) * 1000, 2),
        "repeat": repeat,
        "audit_actions": audit_actions(counting, last_id),
    }


# ----------------------------------------------------------------- throughput
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_supports_workers(backend: Backend) -> bool:
    done = subprocess.run(
        cli() + ["serve", "--help"], env=backend.env(), capture_output=True, text=True, check=False
    )
    return "--workers" in done.stdout


@contextmanager
def server(backend: Backend, log: Path, workers: int | None) -> Iterator[int]:
    port = free_port()
    command = cli() + ["serve", "--host", "127.0.0.1", "--port", str(port), "--jobs-every", "0"]
    if workers:
        command += ["--workers", str(workers)]
    with log.open("a") as out:
        out.write(f"\n=== {datetime.now(UTC).isoformat()} {' '.join(command[1:])}\n")
        out.flush()
        proc = subprocess.Popen(  # its own process group, so that workers stop with it
            command, env=backend.env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                sys.exit(f"ketaclinic serve exited with {proc.returncode}; see {log}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit(f"ketaclinic serve did not answer /healthz in 90 s; see {log}")
            time.sleep(0.2)
        yield port
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def connect(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=60)


def hammer(
    port: int, path: str, token: str, clients: int, total: int, cap: float
) -> dict[str, Any]:
    """``total`` GETs from ``clients`` threads, one keep-alive connection each."""
    lock = threading.Lock()
    state = {"next": 0}
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    locked, reconnects = [0], [0]
    deadline = time.monotonic() + cap
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/html"}

    def claim() -> bool:
        with lock:
            if state["next"] >= total or time.monotonic() > deadline:
                return False
            state["next"] += 1
            return True

    def get(conn: http.client.HTTPConnection) -> tuple[int, bytes]:
        conn.request("GET", path, headers=headers)
        reply = conn.getresponse()
        return reply.status, reply.read()

    def worker() -> None:
        conn, used = connect(port), False
        while claim():
            start = time.perf_counter()
            try:
                status, data = get(conn)
            except (OSError, http.client.HTTPException):
                # The server may close a kept-alive connection (it does after a 500); a
                # client then retries an idempotent GET once on a new connection.
                conn.close()
                conn = connect(port)
                if used:
                    reconnects[0] += 1
                try:
                    status, data = get(conn)
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn, status, data = connect(port), 0, b""
            used = True
            took = time.perf_counter() - start
            with lock:
                latencies.append(took)
                statuses[status] += 1
                locked[0] += LOCKED.encode() in data
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    done = len(latencies)
    ordered = sorted(latencies)
    ok = sum(n for s, n in statuses.items() if 200 <= s < 300)
    return {
        "clients": clients,
        "requests": done,
        "capped": done < total,
        "seconds": round(seconds, 2),
        "rps": round(done / seconds, 1) if seconds else 0.0,
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 1) if ordered else None,
        "p95_ms": round(ordered[int(len(ordered) * 0.95)] * 1000, 1) if ordered else None,
        "non_2xx": done - ok,
        "status_500": statuses[500],
        "connection_errors": statuses[0],
        "reconnects": reconnects[0],
        "locked_in_replies": locked[0],
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


def log_errors(log: str) -> dict[str, int]:
    """Errors in the server's log, once per traceback (its root-cause line)."""
    lines = [line.strip() for line in log.splitlines()]
    return {
        "locked_in_log": sum(line == f"sqlite3.OperationalError: {LOCKED}" for line in lines),
        "operational_errors_in_log": sum(
            line.startswith("sqlalchemy.exc.OperationalError") for line in lines
        ),
        "tracebacks_in_log": sum(line.startswith("Traceback (most recent call") for line in lines),
    }


def throughput(backend: Backend, path: str, token: str, args: argparse.Namespace) -> dict[str, Any]:
    counting = create_engine(backend.url)
    log = backend.data_dir / "serve.log"
    runs: dict[str, Any] = {}
    setups: list[int | None] = [None]
    workers_na = backend.name == "postgresql" and not serve_supports_workers(backend)
    if backend.name == "postgresql" and not workers_na:
        setups.append(2)
    try:
        for workers in setups:
            with server(backend, log, workers) as port:
                hammer(port, path, token, 1, 10, args.time_cap)  # warm up
                for clients in LEVELS:
                    audit_before = scalar(counting, "SELECT count(*) FROM audit_events")
                    log_before = log.stat().st_size
                    run = hammer(port, path, token, clients, args.requests, args.time_cap)
                    audit = scalar(counting, "SELECT count(*) FROM audit_events") - audit_before
                    with log.open("rb") as f:
                        f.seek(log_before)
                        new_log = f.read().decode(errors="replace")
                    run["workers"] = workers or 1
                    run["audit_rows_per_request"] = round(audit / max(run["requests"], 1), 2)
                    run.update(log_errors(new_log))
                    key = f"c{clients}" + (f"_w{workers}" if workers else "")
                    runs[key] = run
                    print(
                        f"[{backend.name}] chart x{run['requests']}, {clients} clients, "
                        f"{run['workers']} worker(s): {run['rps']} req/s",
                        flush=True,
                    )
    finally:
        counting.dispose()
    if workers_na:
        runs["workers2"] = "n/a (ketaclinic serve has no --workers option)"
    return runs


# ----------------------------------------------------------------- output
def print_requests(results: dict[str, Any]) -> None:
    print()
    print("Per request (in-process TestClient; counts exact, times noisy: 2 shared cores)")
    head = (
        f"{'request':<17} {'backend':<10} {'HTTP':>4} {'stmts':>5} {'select':>6} {'write':>5} "
        f"{'begin':>5} {'BEGIN IMM':>9} {'commit':>6} {'rollbk':>6} {'audit':>5} "
        f"{'ms med':>8} {'ms min':>8}"
    )
    print(head)
    print("-" * len(head))
    for name, *_ in REQUESTS:
        for backend, data in results["backends"].items():
            r = data.get("requests", {}).get(name)
            if r is None:
                continue
            mark = "*" if r["varies"] else ""
            print(
                f"{name:<17} {backend:<10} {r['status']:>4} {r['statements']:>5} "
                f"{r['selects']:>6} {r['writes']:>5} {r['begin']:>5} "
                f"{r['begin_immediate'] if backend == 'sqlite' else '-':>9} {r['commit']:>6} "
                f"{r['rollback']:>6} {r['audit_rows']:>5} {r['ms_median']:>8.1f} "
                f"{r['ms_min']:>8.1f}{mark}"
            )
    print(
        "stmts excludes BEGIN IMMEDIATE; write = INSERT/UPDATE/DELETE; begin/commit/rollbk are "
        "engine events; audit = audit_events rows written; * = a count varied between runs"
    )
    print("audit actions per request:")
    for name, *_ in REQUESTS:
        for backend, data in results["backends"].items():
            r = data.get("requests", {}).get(name)
            if r is not None:
                shown = ", ".join(f"{a} x{n}" for a, n in r["audit_actions"].items()) or "none"
                print(f"  {name} [{backend}]: {shown}")


def print_throughput(results: dict[str, Any]) -> None:
    rows = [(b, d["throughput"]) for b, d in results["backends"].items() if d.get("throughput")]
    if not rows:
        return
    print()
    print("Chart throughput (ketaclinic serve on loopback; rates noisy: 2 shared cores)")
    head = (
        f"{'backend':<10} {'workers':>7} {'clients':>7} {'reqs':>5} {'s':>6} {'req/s':>7} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'non2xx':>6} {'500':>4} {'locked':>6} {'audit/req':>9}"
    )
    print(head)
    print("-" * len(head))
    for backend, runs in rows:
        for run in runs.values():
            if not isinstance(run, dict):
                print(f"{backend:<10} {'2':>7}   {run}")
                continue
            locked = max(run["locked_in_replies"], run["locked_in_log"])
            capped = " (time cap)" if run["capped"] else ""
            print(
                f"{backend:<10} {run['workers']:>7} {run['clients']:>7} {run['requests']:>5} "
                f"{run['seconds']:>6.1f} {run['rps']:>7.1f} {run['p50_ms']:>7} {run['p95_ms']:>7} "
                f"{run['non_2xx']:>6} {run['status_500']:>4} {locked:>6} "
                f"{run['audit_rows_per_request']:>9}{capped}"
            )
    print(
        "locked = 'database is locked' in replies or the server log; a GET cut off by the "
        "server closing its connection is retried once (JSON: reconnects)"
    )


def ratio(new: float | None, old: float | None) -> str:
    if new is None or old is None:
        return "-"
    if old == 0:
        return "=" if new == 0 else "new"
    return f"x{new / old:.2f}"


def num(value: float) -> str:
    return f"{value:.0f}" if isinstance(value, float) else str(value)


def print_compare(old: dict[str, Any], new: dict[str, Any]) -> None:
    print()
    print(
        f"After / before (before: {old['meta'].get('commit', '?')[:10]}, "
        f"after: {new['meta'].get('commit', '?')[:10]}; below 1 is fewer / faster)"
    )
    keys = ("statements", "writes", "begin", "commit", "audit_rows", "ms_median")
    head = f"{'request':<17} {'backend':<10} " + " ".join(f"{k:>19}" for k in keys)
    print(head)
    print("-" * len(head))
    for name, *_ in REQUESTS:
        for backend, data in new["backends"].items():
            a = data.get("requests", {}).get(name)
            b = old["backends"].get(backend, {}).get("requests", {}).get(name)
            if a is None or b is None:
                continue
            cells = [f"{num(b[k])}->{num(a[k])} {ratio(a[k], b[k])}" for k in keys]
            print(f"{name:<17} {backend:<10} " + " ".join(f"{c:>19}" for c in cells))
    for backend, data in new["backends"].items():
        before = old["backends"].get(backend, {}).get("throughput") or {}
        for key, run in (data.get("throughput") or {}).items():
            was = before.get(key)
            if isinstance(run, dict) and isinstance(was, dict):
                print(
                    f"chart throughput [{backend} {key}]: {was['rps']} -> {run['rps']} req/s "
                    f"{ratio(run['rps'], was['rps'])}; non-2xx {was['non_2xx']} -> "
                    f"{run['non_2xx']}"
                )
            elif isinstance(run, dict):
                print(f"chart throughput [{backend} {key}]: n/a before -> {run['rps']} req/s")


# ----------------------------------------------------------------- main
def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def postgres_url(url: str) -> str:
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


def run(args: argparse.Namespace) -> dict[str, Any]:
    data = Path(args.data_dir).resolve()
    backends = [
        Backend("sqlite", f"sqlite:///{data / 'sqlite' / 'ketaclinic.db'}", data / "sqlite")
    ]
    if args.postgres:
        backends.append(Backend("postgresql", postgres_url(args.postgres), data / "postgresql"))
    results: dict[str, Any] = {
        "meta": {
            "commit": git("rev-parse", "HEAD"),
            "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "sqlalchemy": sqlalchemy.__version__,
            "cpus": os.cpu_count(),
            "repeat": args.repeat,
            "requests": args.requests,
            "time_cap_s": args.time_cap,
        },
        "backends": {},
    }
    for backend in backends:
        entry: dict[str, Any] = {"demo": demo(backend, args.rebuild)}
        entry["requests"], extra = per_request(backend, args.repeat)
        entry["ids"] = extra["ids"]
        if not args.skip_throughput:
            chart = REQUESTS[0][2].format(**extra["ids"])
            entry["throughput"] = throughput(backend, chart, extra["tokens"][PRESCRIBER], args)
        results["backends"][backend.name] = entry
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL database")
    parser.add_argument("--skip-throughput", action="store_true", help="per-request counts only")
    parser.add_argument("--requests", type=int, default=200, help="chart requests per level")
    parser.add_argument("--time-cap", type=float, default=120.0, help="seconds at most per level")
    parser.add_argument("--repeat", type=int, default=5, help="measured runs of each request")
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA), help="where the demo lives")
    parser.add_argument("--rebuild", action="store_true", help="wipe and rebuild the demo")
    parser.add_argument("--json", metavar="FILE", help="save the figures as JSON")
    parser.add_argument("--compare", metavar="FILE", help="print ratios against this JSON")
    parser.add_argument("--load", metavar="FILE", help="print figures from this JSON, not a run")
    args = parser.parse_args()
    if args.requests < 1 or args.repeat < 1:
        parser.error("--requests and --repeat must be at least 1")
    results = json.loads(Path(args.load).read_text()) if args.load else run(args)
    print_requests(results)
    print_throughput(results)
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
        print(f"\nfigures saved to {path}")
    if args.compare:
        print_compare(json.loads(Path(args.compare).read_text()), results)


if __name__ == "__main__":
    main()
