"""Figures a clinician reads off a concentration curve, for one curve or many at once.

Every function takes times (T,) and concentrations (T,) or (T, n) and treats the curve as
linear between output times, so resolution, not the solver, bounds their precision.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    total, last, crossed = _crossings(t, c2, threshold)
    first, end = c2[0] >= threshold, c2[-1] >= threshold
    total, below = _threshold_figures(t[0], first, t[-1], end, total, last, crossed)
    return _squeeze(total, c), _squeeze(below, c)


def _crossings(t: Array, c2: NDArray[Any], threshold: float) -> tuple[Array, Array, NDArray[Any]]:
    """Per column: the crossing times summed with sign (minus going up, plus going down),
    the last crossing (-inf if none), and whether there was any."""
    n = c2.shape[1]
    above = c2 >= threshold
    rows, cols = _nonzero(above[1:] != above[:-1])
    c0 = c2[rows, cols].astype(float)
    c1 = c2[rows + 1, cols].astype(float)
    cross = t[rows] + (c0 - threshold) / (c0 - c1) * (t[rows + 1] - t[rows])
    upward = c1 >= threshold
    total = np.bincount(cols, weights=np.where(upward, -cross, cross), minlength=n).astype(float)
    last = np.full(n, -np.inf)
    np.maximum.at(last, cols, cross)
    return total, last, np.bincount(cols, minlength=n) > 0


def _threshold_figures(
    t_first: float,
    above_first: NDArray[np.bool_],
    t_end: float,
    above_end: NDArray[np.bool_],
    total: Array,
    last: Array,
    crossed: NDArray[np.bool_],
) -> tuple[Array, Array]:
    # Time above = sum of (down-crossing - up-crossing), with the curve's ends standing in
    # for a missing crossing when it starts or ends above.
    total = total + (np.where(above_first, -t_first, 0.0) + np.where(above_end, t_end, 0.0))
    ever = above_first | crossed
    return total, np.where(ever & ~above_end, last, np.nan)


class RunningPeak:
    """``peak`` over consecutive row blocks of a (T, n) curve that is never held whole."""

    def __init__(self, n: int, with_time: bool = True) -> None:
        self.n = n
        self.with_time = with_time
        self._top: NDArray[Any] | None = None  # in the curve's own dtype: no upcasting
        self.when = np.full(n, np.nan)

    @property
    def top(self) -> Array:
        return np.full(self.n, -np.inf) if self._top is None else self._top.astype(float)

    def add(self, t: Array, c: NDArray[Any], top: NDArray[Any] | None = None) -> None:
        """Rows c (L, n) at times t; ``top`` is c.max(axis=0) if the caller has it."""
        top = c.max(axis=0) if top is None else top
        if self._top is None:
            self._top = np.full(self.n, -np.inf, dtype=top.dtype)
        if not self.with_time:
            np.maximum(self._top, top, out=self._top)
            return
        # Strictly higher only: on a tie the earlier block's time stands, as in ``peak``.
        better = np.flatnonzero(top > self._top)
        if better.size:
            sub = c if better.size == c.shape[1] else c[:, better]
            first = (sub == top[better][None, :]).argmax(axis=0)
            self._top[better] = top[better]
            self.when[better] = t[first]

    def merge(self, later: RunningPeak) -> None:
        """Fold in the figures of the rows that follow this one's."""
        if later._top is None:
            return
        if self._top is None:
            self._top, self.when = later._top, later.when
            return
        better = later._top > self._top
        self._top[better] = later._top[better]
        self.when[better] = later.when[better]


