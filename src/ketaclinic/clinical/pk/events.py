"""Dosing events as a clinic charts them, and their reduction to piecewise-constant inputs.

Times are minutes from any origin the caller chooses (usually the start of the session).
An infusion delivers its amount at its rate while running; a ``Pause`` stops every
infusion running in its window and the infusion resumes afterwards, so a pump paused
from minute 17 to 22 still delivers its whole programmed amount, five minutes later.
A ``RateChange`` sets the rate of the infusion running at that moment; its remaining
amount then runs at the new rate (rate 0 stops it for good).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ketaclinic.clinical.pk.structure import System

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Bolus:
    """An intravenous push, complete at ``at_min``."""

    at_min: float
    dose_mg: float

    def __post_init__(self) -> None:
        _check_finite(self.at_min, "bolus time")
        _check_positive(self.dose_mg, "bolus dose")


@dataclass(frozen=True)
class Dose:
    """A dose by an absorption route: intranasal, oral, sublingual or im (or iv = bolus).

    ``device_number`` (intranasal only): this dose is one nasal device, the n-th of the
    session's dose (1 for the first). The esketamine model absorbs later devices less
    through the nose; build these with :func:`nasal_device_doses`. Without it an
    intranasal dose is a whole dose given at once.
    """

    at_min: float
    dose_mg: float
    route: str
    device_number: int | None = None

    def __post_init__(self) -> None:
        _check_finite(self.at_min, "dose time")
        _check_positive(self.dose_mg, "dose")
        if self.device_number is not None:
            if self.route != "intranasal":
                raise ValueError("device_number applies to intranasal doses only")
            if isinstance(self.device_number, bool) or self.device_number < 1:
                raise ValueError("device_number counts from 1")


def nasal_device_doses(device_times_min: Iterable[float], *, mg_per_device: float) -> list[Dose]:
    """The dose events of one session's nasal devices, charted (or planned) at these times.

    Devices are numbered in time order, so that the model applies the reduced nasal
    bioavailability of the second and later devices of the dose exactly as it does for
    a whole dose given at once (``Dose(t, n x mg_per_device, "intranasal")``, as
    ``ketaclinic simulate`` passes it): the amounts absorbed are the same, only spread
    over the charted times. ``mg_per_device`` comes from the protocol row
    (``dosing.device_mg(protocol)``).
    """
    _check_positive(mg_per_device, "mg per device")
    times = sorted(float(t) for t in device_times_min)
    return [
        Dose(at_min=t, dose_mg=mg_per_device, route="intranasal", device_number=n)
        for n, t in enumerate(times, start=1)
    ]


@dataclass(frozen=True)
class Infusion:
    """A zero-order IV infusion: give two of rate, amount and duration."""

    start_min: float
    duration_min: float | None = None
    rate_mg_per_min: float | None = None
    amount_mg: float | None = None

    def __post_init__(self) -> None:
        _check_finite(self.start_min, "infusion start")
        given = [x is not None for x in (self.duration_min, self.rate_mg_per_min, self.amount_mg)]
        if sum(given) != 2:
            raise ValueError("an infusion needs exactly two of duration, rate and amount")
        for value, what in (
            (self.duration_min, "infusion duration"),
            (self.rate_mg_per_min, "infusion rate"),
            (self.amount_mg, "infusion amount"),
        ):
            if value is not None:
                _check_positive(value, what)

    @property
    def rate(self) -> float:
        if self.rate_mg_per_min is not None:
            return self.rate_mg_per_min
        assert self.amount_mg is not None and self.duration_min is not None
        return self.amount_mg / self.duration_min

    @property
    def amount(self) -> float:
        if self.amount_mg is not None:
            return self.amount_mg
        assert self.duration_min is not None
        return self.rate * self.duration_min


@dataclass(frozen=True)
class Pause:
    at_min: float
    until_min: float

    def __post_init__(self) -> None:
        _check_finite(self.at_min, "pause start")
        _check_finite(self.until_min, "pause end")
        if self.until_min <= self.at_min:
            raise ValueError("a pause must end after it starts")


@dataclass(frozen=True)
class RateChange:
    at_min: float
    rate_mg_per_min: float

    def __post_init__(self) -> None:
        _check_finite(self.at_min, "rate change time")
        if not math.isfinite(self.rate_mg_per_min) or self.rate_mg_per_min < 0:
            raise ValueError("a rate must be a finite number >= 0")


Event = Bolus | Dose | Infusion | Pause | RateChange


@dataclass(frozen=True)
class Segment:
    """Constant-rate IV delivery, the form a pump schedule takes."""

    start_min: float
    end_min: float
    rate_mg_per_min: float


@dataclass(frozen=True)
class Impulse:
    at_min: float
    state: int
    amount_mg: Array


@dataclass(frozen=True)
class RateInput:
    start_min: float
    end_min: float
    state: int
    rate_mg_per_min: Array


@dataclass(frozen=True)
class Inputs:
    impulses: tuple[Impulse, ...]
    rates: tuple[RateInput, ...]
    given: tuple[tuple[float, float, float], ...]
    """(start, end, mg) of every administration, end == start for instant ones."""

    def breakpoints(self) -> list[float]:
        pts = {i.at_min for i in self.impulses}
        for r in self.rates:
            pts.update((r.start_min, r.end_min))
        return sorted(pts)

    def given_mg(self, t: Array) -> Array:
        """Cumulative amount administered (before bioavailability) at each time."""
        out = np.zeros_like(t, dtype=float)
        for start, end, mg in self.given:
            if end <= start:
                out += np.where(t >= start, mg, 0.0)
            else:
                out += mg * np.clip((t - start) / (end - start), 0.0, 1.0)
        return out

    def delivered_mg(self, t: Array) -> Array:
        """Cumulative amount entering the system's states, per patient: (n, T)."""
        parts: list[Array] = []
        for imp in self.impulses:
            parts.append(imp.amount_mg[:, None] * (t[None, :] >= imp.at_min))
        for r in self.rates:
            span = np.clip(t, r.start_min, r.end_min) - r.start_min
            parts.append(r.rate_mg_per_min[:, None] * span[None, :])
        if not parts:
            return np.zeros((1, t.shape[0]))
        return np.asarray(sum(parts))


