"""The infusion pump's story told by its charted events: pure arithmetic, no clock.

Times are minutes from any origin (the service uses the first start). The pump runs the
bag (``total_volume_ml``, holding ``dose_mg``) at the charted rate while running; a pause
stops it, a resume restarts it at the rate it had, a rate change sets a new rate, a stop
ends it. When the bag is empty the infusion is complete even before a stop is charted.
Milligrams delivered are mL infused times the bag's concentration (dose / total volume):
the order's pump rate runs the bag total (``clinical.dosing`` infusion volume rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["start", "pause", "resume", "rate_change", "stop"]
State = Literal["not_started", "running", "paused", "stopped", "complete"]

# Which act may follow which state, and the words used when it may not.
ALLOWED: dict[State, tuple[Kind, ...]] = {
    "not_started": ("start",),
    "running": ("pause", "rate_change", "stop"),
    "paused": ("resume", "rate_change", "stop"),
    "complete": ("stop",),
    "stopped": (),
}


@dataclass(frozen=True)
class PumpEvent:
    kind: Kind
    at_min: float
    rate_ml_per_h: float | None = None


@dataclass(frozen=True)
class Running:
    """A stretch at constant rate (the form the pharmacokinetic model takes)."""

    start_min: float
    end_min: float
    rate_ml_per_h: float

    @property
    def volume_ml(self) -> float:
        return self.rate_ml_per_h * (self.end_min - self.start_min) / 60.0


@dataclass(frozen=True)
class PumpStatus:
    state: State
    rate_ml_per_h: float | None
    elapsed_min: float  # since the start, pauses included
    running_min: float
    paused_min: float
    volume_ml: float
    volume_left_ml: float
    mg: float
    ended_at_min: float | None  # stop charted, or the bag ran empty
    finishes_at_min: float | None  # while running: when the bag will be empty
    segments: tuple[Running, ...] = field(default_factory=tuple)


def bag_concentration(dose_mg: float, total_volume_ml: float) -> float:
    if dose_mg <= 0 or total_volume_ml <= 0:
        raise ValueError("the bag needs a positive dose and volume")
    return dose_mg / total_volume_ml


def check_next(state: State, kind: Kind) -> str | None:
    """Why ``kind`` cannot follow ``state``, or None when it can."""
    if kind in ALLOWED[state]:
        return None
    words = {
        "not_started": "the infusion has not started",
        "running": "the infusion is running",
        "paused": "the infusion is paused",
        "stopped": "the infusion has been stopped",
        "complete": "the bag is empty (chart the stop)",
    }
    return f"cannot {kind.replace('_', ' ')}: {words[state]}"


def replay(
    events: Sequence[PumpEvent],
    *,
    now_min: float,
    initial_rate_ml_per_h: float,
    total_volume_ml: float,
    dose_mg: float,
) -> PumpStatus:
    """Replay time-ordered events up to ``now_min``. Invalid sequences are a ValueError."""
    mg_per_ml = bag_concentration(dose_mg, total_volume_ml)
    state: State = "not_started"
    rate: float | None = None
    start: float | None = None
    run_from: float | None = None
    volume = 0.0
    ended: float | None = None
    segments: list[Running] = []

    def run_until(t: float) -> None:
        nonlocal volume, state, ended, run_from
        assert run_from is not None and rate is not None
        if t <= run_from:
            return
        left = total_volume_ml - volume
        empty_at = run_from + left / rate * 60.0 if rate > 0 else float("inf")
        end = min(t, empty_at)
        if end > run_from:
            segments.append(Running(run_from, end, rate))
            volume = min(total_volume_ml, volume + rate * (end - run_from) / 60.0)
        if empty_at <= t:
            state, ended = "complete", empty_at
        run_from = end

    previous = float("-inf")
    for event in events:
        if event.at_min < previous:
            raise ValueError("events must be in time order")
        previous = event.at_min
        if state == "running":
            run_until(event.at_min)
        problem = check_next(state, event.kind)
        if problem:
            raise ValueError(problem)
        if event.kind == "start":
            start, run_from, state = event.at_min, event.at_min, "running"
            rate = event.rate_ml_per_h or initial_rate_ml_per_h
        elif event.kind == "pause":
            state = "paused"
        elif event.kind == "resume":
            state, run_from = "running", event.at_min
        elif event.kind == "rate_change":
            if event.rate_ml_per_h is None or event.rate_ml_per_h <= 0:
                raise ValueError("a rate change needs a rate above 0 mL/h")
            rate = event.rate_ml_per_h
            if state == "running":
                run_from = event.at_min
        elif event.kind == "stop":
            ended = ended if state == "complete" else event.at_min
            state = "stopped"
    finishes: float | None = None
    if state == "running":
        run_until(max(now_min, run_from or now_min))
        if state == "running" and rate:
            finishes = now_min + (total_volume_ml - volume) / rate * 60.0
    if start is None:
        elapsed = running = 0.0
    else:
        until = ended if ended is not None else now_min
        elapsed = max(0.0, until - start)
        running = sum(s.end_min - s.start_min for s in segments)
    return PumpStatus(
        state=state,
        rate_ml_per_h=rate,
        elapsed_min=elapsed,
        running_min=running,
        paused_min=max(0.0, elapsed - running),
        volume_ml=volume,
        volume_left_ml=max(0.0, total_volume_ml - volume),
        mg=volume * mg_per_ml,
        ended_at_min=ended,
        finishes_at_min=finishes,
        segments=tuple(segments),
    )


def projected_segments(status: PumpStatus, *, now_min: float) -> tuple[Running, ...]:
    """The charted stretches plus, while running, the rest of the bag at the current rate
    (what the prediction assumes). Paused or stopped: only what was given."""
    if status.state != "running" or status.rate_ml_per_h is None or status.finishes_at_min is None:
        return status.segments
    rest = Running(now_min, status.finishes_at_min, status.rate_ml_per_h)
    return (*status.segments, rest) if rest.end_min > rest.start_min else status.segments
