"""A virtual population: many patients through the same dosing, summarised as bands.

Variability comes from the covariates (weight, age) and from the model's published
inter-individual variability. A model without published variability gives bands that
reflect covariates alone, and says so in ``note``: none is invented here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ketaclinic.clinical.pk.events import Event, compile_inputs
from ketaclinic.clinical.pk.models import ModelInfo
from ketaclinic.clinical.pk.patient import CovariateDistribution, Covariates, Patient
from ketaclinic.clinical.pk.simulation import (
    DEFAULT_THRESHOLDS_NG_ML,
    check_times,
    concentrations,
    resolve,
)
from ketaclinic.clinical.pk.structure import build
from ketaclinic.clinical.pk.summary import peak, threshold_times
from ketaclinic.clinical.pk.summary import percentiles as bands

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
    out: dict[str, float | None] = {}
    for p in q:
        finite = x[np.isfinite(x)]
        # A patient who never drops below a threshold in the horizon has no time; the
        # percentile is then taken over the others, and is None when none qualify.
        out[f"{name}_p{p:g}"] = float(np.percentile(finite, p)) if finite.size else None
    return out


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
    # float32 storage halves memory and time; bands need nowhere near 7 digits.
    plasma, effect, metabolite = concentrations(system, inputs, t, np.float32)
    cp, tp = peak(t, plasma)
    summary: dict[str, float | None] = {}
    summary.update(_spread("peak_plasma_ng_ml", cp, q))
    summary.update(_spread("time_of_peak_min", tp, q))
    if effect is not None:
        summary.update(_spread("peak_effect_ng_ml", peak(t, effect)[0], q))
    if metabolite is not None:
        summary.update(_spread("peak_metabolite_ng_ml", peak(t, metabolite)[0], q))
    for thr in thresholds_ng_ml:
        key = f"{thr:g}"
        above, below = threshold_times(t, plasma, thr)
        summary.update(_spread(f"time_above_{key}_ng_ml_min", above, q))
        summary.update(_spread(f"below_{key}_ng_ml_by_min", below, q))
    iiv = tuple(v.param for v in info.iiv)
    note = (
        "bands reflect covariates only: the model has no published inter-individual variability"
        if not iiv
        else f"inter-individual variability on {', '.join(iiv)} as published"
    )
    # Per-patient figures are done: the bands may now reorder each time row in place.
    plasma_bands = bands(plasma, q, overwrite=True)
    effect_bands = bands(effect, q, overwrite=True) if effect is not None else None
    metabolite_bands = bands(metabolite, q, overwrite=True) if metabolite is not None else None
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
