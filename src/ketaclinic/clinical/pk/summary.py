"""Figures a clinician reads off a concentration curve, for one curve or many at once.

Every function takes times (T,) and concentrations (T,) or (T, n) and treats the curve as
linear between output times, so resolution, not the solver, bounds their precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ketaclinic.clinical.pk.models import KETAMINE_MW_G_PER_MOL

Array = NDArray[np.float64]


def _as_2d(c: NDArray[Any]) -> NDArray[Any]:
    return c if c.ndim == 2 else c.reshape(-1, 1)


def _squeeze(x: Array, like: NDArray[Any]) -> Array:
    return x if like.ndim == 2 else x[:1].reshape(())


def _nonzero(mask: NDArray[np.bool_]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Row and column of every True, in row-major order (flat search is several times
    faster than the 2-D ``nonzero``)."""
    flat = np.flatnonzero(mask)
    rows, cols = np.divmod(flat, mask.shape[1])
    return rows, cols


def peak(t: Array, c: NDArray[Any]) -> tuple[Array, Array]:
    """Highest concentration and the first time it occurs."""
    c2 = _as_2d(c)
    top = c2.max(axis=0)
    # argmax along the time axis is slow on a (T, n) array; the matches of the maximum
    # come out of nonzero in time order, so the first match per patient is its peak.
    rows, cols = _nonzero(c2 == top[None, :])
    _, first = np.unique(cols, return_index=True)
    when = t[rows[first]]
    return _squeeze(top.astype(float), c), _squeeze(when, c)


def auc(t: Array, c: NDArray[Any]) -> Array:
    """Area under the curve by the trapezoidal rule, in concentration x minutes."""
    dt = np.diff(t)
    mid = (c[1:] + c[:-1]) * 0.5
    return np.asarray(np.tensordot(dt, mid, axes=(0, 0)), dtype=float)


def threshold_times(t: Array, c: NDArray[Any], threshold: float) -> tuple[Array, Array]:
    """Minutes at or above the threshold, and the time after which the curve stays below.

    The second is NaN where the curve never reached the threshold or is still above it at
    the end. Crossings are located by linear interpolation between output times.
    """
    c2 = _as_2d(c)
    n = c2.shape[1]
    above = c2 >= threshold
    rows, cols = _nonzero(above[1:] != above[:-1])
    c0 = c2[rows, cols].astype(float)
    c1 = c2[rows + 1, cols].astype(float)
    cross = t[rows] + (c0 - threshold) / (c0 - c1) * (t[rows + 1] - t[rows])
    upward = c1 >= threshold
    total = np.bincount(cols, weights=np.where(upward, -cross, cross), minlength=n).astype(float)
    total += np.where(above[0], -t[0], 0.0) + np.where(above[-1], t[-1], 0.0)
    last = np.full(n, -np.inf)
    np.maximum.at(last, cols, cross)
    ever = above[0] | (np.bincount(cols, minlength=n) > 0)
    below = np.where(ever & ~above[-1], last, np.nan)
    return _squeeze(total, c), _squeeze(below, c)


def time_above(t: Array, c: NDArray[Any], threshold: float) -> Array:
    return threshold_times(t, c, threshold)[0]


def below_by(t: Array, c: NDArray[Any], threshold: float) -> Array:
    return threshold_times(t, c, threshold)[1]


