"""A virtual population: many patients through the same dosing, summarised as bands.

Variability comes from the covariates (weight, age) and from the model's published
inter-individual variability. A model without published variability gives bands that
reflect covariates alone, and says so in ``note``: none is invented here.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ketaclinic.clinical.pk.events import Event, compile_inputs
from ketaclinic.clinical.pk.models import ModelInfo
from ketaclinic.clinical.pk.patient import CovariateDistribution, Covariates, Patient
from ketaclinic.clinical.pk.simulation import (
    DEFAULT_THRESHOLDS_NG_ML,
    check_times,
    observed_states,
    resolve,
)
from ketaclinic.clinical.pk.solver import Trajectories, workers
from ketaclinic.clinical.pk.structure import build
from ketaclinic.clinical.pk.summary import RunningPeak, RunningThresholds, block_percentiles

Array = NDArray[np.float64]
Who = Patient | Sequence[Patient] | CovariateDistribution


@dataclass(frozen=True)
class PopulationResult:
    model: ModelInfo
    n: int
    seed: int | None
    t_min: Array
    percentiles: tuple[float, ...]
    plasma_ng_ml: dict[float, Array]
    effect_ng_ml: dict[float, Array] | None
    metabolite_ng_ml: dict[float, Array] | None
    summary: dict[str, float | None]
    iiv_applied: tuple[str, ...]
    note: str


def sample_etas(model: ModelInfo, n: int, rng: np.random.Generator) -> dict[str, Array]:
    return {v.param: rng.normal(0.0, np.sqrt(v.omega2), n) for v in model.iiv}


def sample_covariates(who: Who, n: int, rng: np.random.Generator) -> Covariates:
    if isinstance(who, Patient):
        return Covariates.of(who, n)
    if isinstance(who, CovariateDistribution):
        return Covariates.sample(who, n, rng)
    patients = list(who)
    if not patients:
        raise ValueError("give at least one patient to resample from")
    return Covariates.resample(patients, n, rng)


def _spread(name: str, x: Array, q: tuple[float, ...]) -> dict[str, float | None]:
    # A patient who never drops below a threshold in the horizon has no time; the
    # percentile is then taken over the others, and is None when none qualify.
    finite = x[np.isfinite(x)]
    return {f"{name}_p{p:g}": float(np.percentile(finite, p)) if finite.size else None for p in q}


_PARALLEL_VALUES = 2_000_000
"""Output values (times x patients x observed states) from which the rows are split
between two threads; below it a thread costs more than it saves."""


class _Running:
    """Everything ``population`` reports, accumulated block by block over a row range.

    The (T, n) concentrations are never held whole: each block is summarised while it
    is still in cache and then overwritten by the next, which saves writing and reading
    back hundreds of megabytes.
    """

    def __init__(self, n: int, observed: int, thresholds: Sequence[float]) -> None:
        # Only the plasma peak's time is reported.
        self.peaks = [RunningPeak(n, with_time=k == 0) for k in range(observed)]
        self.thresholds = RunningThresholds(n, thresholds)

    def add(self, t: Array, ys: list[NDArray[Any]], bands: list[dict[float, Array]]) -> None:
        # One pass each for every patient's extremes over the block, shared by the peaks,
        # the threshold search and the bands.
        high = [y.max(axis=0) for y in ys]
        low = [y.min(axis=0) for y in ys]
        for peak, y, top in zip(self.peaks, ys, high, strict=True):
            peak.add(t, y, top)
        if self.thresholds.thresholds:
            self.thresholds.add(t, ys[0], low[0], high[0])
        # Per-patient figures are done: the bands may now reorder each row in place.
        for y, lo, hi, out in zip(ys, low, high, bands, strict=True):
            for p, v in block_percentiles(y, tuple(out), lo, hi).items():
                out[p][...] = v

    def merge(self, later: _Running) -> None:
        """Fold in the figures of the rows that follow this one's."""
        for a, b in zip(self.peaks, later.peaks, strict=True):
            a.merge(b)
        self.thresholds.merge(later.thresholds)


