"""Bedside-monitor ingest: messages acknowledged per second and ACK latency over MLLP.

Run (prints figures, never fails):

    .venv/bin/python benchmarks/hl7.py --chairs 20 --seconds 20 \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench_hl7

For each database (a fresh SQLite file, and PostgreSQL when ``--postgres`` names a
database, which is migrated and given its own patients): ``--chairs`` IV sessions in
their infusion, each with a monitor bound; the listener (``ketaclinic hl7 listen``'s
``Listener``) on a loopback port in this process; one python-hl7 ``MLLPClient`` per
chair on a thread of its own (in a child process, so that the monitors do not share the
listener's interpreter lock), sending PCD-01 ORU^R01 messages (BP, pulse, SpO2,
breathing rate: one reading a message) and waiting for each ACK.

1. paced: each monitor sends one message a second (the issue's 20 chairs x 1/s target);
2. flat out: each monitor sends its next message as soon as the last is acknowledged
   (the most the listener sustains with that many monitors);
3. raw: the same number of vital_signs rows inserted with one ``executemany`` in one
   transaction, the floor of what any ingest costs; beside it every row the ingest
   writes (readings, control ids, audit rows) the same way, and those rows again a
   group at a time with a commit each, as an ingest that acknowledges a group only once
   it is durably stored must commit them.

Figures: messages acknowledged per second, p50/p95/max ACK latency, the share of AA,
messages per commit (the listener commits the messages that arrived while it wrote
together), the ratio of ingest time per reading to the raw insert's, the statements a
group costs, and a floor: the processor time of the least Python work any ingest of the
same messages does without a database (each split into segments and fields, its ACK
formatted), against the raw insert's.

Each database's audit trail is keyed and checkpointed by a data folder of its own (the
SQLite one beside ``bench.db``, the PostgreSQL one in ``benchmarks/.data/hl7/<database>``),
as the app's are, so that ``ketaclinic audit verify`` of that database with that folder
passes after a run (``--sqlite-dir`` keeps the SQLite clinic to check it).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ingest import SETUP, chart_alone, python_hl7_first, raw_readings, raw_rows
from ingest import chairs as _chairs
from sqlalchemy import event, insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ketaclinic.platform import migrate
from ketaclinic.platform.audit import chain
from ketaclinic.platform.db import make_engine, make_session_factory, new_ids, utcnow
from ketaclinic.platform.model_registry import load_all
from ketaclinic.platform.settings import Settings
from ketaclinic.sessions.models import VitalSign

ZONE = ZoneInfo("America/New_York")
ROOT = Path(__file__).resolve().parent.parent
POSTGRES_DATA = ROOT / "benchmarks" / ".data" / "hl7"
# Processor seconds of this process for the last ingest and raw runs: steadier than the
# wall clock on a shared machine (on SQLite the database's work is in this process too;
# on PostgreSQL the server's is not, so only the wall-clock ratio compares there).
CPU: dict[str, float] = {}


def _drive(
    port: int, chairs: list[tuple[int, str, str]], seconds: float, paced: bool, tag: str
) -> dict[str, Any]:
    from hl7.client import MLLPClient

    from ketaclinic.interop.hl7 import simulator
    from ketaclinic.interop.hl7.messages import oru_r01

    latencies: list[float] = []
    codes: dict[str, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def monitor(index: int, mrn: str, device: str) -> None:
        sent = 0
        with MLLPClient("127.0.0.1", port) as client:
            next_at = time.monotonic() + index * (1.0 / max(1, len(chairs)))
            while time.monotonic() < stop_at:
                if paced:
                    pause = next_at - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    next_at += 1.0
                sent += 1
                message = oru_r01(
                    control_id=f"{tag}-{'p' if paced else 'f'}-{index}-{sent}",
                    mrn=mrn,
                    device_id=device,
                    at=utcnow(),
                    values={
                        "systolic_bp": 124 + sent % 7,
                        "diastolic_bp": 78,
                        "heart_rate": 70 + sent % 5,
                        "spo2": 97,
                        "respiratory_rate": 14,
                    },
                )
                began = time.perf_counter()
                code = simulator.ack_code(client.send_message(message))
                took = time.perf_counter() - began
                with lock:
                    latencies.append(took)
                    codes[code] = codes.get(code, 0) + 1

    threads = [
        threading.Thread(target=monitor, args=(i, mrn, device))
        for i, (_, mrn, device) in enumerate(chairs)
    ]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    latencies.sort()
    n = len(latencies)
    return {
        "messages": n,
        "per_second": n / wall,
        "p50_ms": 1000 * statistics.median(latencies) if n else float("nan"),
        "p95_ms": 1000 * latencies[int(0.95 * (n - 1))] if n else float("nan"),
        "max_ms": 1000 * latencies[-1] if n else float("nan"),
        "codes": codes,
        "wall_s": wall,
    }


def _raw(factory: sessionmaker[Session], session_id: int, rows: int) -> float:
    """Seconds to insert ``rows`` vital_signs rows with one executemany, one commit."""
    took, CPU["raw"] = raw_readings(factory, session_id, rows)
    return took


def _raw_same(
    factory: sessionmaker[Session],
    chairs: list[tuple[int, str, str]],
    per_chair: int,
    tag: str,
    per_group: bool = False,
) -> float:
    """Seconds to insert every row the in-process ingest of the same messages writes,
    with one executemany a table and one commit: the readings, the messages' control
    ids, and one audit row per session and group (plain rows, no MAC or checks).
    ``per_group``: the same rows a group of ``MAX_GROUP`` messages at a time, one
    executemany a table and one commit a group, as the ingest must commit a group
    before it acknowledges it."""
    from ketaclinic.interop.hl7.listener import MAX_GROUP
    from ketaclinic.interop.models import Hl7Message
    from ketaclinic.platform.audit.models import AuditEvent

    now = utcnow()
    n = per_chair * len(chairs)
    readings, messages = [], []
    for k in range(per_chair):
        for index, (session_id, _, device) in enumerate(chairs):
            readings.append(
                {
                    "session_id": session_id,
                    "taken_at": now - timedelta(seconds=per_chair - k),
                    "heart_rate": 70 + k % 5,
                    "systolic_bp": 124 + k % 7,
                    "diastolic_bp": 78,
                    "spo2": 97,
                    "respiratory_rate": 14,
                    "source": "device",
                    "recorded_at": now,
                }
            )
            messages.append(
                {
                    "sender": f"{device}^raw",
                    "control_id": f"{tag}-raw-{index}-{k}",
                    "device_id": device,
                    "session_id": session_id,
                    "readings": 1,
                    "received_at": now,
                }
            )
    groups = -(-n // MAX_GROUP)
    with factory() as db:
        # Real, keyed audit rows (the trail stays verifiable), made before the clock starts.
        key = chain.audit_key(db)
        ids = new_ids(db, AuditEvent, groups * len(chairs))
        events = []
        for event_id in ids:
            event = AuditEvent(
                id=event_id,
                at=now,
                actor=SETUP.username,
                action="session.vitals.record",
                object_type="vital_sign",
                detail="raw insert",
                sensitive=True,
            )
            event.mac, event.mac_version = chain.row_mac(key, event), chain.MAC_VERSION
            events.append({c.key: getattr(event, c.key) for c in AuditEvent.__table__.columns})
        began, cpu = time.perf_counter(), time.process_time()
        if not per_group:
            db.execute(insert(VitalSign), readings)
            db.execute(insert(Hl7Message), messages)
            db.execute(insert(AuditEvent), events)
            db.commit()
            CPU["same"] = time.process_time() - cpu
            return time.perf_counter() - began
        per = len(chairs)
        for n, start in enumerate(range(0, len(readings), MAX_GROUP)):
            db.execute(insert(VitalSign), readings[start : start + MAX_GROUP])
            db.execute(insert(Hl7Message), messages[start : start + MAX_GROUP])
            db.execute(insert(AuditEvent), events[n * per : (n + 1) * per])
            db.commit()
        CPU["same_groups"] = time.process_time() - cpu
        return time.perf_counter() - began


def _raw_each(factory: sessionmaker[Session], session_id: int, rows: int) -> float:
    """Seconds to insert ``rows`` rows one transaction each (what an ACK after commit
    costs at the least, without parsing, matching, alarms or audit)."""
    values = raw_rows(session_id, rows)
    with factory() as db:
        began = time.perf_counter()
        for row in values:
            db.execute(insert(VitalSign), [row])
            db.commit()
        return time.perf_counter() - began


def _floor(raws: list[str]) -> float:
    """Processor seconds of the least Python work any ingest of these messages must do
    without a database: each split into its segments and fields, and its ACK formatted
    (by ketaclinic's own message splitter and ACK builder)."""
    from ketaclinic.interop.hl7 import pcd01

    cpu = time.process_time()
    for n, raw in enumerate(raws):
        pcd01.ack(pcd01.Message(raw), "AA", control=f"{n:020d}")
    return time.process_time() - cpu


def _in_process(
    listener: Any, chairs: list[tuple[int, str, str]], per_chair: int, tag: str, profile: bool
) -> tuple[int, float, float]:
    """Seconds to ingest ``per_chair`` messages from every chair by the listener's own
    group path (decode, match, chart, alarms, audit, commit; no sockets), in groups of
    ``MAX_GROUP`` messages that arrived together, interleaved as monitors send them; and
    the statements a group cost (an ``executemany`` counts one)."""
    from ketaclinic.interop.hl7.listener import MAX_GROUP, _Waiting
    from ketaclinic.interop.hl7.messages import oru_r01

    base = utcnow() - timedelta(seconds=per_chair)
    raws = [
        oru_r01(
            control_id=f"{tag}-i-{index}-{k}",
            mrn=mrn,
            device_id=device,
            at=base + timedelta(seconds=k),
            values={
                "systolic_bp": 124 + k % 7,
                "diastolic_bp": 78,
                "heart_rate": 70 + k % 5,
                "spo2": 97,
                "respiratory_rate": 14,
            },
        )
        for k in range(per_chair)
        for index, (_, mrn, device) in enumerate(chairs)
    ]
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    engine = listener.factory.kw["bind"]
    statements = [0]

    def count(*_args: Any) -> None:
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    began, cpu = time.perf_counter(), time.process_time()
    codes: dict[str, int] = {}
    for start in range(0, len(raws), MAX_GROUP):
        group = [_Waiting(raw, None, None) for raw in raws[start : start + MAX_GROUP]]
        for answer in listener.handle_group(group):
            codes[answer.code] = codes.get(answer.code, 0) + 1
    took = time.perf_counter() - began
    CPU["ingest"] = time.process_time() - cpu
    event.remove(engine, "before_cursor_execute", count)
    if profiler is not None:
        import pstats

        profiler.disable()
        if os.environ.get("HL7_PROFILE_OUT"):
            profiler.dump_stats(os.environ["HL7_PROFILE_OUT"])
        order = os.environ.get("HL7_PROFILE_SORT", "cumulative")
        shown = int(os.environ.get("HL7_PROFILE_N", "30"))
        pstats.Stats(profiler).sort_stats(order).print_stats(shown)
    assert codes == {"AA": len(raws)}, codes
    CPU["floor"] = _floor(raws)
    return len(raws), took, statements[0] / -(-len(raws) // MAX_GROUP)


def _load() -> str:
    """The 1-minute load average beside a figure (the machine may be shared)."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:  # pragma: no cover - no load average on this platform
        return "n/a"


def run(
    url: str,
    label: str,
    chairs: int,
    seconds: float,
    data_dir: Path,
    per_chair: int = 100,
    profile: bool = False,
    repeats: int = 1,
    in_process_only: bool = False,
) -> None:
    from ketaclinic.interop.hl7.listener import MAX_GROUP, running

    load_all()
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    # The trail this run writes is keyed and checkpointed by the database's own data
    # folder, as the app's is (``platform/app.py``), not by the process-wide settings.
    data_dir.mkdir(parents=True, exist_ok=True)
    conf = Settings(mode="development", data_dir=data_dir, database_url=url)
    factory.configure(info=chain.session_info(conf))
    tag = f"{int(time.time()) % 100000}"
    found = _chairs(factory, chairs, tag)
    print(f"\n{label}: {chairs} monitors, {seconds:g} s per run")
    with running(factory, zone=ZONE) as (listener, port):
        # In process first: its readings are dated the last seconds, before the MLLP runs'.
        # Each repeat on sessions of its own (readings after none already charted), each
        # ingest beside the raw inserts of the same rows, so that the ratios compare
        # figures taken under the same load.
        ratios, same_ratios, cpu_ratios, floor_ratios, floor_same = [], [], [], [], []
        alone_ratios: list[float] = []
        group_ratios: list[float] = []
        for repeat in range(repeats):
            chairs_now = found if repeat == 0 else _chairs(factory, chairs, f"{tag}r{repeat}")
            n, ingest, per_group = _in_process(
                listener, chairs_now, per_chair, f"{tag}r{repeat}", profile
            )
            raw = _raw(factory, chairs_now[0][0], n)
            same = _raw_same(factory, chairs_now, per_chair, f"{tag}r{repeat}")
            grouped = _raw_same(factory, chairs_now, per_chair, f"{tag}g{repeat}", per_group=True)
            group_ratios.append(ingest / grouped)
            alone = chart_alone(factory, _chairs(factory, chairs, f"{tag}v{repeat}"), per_chair)
            alone_raw = _raw(factory, chairs_now[0][0], n)
            alone_ratios.append(alone / alone_raw)
            ratios.append(ingest / raw)
            same_ratios.append(ingest / same)
            cpu_ratios.append(CPU["ingest"] / max(CPU["same"], 1e-9))
            floor_ratios.append(CPU["floor"] / max(CPU["raw"], 1e-9))
            floor_same.append(CPU["floor"] / max(CPU["same"], 1e-9))
            print(
                f"  in process : {n} messages (one reading each) in groups of up to 200: "
                f"{ingest * 1000:.0f} ms ({n / ingest:,.0f} msg/s, {ingest / n * 1e6:.0f} us "
                f"a message, {per_group:.0f} statements a group); raw executemany of the "
                f"{n} readings {raw * 1000:.1f} ms: {ingest / raw:.1f}x; of every row it "
                f"writes (readings, control ids, audit) {same * 1000:.1f} ms: "
                f"{ingest / same:.1f}x; processor time {CPU['ingest'] * 1000:.0f} ms "
                f"against {CPU['same'] * 1000:.1f} ms: {cpu_ratios[-1]:.1f}x; load {_load()}"
            )
            print(
                f"  committed  : every row it writes, a group of {MAX_GROUP} at a time with a "
                f"commit each (as a group is committed before its ACKs) {grouped * 1000:.1f} ms: "
                f"{group_ratios[-1]:.1f}x"
            )
            print(
                f"  vitals     : the same {n} readings charted by the vitals service alone "
                f"(no decoding, control ids or ACKs), a group of {MAX_GROUP} a commit: "
                f"{alone * 1000:.0f} ms; raw executemany of them {alone_raw * 1000:.1f} ms: "
                f"{alone_ratios[-1]:.1f}x"
            )
            print(
                f"  floor      : splitting the {n} messages and formatting their ACKs, no "
                f"database, {CPU['floor'] * 1000:.1f} ms of processor time: "
                f"{floor_ratios[-1]:.2f}x the raw readings insert's "
                f"({CPU['raw'] * 1000:.1f} ms), {floor_same[-1]:.2f}x every row's"
            )
        if repeats > 1:
            print(
                f"  in process, median of {repeats}: {statistics.median(ratios):.1f}x the raw "
                f"readings insert, {statistics.median(same_ratios):.1f}x the raw insert of "
                f"every row it writes, {statistics.median(group_ratios):.1f}x of them "
                f"committed a group at a time; in processor time "
                f"{statistics.median(cpu_ratios):.1f}x; "
                f"floor {statistics.median(floor_ratios):.2f}x the raw readings insert, "
                f"{statistics.median(floor_same):.2f}x every row's (processor time)"
            )
            print(
                f"  vitals alone, median of {repeats}: {statistics.median(alone_ratios):.1f}x "
                "the raw readings insert"
            )
        if in_process_only:
            engine.dispose()
            return
        for paced in (True, False):
            groups = listener.groups
            # The monitors run in a process of their own: their threads would otherwise
            # share this process's interpreter lock with the listener they measure.
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
                r = pool.submit(_drive, port, found, seconds, paced, tag).result()
            groups = max(1, listener.groups - groups)
            print(
                f"  {'paced 1/s ' if paced else 'flat out  '}: {r['messages']:6d} messages, "
                f"{r['per_second']:7.1f} acked/s, p50 {r['p50_ms']:6.1f} ms, "
                f"p95 {r['p95_ms']:6.1f} ms, max {r['max_ms']:7.1f} ms, codes {r['codes']}, "
                f"{r['messages'] / groups:.1f} messages a commit; load {_load()}"
            )
            if not paced:
                per_message = r["wall_s"] / max(1, r["messages"])
                raw = _raw(factory, found[0][0], r["messages"])
                each = _raw_each(factory, found[0][0], r["messages"])
                print(
                    f"  raw executemany: {r['messages']} rows in {raw * 1000:.1f} ms "
                    f"({r['messages'] / raw:,.0f} rows/s); ingest costs "
                    f"{per_message / (raw / r['messages']):.0f}x the raw insert per reading"
                )
                print(
                    f"  raw insert, one commit a row: {r['messages'] / each:,.0f} rows/s; "
                    f"ingest costs {per_message / (each / r['messages']):.1f}x that"
                )
    engine.dispose()


def main() -> None:
    # This file is named like the python-hl7 package it drives: run as a script, its own
    # directory comes first on the path and would shadow the package.
    python_hl7_first()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chairs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL database URL")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--per-chair", type=int, default=100, help="messages a chair in the in-process run"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process run")
    parser.add_argument("--repeat", type=int, default=1, help="in-process runs (median shown)")
    parser.add_argument(
        "--in-process-only", action="store_true", help="skip the MLLP runs over loopback"
    )
    parser.add_argument(
        "--sqlite-dir",
        type=Path,
        default=None,
        help="keep the SQLite clinic (bench.db and its data folder) in this empty folder "
        "instead of a temporary one, e.g. to run `ketaclinic audit verify` on it",
    )
    args = parser.parse_args()
    options = {
        "per_chair": args.per_chair,
        "profile": args.profile,
        "repeats": args.repeat,
        "in_process_only": args.in_process_only,
    }
    if not args.no_sqlite:
        with contextlib.ExitStack() as stack:
            if args.sqlite_dir is None:
                folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            else:
                folder = args.sqlite_dir.resolve()
                if folder.exists() and any(folder.iterdir()):
                    sys.exit(f"--sqlite-dir {folder} is not empty")
                folder.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{folder / 'bench.db'}"
            run(url, "SQLite", args.chairs, args.seconds, folder / "data", **options)
            if args.sqlite_dir is not None:
                print(
                    f"  kept: KETACLINIC_DATABASE_URL={url} KETACLINIC_DATA_DIR={folder / 'data'}"
                )
    if args.postgres:
        database = make_url(args.postgres).database or "postgres"
        run(
            args.postgres,
            "PostgreSQL",
            args.chairs,
            args.seconds,
            POSTGRES_DATA / database,
            **options,
        )


if __name__ == "__main__":
    main()