def percentiles(
    x: NDArray[Any], q: tuple[float, ...], overwrite: bool = False
) -> dict[float, Array]:
    """Percentiles across each row of (T, n), as numpy's default 'linear' method.

    np.percentile partitions every row once per requested index, and numpy's multi-kth
    partition is slow; partitioning the middle index first and recursing into the two
    halves does a fraction of the work. ``overwrite`` reorders ``x`` within rows instead
    of copying it.
    """
    n = x.shape[1]
    pos = {p: p / 100.0 * (n - 1) for p in q}
    ks = sorted({int(np.floor(v)) for v in pos.values()})
    part = x if overwrite else np.array(x, copy=True)

    def split(lo: int, hi: int, wanted: list[int]) -> None:
        if not wanted:
            return
        mid = wanted[len(wanted) // 2]
        part[:, lo:hi].partition(mid - lo, axis=1)
        split(lo, mid, [k for k in wanted if k < mid])
        split(mid + 1, hi, [k for k in wanted if k > mid])

    split(0, n, ks)
    out: dict[float, Array] = {}
    for p, v in pos.items():
        k = int(np.floor(v))
        frac = v - k
        low = part[:, k].astype(float)
        if frac == 0.0 or k + 1 >= n:
            out[p] = low
            continue
        # Everything right of k up to the next requested index is >= part[:, k].
        nxt = next((j for j in ks if j > k), n - 1)
        high = part[:, k + 1 : nxt + 1].min(axis=1).astype(float)
        out[p] = low + frac * (high - low)
    return out


def ng_ml_to_um(c_ng_ml: NDArray[Any] | float) -> NDArray[Any] | float:
    """ng/mL = ug/L; divided by g/mol gives umol/L."""
    return np.asarray(c_ng_ml) / KETAMINE_MW_G_PER_MOL


def nmda_occupancy(c_ng_ml: NDArray[Any] | float, ki_um: float) -> Array:
    """Fraction of NMDA receptor PCP sites occupied: C/(C + Ki), total plasma concentration.

    Ignores protein binding (about half of ketamine is unbound) and brain/plasma ratio:
    an index for comparing doses, not a measured occupancy.
    """
    c = np.asarray(ng_ml_to_um(c_ng_ml), dtype=float)
    return c / (c + ki_um)


@dataclass(frozen=True)
class ThresholdFigures:
    threshold_ng_ml: float
    time_above_min: float
    below_by_min: float | None


@dataclass(frozen=True)
class Summary:
    peak_plasma_ng_ml: float
    time_of_peak_min: float
    auc_plasma_ng_h_ml: float
    peak_effect_ng_ml: float | None
    time_of_peak_effect_min: float | None
    peak_metabolite_ng_ml: float | None
    time_of_peak_metabolite_min: float | None
    peak_nmda_occupancy: float
    thresholds: tuple[ThresholdFigures, ...]

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "peak_plasma_ng_ml": self.peak_plasma_ng_ml,
            "time_of_peak_min": self.time_of_peak_min,
            "auc_plasma_ng_h_ml": self.auc_plasma_ng_h_ml,
            "peak_effect_ng_ml": self.peak_effect_ng_ml,
            "time_of_peak_effect_min": self.time_of_peak_effect_min,
            "peak_metabolite_ng_ml": self.peak_metabolite_ng_ml,
            "time_of_peak_metabolite_min": self.time_of_peak_metabolite_min,
            "peak_nmda_occupancy": self.peak_nmda_occupancy,
        }
        for f in self.thresholds:
            key = f"{f.threshold_ng_ml:g}"
            out[f"time_above_{key}_ng_ml_min"] = f.time_above_min
            out[f"below_{key}_ng_ml_by_min"] = f.below_by_min
        return out


def _opt(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)


def summarise(
    t: Array,
    plasma: Array,
    effect: Array | None,
    metabolite: Array | None,
    ki_um: float,
    thresholds: tuple[float, ...] = (),
) -> Summary:
    cp, tp = peak(t, plasma)
    ce, te = peak(t, effect) if effect is not None else (np.nan, np.nan)
    cm, tm = peak(t, metabolite) if metabolite is not None else (np.nan, np.nan)
    site = effect if effect is not None else plasma
    occ = float(np.max(nmda_occupancy(site, ki_um)))
    figures = []
    for thr in thresholds:
        above, below = threshold_times(t, plasma, thr)
        figures.append(ThresholdFigures(thr, float(above), _opt(float(below))))
    return Summary(
        float(cp),
        float(tp),
        float(auc(t, plasma)) / 60.0,
        _opt(float(ce)),
        _opt(float(te)),
        _opt(float(cm)),
        _opt(float(tm)),
        occ,
        tuple(figures),
    )
