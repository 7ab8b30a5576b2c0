"""How long decoding one PCD-01 message takes: ``pcd01.header`` + ``pcd01.decode``.

Run (a few seconds; prints figures, never fails):

    .venv/bin/python benchmarks/pcd01.py --messages 2000

Decodes the messages of the simulator's monitors (``ketaclinic hl7 simulate``: BP,
pulse, SpO2 and breathing rate, five OBX a message) and messages with all seven vital
signs (seven OBX), each set over and over, the best of ``--repeats`` rounds. Printed:
microseconds a message for ``header`` alone, for ``header`` + ``decode`` (what the
listener does with every message), and for python-hl7's own ``hl7.parse`` of the same
messages as the reference in the same run, with the ratio of ours to it. To compare
with another version of the decoder, run this script with that version's ``src`` first
on ``PYTHONPATH`` (``PYTHONPATH=/path/to/other/src .venv/bin/python benchmarks/pcd01.py``):
the ``hl7.parse`` line says how the machine ran each time.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

# Run as a script, this directory comes first on the path, and its hl7.py (the ingest
# benchmark) would shadow the python-hl7 package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import hl7  # noqa: E402

from ketaclinic.interop.hl7 import pcd01  # noqa: E402
from ketaclinic.interop.hl7.messages import oru_r01  # noqa: E402
from ketaclinic.interop.hl7.simulator import Monitor  # noqa: E402

ZONE = ZoneInfo("America/New_York")


def simulated(count: int) -> list[str]:
    """``count`` messages from 20 simulated chairs, round after round."""
    monitors = [Monitor(f"0012A3FFFE4B{n:04X}", f"KC{n:06d}", random.Random(n)) for n in range(20)]
    return [monitors[n % 20].next_message(surge=n % 97 == 0) for n in range(count)]


def all_vitals(count: int) -> list[str]:
    start = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    rng = random.Random(7)
    return [
        oru_r01(
            control_id=f"V{n}",
            mrn=f"KC{n % 20:06d}",
            device_id=f"0012A3FFFE4C{n % 20:04X}",
            at=start + timedelta(seconds=5 * n),
            values={
                "systolic_bp": rng.randint(100, 170),
                "diastolic_bp": rng.randint(60, 95),
                "mean_bp": rng.randint(75, 115),
                "heart_rate": rng.randint(55, 110),
                "spo2": rng.randint(93, 100),
                "respiratory_rate": rng.randint(10, 20),
                "temperature": round(rng.uniform(36.0, 37.5), 1),
            },
        )
        for n in range(count)
    ]


def best_us(run: Callable[[str], object], messages: list[str], repeats: int) -> float:
    """The best round's microseconds a message."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for raw in messages:
            run(raw)
        best = min(best, time.perf_counter() - started)
    return best / len(messages) * 1e6


def ingest(raw: str) -> object:
    return pcd01.decode(pcd01.header(raw), zone=ZONE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    figures: dict[str, dict[str, float]] = {}
    print(f"decoder: {pcd01.__file__}")
    for name, messages in (
        ("simulator (5 OBX)", simulated(args.messages)),
        ("all seven vital signs (7 OBX)", all_vitals(args.messages)),
    ):
        for raw in messages:
            assert ingest(raw).observations  # every message charts: decoded, not refused
        header = best_us(pcd01.header, messages, args.repeats)
        decoded = best_us(ingest, messages, args.repeats)
        reference = best_us(hl7.parse, messages, args.repeats)
        figures[name] = {"header_us": header, "decode_us": decoded, "hl7_parse_us": reference}
        print(
            f"{name:30} header {header:6.2f} us   header+decode {decoded:6.2f} us   "
            f"hl7.parse {reference:6.2f} us   ours/hl7.parse {decoded / reference:5.3f}"
        )
    print(json.dumps({"messages": args.messages, "repeats": args.repeats, "figures": figures}))


if __name__ == "__main__":
    main()