class RunningThresholds:
    """``threshold_times`` for several thresholds over consecutive row blocks of a (T, n)
    curve that is never held whole."""

    def __init__(self, n: int, thresholds: Sequence[float]) -> None:
        self.thresholds = tuple(thresholds)
        k = len(self.thresholds)
        self.total = np.zeros((k, n))
        self.last = np.full((k, n), -np.inf)
        self.crossed = np.zeros((k, n), dtype=bool)
        self.head: tuple[float, NDArray[Any]] | None = None
        self.tail: tuple[float, NDArray[Any]] | None = None

    def add(
        self,
        t: Array,
        c: NDArray[Any],
        low: NDArray[Any] | None = None,
        high: NDArray[Any] | None = None,
    ) -> None:
        """Rows c (L, n) at times t, following the rows added before; ``low`` and ``high``
        are c.min(axis=0) and c.max(axis=0) if the caller has them."""
        if not self.thresholds:
            return
        low = c.min(axis=0) if low is None else low
        high = c.max(axis=0) if high is None else high
        prev = self.tail
        self.tail = (float(t[-1]), c[-1].copy())
        if prev is None:
            self.head = (float(t[0]), c[0].copy())
        else:
            # Include the step from the previous block's last row to this block's first.
            t = np.concatenate([[prev[0]], t])
            low, high = np.minimum(low, prev[1]), np.maximum(high, prev[1])
        for i, thr in enumerate(self.thresholds):
            # Only a patient with rows on both sides of the threshold can cross it here:
            # in most blocks a handful, so only their columns are searched.
            cols = np.flatnonzero((low < thr) & (high >= thr))
            if cols.size:
                sub = c[:, cols]
                if prev is not None:
                    sub = np.concatenate([prev[1][None, cols], sub])
                self._fold(i, t, sub, cols)

    def _fold(self, i: int, t: Array, c: NDArray[Any], cols: NDArray[np.intp] | None) -> None:
        total, last, crossed = _crossings(t, c, self.thresholds[i])
        if cols is None:
            self.total[i] += total
            np.maximum(self.last[i], last, out=self.last[i])
            self.crossed[i] |= crossed
        else:
            self.total[i, cols] += total
            self.last[i, cols] = np.maximum(self.last[i, cols], last)
            self.crossed[i, cols] |= crossed

    def merge(self, later: RunningThresholds) -> None:
        """Fold in the figures of the rows that follow this one's."""
        if later.head is None:
            return
        if self.tail is None:
            self.__dict__.update(later.__dict__)
            return
        t = np.array([self.tail[0], later.head[0]])
        join = np.stack([self.tail[1], later.head[1]])
        for i in range(len(self.thresholds)):
            self._fold(i, t, join, None)
        self.total += later.total
        np.maximum(self.last, later.last, out=self.last)
        self.crossed |= later.crossed
        self.tail = later.tail

    def results(self) -> list[tuple[Array, Array]]:
        """Per threshold: minutes at or above it, and the time after which the curve
        stays below (NaN if it never reached it or is still above it at the end)."""
        assert self.head is not None and self.tail is not None
        (t0, c0), (t1, c1) = self.head, self.tail
        return [
            _threshold_figures(
                t0, c0 >= thr, t1, c1 >= thr, self.total[i], self.last[i], self.crossed[i]
            )
            for i, thr in enumerate(self.thresholds)
        ]


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
    _partition_at(part, ks)
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


def _partition_at(part: NDArray[Any], ks: list[int]) -> None:
    """Partition the last axis in place so that position k holds the kth smallest, for
    each k in ks (sorted). numpy's multi-kth partition is slow; partitioning the middle
    index first and recursing into the two halves does a fraction of the work."""

    def split(lo: int, hi: int, wanted: list[int]) -> None:
        if not wanted:
            return
        mid = wanted[len(wanted) // 2]
        part[..., lo:hi].partition(mid - lo, axis=-1)
        split(lo, mid, [k for k in wanted if k < mid])
        split(mid + 1, hi, [k for k in wanted if k > mid])

    split(0, part.shape[-1], ks)


def block_percentiles(
    x: NDArray[Any],
    q: tuple[float, ...],
    low: NDArray[Any] | None = None,
    high: NDArray[Any] | None = None,
) -> dict[float, Array]:
    """``percentiles`` of a block x (L, n) of consecutive times; ``low`` and ``high`` are
    x.min(axis=0) and x.max(axis=0) if the caller has them. x may be reordered in rows.

    Over a short block each patient moves little, so few can hold a given rank in any
    of its rows. The kth smallest column minimum bounds the kth order statistic of every
    row from below, and the (k+1)th smallest column maximum bounds the (k+1)th from
    above. A column entirely under the first bound is below both in every row, one
    entirely over the second is above both, and only the columns in between are
    partitioned: a few percent of a block of a few minutes. The values picked are the
    same order statistics ``percentiles`` picks, so the results are identical.
    """
    n = x.shape[1]
    low = x.min(axis=0) if low is None else low
    high = x.max(axis=0) if high is None else high
    pos = {p: p / 100.0 * (n - 1) for p in q}
    ks = sorted({int(np.floor(v)) for v in pos.values()})
    nxt = [min(k + 1, n - 1) for k in ks]
    lows, highs = low.copy(), high.copy()
    _partition_at(lows, ks)
    _partition_at(highs, sorted(set(nxt)))
    picks: dict[int, tuple[NDArray[Any], NDArray[Any]]] = {}
    for k, k1 in zip(ks, nxt, strict=True):
        cols = np.flatnonzero((high >= lows[k]) & (low <= highs[k1]))
        j = k - int(np.count_nonzero(high < lows[k]))
        if cols.size > n // 4 or not 0 <= j < cols.size - (k1 - k):
            # Fast-moving rows (an infusion running) leave too many candidates: the
            # whole block is then cheaper. (The second test only guards against NaN.)
            return percentiles(x, q, overwrite=True)
        sub = x[:, cols]
        sub.partition(j, axis=1)
        picks[k] = (sub[:, j], sub[:, j + 1 :].min(axis=1) if k1 > k else sub[:, j])
    out: dict[float, Array] = {}
    for p, v in pos.items():
        k = int(np.floor(v))
        frac = v - k
        lo_v = picks[k][0].astype(float)
        if frac == 0.0 or k + 1 >= n:
            out[p] = lo_v
            continue
        hi_v = picks[k][1].astype(float)
        out[p] = lo_v + frac * (hi_v - lo_v)
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
