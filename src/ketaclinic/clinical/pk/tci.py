"""Target-controlled infusion: the pump schedule that brings a concentration to a target.

Plasma targeting follows STANPUMP: at the start of every pump step, choose the one rate
that makes the predicted plasma concentration at the end of the step equal the target
(by linearity: free decay plus rate times the unit-rate response), clipped to [0, max].
Effect-site targeting follows Shafer and Gregg (J Pharmacokinet Biopharm 1992;20:147):
choose the rate for this step such that the highest effect-site concentration that
would follow if the pump then stopped equals the target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from ketaclinic.clinical.pk.events import Infusion
from ketaclinic.clinical.pk.models import ModelInfo
from ketaclinic.clinical.pk.patient import Covariates, Patient
from ketaclinic.clinical.pk.simulation import Result, resolve, simulate
from ketaclinic.clinical.pk.solver import _Modal, relevant_states
from ketaclinic.clinical.pk.structure import build

Array = NDArray[np.float64]
Targets = float | Sequence[tuple[float, float]]
_HORIZON_MIN = 30.0
_HORIZON_STEP_MIN = 1.0 / 30.0


@dataclass(frozen=True)
class TciResult:
    model: ModelInfo
    target: Literal["plasma", "effect"]
    step_s: float
    max_rate_mg_per_h: float
    step_start_min: Array
    rate_mg_per_h: Array
    target_ng_ml: Array
    predicted: Result

    @property
    def total_mg(self) -> float:
        return float(np.sum(self.rate_mg_per_h) * self.step_s / 3600.0)


def target_at(targets: Targets, t: Array) -> Array:
    """Targets as a step function of time: a constant, or (from minute, ng/mL) pairs."""
    if isinstance(targets, int | float):
        return np.full(t.shape, float(targets))
    pairs = sorted((float(a), float(b)) for a, b in targets)
    if not pairs:
        raise ValueError("give at least one target")
    if any(c < 0 or not np.isfinite(c) for _, c in pairs):
        raise ValueError("targets must be finite concentrations >= 0")
    starts = np.array([a for a, _ in pairs])
    values = np.array([b for _, b in pairs])
    i = np.searchsorted(starts, t, side="right") - 1
    return np.where(i >= 0, values[np.maximum(i, 0)], 0.0)


def tci(
    model: str | ModelInfo,
    patient: Patient,
    targets: Targets,
    *,
    max_rate_mg_per_h: float,
    until_min: float,
    step_s: float = 10.0,
    target: Literal["plasma", "effect"] = "plasma",
) -> TciResult:
    info = resolve(model)
    if not np.isfinite(max_rate_mg_per_h) or max_rate_mg_per_h <= 0:
        raise ValueError("the pump's maximum rate must be a positive number")
    if not np.isfinite(until_min) or until_min <= 0:
        raise ValueError("until must be a positive number of minutes")
    if not np.isfinite(step_s) or step_s <= 0:
        raise ValueError("the pump step must be a positive number of seconds")
    system = build(info, Covariates.of(patient))
    if target == "effect" and system.effect is None:
        raise ValueError(f"model {info.id!r} has no effect site (no published ke0)")
    if target not in ("plasma", "effect"):
        raise ValueError("target must be 'plasma' or 'effect'")
    watched = system.effect if target == "effect" else system.central
    assert watched is not None
    keep = relevant_states(system.a, {system.central}, [watched])
    sub = system.a[:, keep][:, :, keep]
    modal = _Modal(sub, [keep.index(watched)])
    scale = 1000.0 if target == "effect" else 1000.0 / float(system.v_central_l[0])
    w = modal.obs[0][:, 0] * scale
    unit = modal.vector(keep.index(system.central), np.ones(1))[:, 0]
    h = step_s / 60.0
    r, phi = (x[:, 0] for x in modal.factors(h))
    lam = modal.lam[:, 0]
    n_steps = int(np.ceil(until_min / h - 1e-9))
    starts = np.arange(n_steps, dtype=np.float64) * h
    goal = target_at(targets, starts)
    max_rate = max_rate_mg_per_h / 60.0
    rates = np.zeros(n_steps)
    z = np.zeros_like(lam)
    if target == "plasma":
        gain = float(np.real(w @ (phi * unit)))
        for k in range(n_steps):
            free = float(np.real(w @ (r * z)))
            rates[k] = np.clip((goal[k] - free) / gain, 0.0, max_rate)
            z = r * z + phi * unit * rates[k]
    else:
        tau = np.arange(0.0, _HORIZON_MIN, _HORIZON_STEP_MIN)
        decay = np.exp(np.outer(tau, lam))
        after = np.exp(np.outer(np.maximum(tau - h, 0.0), lam))
        during = np.where(
            (tau <= h)[:, None], np.expm1(np.outer(np.minimum(tau, h), lam)) / lam, 0.0
        )
        pulse = np.real((during + (tau > h)[:, None] * after * phi) @ (w * unit))
        for k in range(n_steps):
            free = np.real(decay @ (w * z))
            rates[k] = _effect_rate(free, pulse, goal[k], max_rate)
            z = r * z + phi * unit * rates[k]
    events = [
        Infusion(start_min=float(starts[k]), duration_min=h, rate_mg_per_min=float(rates[k]))
        for k in range(n_steps)
        if rates[k] > 0
    ]
    times = np.append(starts, n_steps * h)
    predicted = simulate(info, patient, events, times)
    return TciResult(info, target, step_s, max_rate_mg_per_h, starts, rates * 60.0, goal, predicted)


def _effect_rate(free: Array, pulse: Array, goal: float, max_rate: float) -> float:
    if free.max() >= goal:
        return 0.0
    peak = int(np.argmax(pulse))
    rate = 0.0
    # The peak of free + rate * pulse moves as the rate changes; a few rounds settle it.
    for _ in range(20):
        rate = (goal - free[peak]) / pulse[peak]
        nxt = int(np.argmax(free + rate * pulse))
        if nxt == peak:
            break
        peak = nxt
    return float(np.clip(rate, 0.0, max_rate))
