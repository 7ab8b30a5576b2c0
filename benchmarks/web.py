"""p50/p95 of the pages a clinic uses most, at 1 and 16 clients, for the demo clinic and
for one grown by ``ketaclinic demo --scale N``, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/web.py --scale 1 \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench_scale

For each backend: the demo clinic is built (or reused) under ``--data-dir`` and, with
``--scale N``, N clinic-years are seeded before it once (a marker file remembers it;
``--rebuild`` starts again). Then:

1. **1 client, in-process** (``TestClient`` on ``create_app``): each request once to warm
   up, then ``--repeat`` times: p50/p95 wall time and the SQL statements it ran (the
   app engine's ``before_cursor_execute``; its audit and transaction-control statements
   counted too, the app's background writer's batched read-audit rows of earlier
   requests not). Requests: login (the form's POST), patient list, patient search,
   patient chart, infusion session page, course dashboard, clinic outcomes, and POST
   vital signs on an open session; beside the last, the rate of a raw ``executemany``
   of the same rows into ``vital_signs`` in the same run (the ingest baseline); then the
   vitals ingest in process on the same clinic: monitor readings of 20 chairs charted by
   the vitals service a group at a time, beside a raw ``executemany`` of as many rows,
   ``--ingest-repeat`` times (``benchmarks/ingest.py``: its median ratio is the figure
   the 5x target is read against).
2. **16 clients** against a real ``ketaclinic serve`` (uvicorn, a subprocess), threads
   with one keep-alive connection each (``transactions.hammer``), for the GET pages:
   p50/p95 over ``--requests`` requests a page (at most ``--time-cap`` s each).

Times depend on the machine and on whoever else uses it (2 shared cores here): compare
rows of one run, not runs. The last line printed is a JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

sys.path.append(str(Path(__file__).resolve().parent))  # this folder's helpers
import ingest  # noqa: E402  (the vitals ingest beside a raw insert)

ingest.python_hl7_first()  # this folder last: its hl7.py would shadow the app's python-hl7
import transactions as tx  # noqa: E402  (the demo, server and hammer helpers)

DEFAULT_DATA = tx.ROOT / "benchmarks" / ".data" / "web"
PAGES = [
    ("patient list", "/patients", tx.PRESCRIBER),
    ("search", "/patients?q=mar", tx.PRESCRIBER),
    ("chart", "/patients/{chart_patient}", tx.PRESCRIBER),
    ("session page", "/sessions/{page_session}", tx.NURSE),
    ("course dashboard", "/outcomes/dashboard", tx.PRESCRIBER),
    ("clinic outcomes", "/outcomes/clinic?start=2000-01-01", tx.PRESCRIBER),
]


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 1),
    }


def _statements(counts: list[int]) -> dict[str, int]:
    """The median, and the most: a request that falls due to write the batched read
    audit rows, or to seal the trail (a second after the last seal), runs more."""
    return {"statements": int(statistics.median(counts)), "statements_max": max(counts)}


def _seed(backend: tx.Backend, years: float) -> dict[str, Any]:
    marker = backend.data_dir / f"seeded-{years:g}"
    if years <= 0 or marker.exists():
        return {"seeded_years": years, "seed_seconds": None}
    start = time.perf_counter()
    done = subprocess.run(
        tx.cli() + ["demo", "--scale", f"{years:g}"],
        env=backend.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"seeding failed on {backend.name}:\n{done.stdout}\n{done.stderr}")
    marker.write_text(done.stdout)
    seconds = time.perf_counter() - start
    print(f"[{backend.name}] seeded {years:g} clinic-year(s) in {seconds:.0f} s", flush=True)
    return {"seeded_years": years, "seed_seconds": round(seconds, 1)}


def _raw_ingest(url: str, session_id: int, rows: int) -> float:
    """Readings per second of a plain executemany into vital_signs, rolled back."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    values = [
        {
            "session_id": session_id,
            "taken_at": now + timedelta(seconds=i),
            "heart_rate": 74,
            "systolic_bp": 126,
            "diastolic_bp": 79,
            "spo2": 98,
            "respiratory_rate": 14,
            "source": "manual",
            "recorded_at": now,
        }
        for i in range(rows)
    ]
    try:
        with engine.connect() as conn:
            start = time.perf_counter()
            conn.execute(
                text(
                    "INSERT INTO vital_signs (session_id, taken_at, heart_rate, systolic_bp, "
                    "diastolic_bp, spo2, respiratory_rate, source, recorded_at) VALUES "
                    "(:session_id, :taken_at, :heart_rate, :systolic_bp, :diastolic_bp, :spo2, "
                    ":respiratory_rate, :source, :recorded_at)"
                ),
                values,
            )
            seconds = time.perf_counter() - start
            conn.rollback()
    finally:
        engine.dispose()
    return rows / seconds


def _batch_ingest(backend: tx.Backend, repeats: int) -> dict[str, Any]:
    """The vitals service's batch charting of monitor readings on this clinic, beside a
    raw executemany of as many rows (``benchmarks/ingest.py``)."""
    return ingest.measure_on(backend.url, backend.settings(), repeats=repeats)