def _summarise(
    traj: Trajectories, q: tuple[float, ...], thresholds: Sequence[float]
) -> tuple[_Running, list[dict[float, Array]]]:
    """Per-patient figures and percentile bands (one dict per observed state)."""
    t, n, m = traj.t, traj.n, traj.m
    bands = [{p: np.empty(t.size) for p in q} for _ in range(m)]

    def rows(lo: int, hi: int) -> _Running:
        running = _Running(n, m, thresholds)
        # float32 blocks: half the memory traffic of float64, and bands and per-patient
        # figures need nowhere near 7 digits.
        for s0, s1, ys in traj.blocks(lo, hi, np.float32):
            running.add(t[s0:s1], ys, [{p: b[p][s0:s1] for p in q} for b in bands])
        return running

    if workers() < 2 or t.size < 2 or t.size * n * m < _PARALLEL_VALUES:
        return rows(0, t.size), bands
    # Two threads, each over half the rows: numpy releases the GIL inside the block-sized
    # ufuncs and partitions that dominate, and the halves' figures merge exactly.
    mid = t.size // 2
    with ThreadPoolExecutor(max_workers=1) as pool:
        later = pool.submit(rows, mid, t.size)
        running = rows(0, mid)
        running.merge(later.result())
    return running, bands


def population(
    model: str | ModelInfo,
    n: int,
    who: Who,
    events: Sequence[Event],
    times: Sequence[float] | Array,
    *,
    seed: int | None = None,
    percentiles: Sequence[float] = (5.0, 50.0, 95.0),
    thresholds_ng_ml: Sequence[float] = DEFAULT_THRESHOLDS_NG_ML,
) -> PopulationResult:
    """Simulate ``n`` virtual patients; reproducible for a given ``seed``."""
    if n < 1:
        raise ValueError("a population needs at least one patient")
    info = resolve(model)
    t = check_times(times)
    q = tuple(float(p) for p in percentiles)
    if any(not 0.0 <= p <= 100.0 for p in q):
        raise ValueError("percentiles must lie between 0 and 100")
    rng = np.random.default_rng(seed)
    cov = sample_covariates(who, n, rng)
    etas = sample_etas(info, n, rng)
    system = build(info, cov, etas)
    inputs = compile_inputs(system, list(events))
    observed, scales = observed_states(system)
    traj = Trajectories(system.a, inputs, t, observed, scales)
    running, bands = _summarise(traj, q, thresholds_ng_ml)
    plasma_peak, *other_peaks = running.peaks
    plasma_bands, *other_bands = bands
    summary: dict[str, float | None] = {}
    summary.update(_spread("peak_plasma_ng_ml", plasma_peak.top, q))
    summary.update(_spread("time_of_peak_min", plasma_peak.when, q))
    # The other observed states follow plasma in the order observed_states gives them.
    effect_bands = metabolite_bands = None
    if system.effect is not None:
        summary.update(_spread("peak_effect_ng_ml", other_peaks.pop(0).top, q))
        effect_bands = other_bands.pop(0)
    if system.metabolite is not None:
        summary.update(_spread("peak_metabolite_ng_ml", other_peaks.pop(0).top, q))
        metabolite_bands = other_bands.pop(0)
    crossings = running.thresholds.results() if thresholds_ng_ml else []
    for thr, (above, below) in zip(thresholds_ng_ml, crossings, strict=True):
        key = f"{thr:g}"
        summary.update(_spread(f"time_above_{key}_ng_ml_min", above, q))
        summary.update(_spread(f"below_{key}_ng_ml_by_min", below, q))
    iiv = tuple(v.param for v in info.iiv)
    note = (
        "bands reflect covariates only: the model has no published inter-individual variability"
        if not iiv
        else f"inter-individual variability on {', '.join(iiv)} as published"
    )
    return PopulationResult(
        model=info,
        n=n,
        seed=seed,
        t_min=t,
        percentiles=q,
        plasma_ng_ml=plasma_bands,
        effect_ng_ml=effect_bands,
        metabolite_ng_ml=metabolite_bands,
        summary=summary,
        iiv_applied=iiv,
        note=note,
    )