def infusion_segments(events: Iterable[Event]) -> list[Segment]:
    """The constant-rate pieces every infusion runs in, after pauses and rate changes."""
    events = list(events)
    controls = sorted(
        (e for e in events if isinstance(e, Pause | RateChange)), key=lambda e: e.at_min
    )
    segments: list[Segment] = []
    for inf in (e for e in events if isinstance(e, Infusion)):
        t, remaining, rate = inf.start_min, inf.amount, inf.rate
        pending = [c for c in controls if c.at_min >= inf.start_min]
        while remaining > 1e-12 * inf.amount and rate > 0:
            finish = t + remaining / rate
            nxt = pending.pop(0) if pending else None
            if nxt is None or nxt.at_min >= finish:
                segments.append(Segment(t, finish, rate))
                break
            if nxt.at_min < t:
                # A control that falls inside a pause already taken is moot.
                continue
            if nxt.at_min > t:
                segments.append(Segment(t, nxt.at_min, rate))
                remaining -= rate * (nxt.at_min - t)
            t = nxt.at_min
            if isinstance(nxt, Pause):
                t = nxt.until_min
            else:
                rate = nxt.rate_mg_per_min
    return segments


def compile_inputs(system: System, events: Sequence[Event]) -> Inputs:
    impulses: list[Impulse] = []
    rates: list[RateInput] = []
    given: list[tuple[float, float, float]] = []
    for e in events:
        if isinstance(e, Bolus | Dose):
            route = e.route if isinstance(e, Dose) else "iv"
            given.append((e.at_min, e.at_min, e.dose_mg))
            number = e.device_number if isinstance(e, Dose) else None
            for path in system.paths(route, e.dose_mg, number):
                amount = path.fraction * e.dose_mg
                if path.duration_min <= 0:
                    impulses.append(Impulse(e.at_min, path.state, amount))
                else:
                    end = e.at_min + path.duration_min
                    rate = amount / path.duration_min
                    rates.append(RateInput(e.at_min, end, path.state, rate))
    for seg in infusion_segments(events):
        mg = seg.rate_mg_per_min * (seg.end_min - seg.start_min)
        given.append((seg.start_min, seg.end_min, mg))
        rate = np.full(system.n, seg.rate_mg_per_min)
        rates.append(RateInput(seg.start_min, seg.end_min, system.central, rate))
    return Inputs(tuple(impulses), tuple(rates), tuple(given))


def _check_finite(x: float, what: str) -> None:
    if not math.isfinite(x):
        raise ValueError(f"{what} must be a finite number")


def _check_positive(x: float, what: str) -> None:
    if not math.isfinite(x) or x <= 0:
        raise ValueError(f"{what} must be a positive number, not {x}")
