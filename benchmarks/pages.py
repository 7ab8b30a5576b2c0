"""Every page of every staff role's navigation on a grown clinic, beside the same page on
a baseline clinic (the demo), in the same run: which pages grow with the clinic's size.

    .venv/bin/python benchmarks/pages.py --baseline /tmp/demo/data --clinic /tmp/s10/data
    .venv/bin/python benchmarks/pages.py --baseline /tmp/demo/data \\
        --clinic /tmp/s10pg/data \\
        --clinic-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_scale10

Each clinic is a data folder made by ``ketaclinic demo`` (``--scale N`` for the grown
one); a clinic on PostgreSQL also gives its URL. For each clinic, in a process of its own
(``create_app`` on its settings, ``TestClient``), each staff user of the demo logs in
through the login form and every page its main navigation links to is read once to warm
it up, then ``--repeat`` times: the median wall time, and the median of the SQL statements
it ran (``transactions.EngineCounts``: the app's background writer's batched read-audit
rows of earlier requests counted apart). A page is measured once, for the first user
whose navigation has it.

The table gives both clinics' figures and their ratio; a page whose time or statements
grow with the clinic's size reads more than it shows. Times depend on the machine and on
whoever else uses it (2 shared cores here): compare rows of one run, not runs. The last
line printed is a JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parent))  # this folder's helpers
import ingest  # noqa: E402

ingest.python_hl7_first()  # this folder last: its hl7.py would shadow the app's python-hl7
import transactions as tx  # noqa: E402  (per-request statement counts)

# The demo's staff (``ketaclinic.demo.STAFF``), each role's navigation once.
USERS = (
    "dr.chen",
    "dr.rivera",
    "nurse.okafor",
    "desk.baker",
    "therapist.nguyen",
    "research.patel",
    "admin",
)


def measure(data_dir: Path, url: str | None, repeat: int) -> dict[str, dict[str, Any]]:
    """Median ms and statements of every navigation page of the clinic in ``data_dir``."""
    from fastapi.testclient import TestClient

    from ketaclinic import demo
    from ketaclinic.platform.app import create_app
    from ketaclinic.platform.settings import Settings

    app = create_app(Settings(mode="development", data_dir=data_dir, database_url=url))
    found: dict[str, dict[str, Any]] = {}
    counts = tx.EngineCounts(tx.app_engine(app))
    with TestClient(app) as client:
        for user in USERS:
            client.cookies.clear()
            form = client.get("/login")
            csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            home = client.post(
                "/login",
                data={"username": user, "password": demo.PASSWORD, "csrf_token": csrf, "next": "/"},
            )
            nav = home.text.split('aria-label="Main"', 1)[1].split("</nav>", 1)[0]
            for path in ["/", *dict.fromkeys(re.findall(r'href="([^"]+)"', nav))]:
                if path in found:
                    continue
                client.get(path)  # warm
                times: list[float] = []
                statements: list[int] = []
                status = 0
                for _ in range(repeat):
                    counts.reset()
                    began = time.perf_counter()
                    reply = client.get(path)
                    times.append((time.perf_counter() - began) * 1000)
                    statements.append(counts.snapshot()["statements"])
                    status = reply.status_code
                found[path] = {
                    "user": user,
                    "status": status,
                    "ms": round(statistics.median(times), 1),
                    "statements": int(statistics.median(statements)),
                }
    tx.app_engine(app).dispose()
    return found


def in_own_process(data_dir: Path, url: str | None, repeat: int) -> dict[str, dict[str, Any]]:
    """``measure`` in a fresh process: each clinic's settings, engine and caches its own."""
    command = [sys.executable, __file__, "--one", str(data_dir), "--repeat", str(repeat)]
    if url:
        command += ["--url", url]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"measuring {data_dir} failed:\n{done.stdout}\n{done.stderr}")
    result: dict[str, dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--baseline", type=Path, help="the baseline clinic's data folder")
    parser.add_argument("--baseline-url", help="its database URL (default: SQLite in it)")
    parser.add_argument("--clinic", type=Path, help="the grown clinic's data folder")
    parser.add_argument("--clinic-url", help="its database URL (default: SQLite in it)")
    parser.add_argument("--repeat", type=int, default=5, help="requests a page (median shown)")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure(args.one, args.url, args.repeat)))
        return
    if args.baseline is None or args.clinic is None:
        parser.error("give --baseline and --clinic")
    base = in_own_process(args.baseline, args.baseline_url, args.repeat)
    grown = in_own_process(args.clinic, args.clinic_url, args.repeat)
    print(f"median of {args.repeat}; baseline {args.baseline}, clinic {args.clinic}")
    print(f"{'page':34} {'as':16} {'baseline ms':>12} {'clinic ms':>10} {'ratio':>6}  statements")
    rows = {}
    for path, found in grown.items():
        before = base.get(path)
        ratio = round(found["ms"] / before["ms"], 2) if before and before["ms"] else None
        rows[path] = {"baseline": before, "clinic": found, "ratio": ratio}
        print(
            f"{path:34} {found['user']:16} {before['ms'] if before else '-':>12} "
            f"{found['ms']:>10} {ratio if ratio is not None else '-':>6}  "
            f"{before['statements'] if before else '-'} -> {found['statements']}"
            + ("" if found["status"] == 200 else f"  (HTTP {found['status']})")
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
