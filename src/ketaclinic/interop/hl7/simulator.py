"""Simulated bedside monitors: PCD-01 messages over MLLP with python-hl7's client, for
a clinic trying the interface without a monitor (``ketaclinic hl7 simulate``)."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import hl7
from hl7.client import MLLPClient

from ketaclinic.interop.hl7.messages import oru_r01
from ketaclinic.platform.db import utcnow


@dataclass
class Monitor:
    """One chair's monitor: a slow random walk around an ordinary resting reading."""

    device_id: str
    mrn: str
    rng: random.Random
    sent: int = 0
    values: dict[str, float] = field(
        default_factory=lambda: {
            "systolic_bp": 128.0,
            "diastolic_bp": 80.0,
            "heart_rate": 76.0,
            "spo2": 97.0,
            "respiratory_rate": 14.0,
        }
    )

    def next_message(self, *, surge: bool = False) -> str:
        bounds = {
            "systolic_bp": (100, 170),
            "diastolic_bp": (60, 100),
            "heart_rate": (55, 110),
            "spo2": (93, 100),
            "respiratory_rate": (10, 20),
        }
        for name, (low, high) in bounds.items():
            self.values[name] = min(high, max(low, self.values[name] + self.rng.uniform(-2, 2)))
        shown = {k: int(round(v)) for k, v in self.values.items()}
        if surge:
            shown["systolic_bp"], shown["diastolic_bp"] = 205, 115
        if shown["diastolic_bp"] >= shown["systolic_bp"]:
            shown["diastolic_bp"] = shown["systolic_bp"] - 30
        self.sent += 1
        return oru_r01(
            control_id=f"{self.device_id[-6:]}-{int(time.time() * 1000)}-{self.sent}",
            mrn=self.mrn,
            device_id=self.device_id,
            at=utcnow(),
            values=shown,
        )


def ack_code(framed: bytes) -> str:
    message = hl7.parse(framed.decode("utf-8").strip("\x0b\x1c\r"))
    return str(message.segment("MSA")(1))


def run(
    monitors: list[Monitor],
    *,
    host: str,
    port: int,
    every: float,
    count: int,
    surge_at: int | None = None,
) -> dict[str, int]:
    """Send ``count`` rounds, one message per monitor a round, ``every`` seconds apart;
    the acknowledgement codes counted."""
    codes: dict[str, int] = {}
    clients = [MLLPClient(host, port) for _ in monitors]
    try:
        for round_no in range(count):
            for monitor, client in zip(monitors, clients, strict=True):
                message = monitor.next_message(surge=surge_at is not None and round_no == surge_at)
                code = ack_code(client.send_message(message))
                codes[code] = codes.get(code, 0) + 1
            if round_no + 1 < count:
                time.sleep(every)
    finally:
        for client in clients:
            client.close()
    return codes