def one_client(backend: tx.Backend, repeat: int) -> tuple[dict[str, Any], dict[str, Any]]:
    from fastapi.testclient import TestClient

    from ketaclinic import demo
    from ketaclinic.platform.app import create_app

    app = create_app(backend.settings())
    tokens = tx.make_tokens(backend)
    counting = create_engine(backend.url)
    counts = tx.EngineCounts(tx.app_engine(app))
    results: dict[str, Any] = {}
    try:
        ids = tx.choose_ids(counting)
        with TestClient(app) as client:
            ids["open_session"] = tx.open_session(counting, client, tx.bearer(tokens[tx.NURSE]))

            def timed(send: Any) -> dict[str, Any]:
                send()  # warm
                samples, statements = [], []
                for _ in range(repeat):
                    counts.reset()
                    start = time.perf_counter()
                    reply = send()
                    samples.append(time.perf_counter() - start)
                    statements.append(counts.snapshot()["statements"])
                    if reply.status_code >= 400:
                        print(f"  {reply.status_code}: {reply.text[:200]!r}", flush=True)
                return {**_percentiles(samples), **_statements(statements)}

            # The login's own POST is what is timed (its form GET comes first, uncounted).
            samples, statements = [], []
            for _ in range(repeat):
                client.cookies.clear()
                page = client.get("/login")
                csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
                counts.reset()
                start = time.perf_counter()
                client.post(
                    "/login",
                    data={
                        "username": tx.PRESCRIBER,
                        "password": demo.PASSWORD,
                        "csrf_token": csrf,
                        "next": "/",
                    },
                    follow_redirects=False,
                )
                samples.append(time.perf_counter() - start)
                statements.append(counts.snapshot()["statements"])
            results["login"] = {**_percentiles(samples), **_statements(statements)}
            client.cookies.clear()
            for name, template, user in PAGES:
                path = template.format(**ids)
                headers = tx.bearer(tokens[user])
                results[name] = timed(lambda p=path, h=headers: client.get(p, headers=h))
            vitals_headers = tx.bearer(tokens[tx.NURSE])
            vitals_path = f"/api/sessions/{ids['open_session']}/vitals"
            results["POST vitals"] = timed(
                lambda: client.post(vitals_path, json=tx.VITALS, headers=vitals_headers)
            )
    finally:
        tx.app_engine(app).dispose()
        counting.dispose()
    p50 = results["POST vitals"]["p50_ms"] / 1000
    raw = _raw_ingest(backend.url, ids["open_session"], 2000)
    results["POST vitals"]["readings_per_s"] = round(1 / p50, 1) if p50 else None
    results["POST vitals"]["raw_executemany_per_s"] = round(raw, 1)
    return results, {"ids": ids, "tokens": tokens}


def sixteen_clients(
    backend: tx.Backend, ids: dict[str, int], tokens: dict[str, str], args: argparse.Namespace
) -> dict[str, Any]:
    log = backend.data_dir / "serve.log"
    runs: dict[str, Any] = {}
    with tx.server(backend, log, None) as port:
        for name, template, user in PAGES:
            path = template.format(**ids)
            tx.hammer(port, path, tokens[user], 1, 3, args.time_cap)  # warm
            run = tx.hammer(port, path, tokens[user], 16, args.requests, args.time_cap)
            runs[name] = {k: run[k] for k in ("p50_ms", "p95_ms", "requests", "non_2xx", "rps")}
            print(f"[{backend.name}] {name} x16: {runs[name]}", flush=True)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL for the clinic (reused)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--scale", type=float, default=0.0, help="clinic-years to seed")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--requests", type=int, default=64)
    parser.add_argument("--time-cap", type=float, default=60.0)
    parser.add_argument("--no-concurrent", action="store_true", help="skip the 16 clients")
    parser.add_argument(
        "--ingest-repeat",
        type=int,
        default=9,
        help="runs of the batch vitals ingest (0: none; its chairs leave courses open)",
    )
    args = parser.parse_args()
    backends = [] if args.no_sqlite else ["sqlite"]
    backends += ["postgresql"] if args.postgres else []
    report: dict[str, Any] = {"scale": args.scale, "backends": {}}
    for name in backends:
        data = args.data_dir / f"{name}-{args.scale:g}"
        url = (
            tx.postgres_url(args.postgres)
            if name == "postgresql"
            else f"sqlite:///{data / 'ketaclinic.db'}"
        )
        backend = tx.Backend(name, url, data)
        if args.rebuild:
            for marker in data.glob("seeded-*"):
                marker.unlink()
        built = tx.demo(backend, args.rebuild)
        seeded = _seed(backend, args.scale)
        single, found = one_client(backend, args.repeat)
        entry: dict[str, Any] = {"demo": built, **seeded, "one_client": single}
        if args.ingest_repeat > 0:
            entry["vitals_ingest"] = _batch_ingest(backend, args.ingest_repeat)
        if not args.no_concurrent:
            entry["sixteen_clients"] = sixteen_clients(backend, found["ids"], found["tokens"], args)
        report["backends"][name] = entry
        print(f"\n[{name}] {args.scale:g} clinic-year(s) seeded; p50 / p95 ms, statements")
        for request, figures in single.items():
            many = entry.get("sixteen_clients", {}).get(request)
            line = (
                f"  {request:<17} 1 client {figures['p50_ms']:>8} / {figures['p95_ms']:>8}"
                f"  ({figures['statements']} statements, at most {figures['statements_max']})"
            )
            if many:
                line += f"   16 clients {many['p50_ms']:>8} / {many['p95_ms']:>8}"
            print(line, flush=True)
        vitals = single["POST vitals"]
        print(
            f"  ingest: {vitals['readings_per_s']} readings/s through the API, raw executemany "
            f"{vitals['raw_executemany_per_s']}/s",
            flush=True,
        )
        if "vitals_ingest" in entry:
            print(f"  {ingest.describe(entry['vitals_ingest'])}", flush=True)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
