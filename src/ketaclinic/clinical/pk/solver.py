"""Exact solution of dx/dt = A x + u for piecewise-constant u, many patients at once.

Each patient's A is diagonalised once (A = V diag(lambda) V^-1). In modal coordinates the
state a time tau after t0, with constant input b, is

    z(t0 + tau) = exp(lambda tau) z(t0) + expm1(lambda tau) / lambda b,

exact up to rounding, so the time grid only decides where results are reported, never how
accurate they are. Patients whose eigenvectors are ill-conditioned (near-equal
eigenvalues) are solved with the matrix exponential instead.

Outputs are produced time-major, (T, n), in blocks of a few rows for every patient at
once. A block's values are sums over modes of (weight x factor), where the factors
exp(lambda tau) for the block's offsets tau from its first row are computed once and
shared by every block with the same offsets: on a regular grid that is every full block,
so an output value costs a few multiply-adds and no exponential. Consecutive blocks are
joined by one exact step. Small blocks stay in cache, and a caller that only needs
reductions (the population's bands and summaries) can consume each block as it comes
instead of holding hundreds of megabytes of (T, n) arrays.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import expm

from ketaclinic.clinical.pk.events import Inputs

Array = NDArray[np.float64]
_COND_LIMIT = 1e8

_TABLE_VALUES = 80_000
"""Factor-table rows x patients. At 10,000 patients a table covers 8 rows: the table
(8 x 10,000 per mode) and the block it builds then stay near the size of a core's cache,
which keeps each pass over them fast; larger tables were measurably slower. A single
patient gets whole input segments per table."""

_BLOCK_VALUES = 320_000
"""Rows x patients per block handed to the caller (32 rows at 10,000 patients): a few
tables' worth, so the caller's per-block work is dispatched from Python less often."""

_BLOCK_MIN_ROWS = 32
"""Rows per block however many patients: past 10,000 patients ``_BLOCK_VALUES`` alone
would shrink blocks to the factor table's 4 rows, and the caller's per-block work that
is linear in the patients (the bands' bounds over every patient, their extremes) would
then be done eight times as often per row, so the cost grew with the square of the
population. The tables stay small for the cache; only the blocks gathered from them
keep at least this many rows (100,000 patients: 12.8 MB a block and state, float32)."""

_PARALLEL_EIG = 2_000
"""Patients from which the eigendecompositions are split between two threads."""

_CACHE_ENTRIES = 16
"""Cached factor tables per solver. A regular grid needs a handful; an irregular one
would otherwise keep one table per block, megabytes each."""


class _Cache:
    """A small, thread-safe, first-in-first-out cache of computed factors."""

    def __init__(self) -> None:
        self._data: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        with self._lock:
            hit = self._data.get(key)
        if hit is None:
            # Computed outside the lock: two threads usually want different tables (one
            # inside an infusion, one after it); at worst both compute the same one.
            hit = make()
            with self._lock:
                if len(self._data) >= _CACHE_ENTRIES:
                    del self._data[next(iter(self._data))]
                self._data[key] = hit
        return hit


def _eig(a: Array) -> tuple[NDArray[Any], NDArray[Any]]:
    """np.linalg.eig, in two threads for a large batch: LAPACK releases the GIL, and one
    3x3 matrix at a time is slow enough (a few microseconds) for that to matter."""
    n = a.shape[0]
    if n < _PARALLEL_EIG or workers() < 2:
        return np.linalg.eig(a)
    with ThreadPoolExecutor(max_workers=1) as pool:
        later = pool.submit(np.linalg.eig, a[n // 2 :])
        lam0, vec0 = np.linalg.eig(a[: n // 2])
        lam1, vec1 = later.result()
    if np.iscomplexobj(lam0) != np.iscomplexobj(lam1):
        lam0, lam1 = lam0.astype(complex), lam1.astype(complex)
        vec0, vec1 = vec0.astype(complex), vec1.astype(complex)
    return np.concatenate([lam0, lam1]), np.concatenate([vec0, vec1])


def workers() -> int:
    """Threads worth using: two where two cores are available (numpy's heavy loops
    release the GIL), else one."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        cpus = os.cpu_count() or 1
    return min(2, cpus)


class _Modal:
    """Modal coordinates, stored mode-major (s, n) so each update is a contiguous sweep."""

    def __init__(
        self,
        a: Array,
        observed: Sequence[int],
        scales: Sequence[Array | float] | None = None,
    ) -> None:
        lam, vec = _eig(a)
        if np.iscomplexobj(lam) and np.abs(lam.imag).max() <= 1e-12 * np.abs(lam).max():
            # Compartment models have real spectra; drop rounding noise in the imaginary part.
            lam, vec = lam.real, vec.real
        lam, vec = _order_modes(lam, vec, observed)
        self.vec = vec
        self.vinv = np.linalg.inv(vec)
        self.lam = np.ascontiguousarray(lam.T)
        if scales is None:
            scales = [1.0] * len(observed)
        # Row j of V maps modes to observed state j; a per-patient scale (1000 / volume)
        # folded in here turns amounts into concentrations at no cost per output value.
        self.obs = [
            np.ascontiguousarray(vec[:, j, :].T) * np.asarray(f)
            for j, f in zip(observed, scales, strict=True)
        ]
        # Modes that cannot reach an observed state (an effect site seen from plasma, a
        # metabolite's own modes) have weight exactly zero there, for every patient once
        # ordered; each observed state sums over its first ``modes[j]`` modes only.
        self.modes = [_nonzero_prefix(w) for w in self.obs]
        self._factors = _Cache()
        self._tables = _Cache()
        self.s, self.n = self.lam.shape

    def zeros(self) -> NDArray[Any]:
        return np.zeros((self.s, self.n), dtype=self.lam.dtype)

    def vector(self, state: int, amount: Array) -> NDArray[Any]:
        return np.ascontiguousarray(self.vinv[:, :, state].T) * amount[None, :]

    def _phi(self, x: NDArray[Any], lam: NDArray[Any], tau: Any) -> NDArray[Any]:
        # expm1(x)/lambda, with its limit tau where lambda is 0 (a sink's mode).
        small = np.abs(x) < 1e-300
        safe = np.where(small, 1.0, lam)
        return np.where(small, tau, np.expm1(x) / safe)

    def factors(self, h: float) -> tuple[NDArray[Any], NDArray[Any]]:
        """exp(lambda h) and expm1(lambda h)/lambda: one exact step of length h."""

        def make() -> tuple[NDArray[Any], NDArray[Any]]:
            x = self.lam * h
            return np.exp(x), self._phi(x, self.lam, h)

        out: tuple[NDArray[Any], NDArray[Any]] = self._factors.get(round(h, 9), make)
        return out

    def advance(self, z: NDArray[Any], h: float, b: NDArray[Any] | None) -> NDArray[Any]:
        if h == 0.0:
            return z
        r, phi = self.factors(h)
        out = r * z
        if b is not None:
            out += phi * b
        return out

    def table(self, tau: Array, with_input: bool) -> NDArray[Any]:
        """Factors for offsets tau (L,): exp(lambda tau), (s, L, n); with an input running,
        (2, s, L, n) with expm1(lambda tau)/lambda second. Every mode's slice is contiguous."""
        key = (np.round(tau, 9).tobytes(), with_input)

        def make() -> NDArray[Any]:
            x = self.lam[:, None, :] * tau[None, :, None]
            if not with_input:
                return np.exp(x)
            return np.stack([np.exp(x), self._phi(x, self.lam[:, None, :], tau[None, :, None])])

        out: NDArray[Any] = self._tables.get(key, make)
        return out

    def driven(self, b: NDArray[Any] | None) -> list[NDArray[Any]] | None:
        """Each observed state's weights on the input b: constant over a segment."""
        return (
            None
            if b is None
            else [w[:k] * b[:k] for w, k in zip(self.obs, self.modes, strict=True)]
        )

    def rows(
        self,
        z: NDArray[Any],
        driven: list[NDArray[Any]] | None,
        tau: Array,
        outs: list[NDArray[Any]],
    ) -> None:
        """Observed values at offsets tau from state z, into outs (L, n); ``driven`` is
        ``self.driven(b)`` for the input b running, None without one."""
        e = self.table(tau, driven is not None)
        acc = np.empty((tau.size, self.n), dtype=e.dtype)
        for j, (w, k, out) in enumerate(zip(self.obs, self.modes, outs, strict=True)):
            # Output j at offset tau is sum_i w_ji (e_i(tau) z_i + phi_i(tau) b_i). One
            # einsum makes a single pass over the block, where a loop of ufuncs would
            # write and reread a block-sized temporary per mode.
            if driven is None:
                np.einsum("iln,in->ln", e[:k], w[:k] * z[:k], out=acc)
            else:
                coef = np.stack([w[:k] * z[:k], driven[j]])
                np.einsum("ailn,ain->ln", e[:, :k], coef, out=acc)
            np.copyto(out, acc.real if np.iscomplexobj(acc) else acc, casting="unsafe")


def _order_modes(
    lam: NDArray[Any], vec: NDArray[Any], observed: Sequence[int]
) -> tuple[NDArray[Any], NDArray[Any]]:
    """Reorder each patient's modes so those invisible in the first observed state come
    last (then those invisible in the second, and so on); eig's own order varies by
    patient. lam (n, s), vec (n, s, s) with modes in columns."""
    if not observed:
        return lam, vec
    m = len(observed)
    hidden = vec[:, list(observed), :] == 0  # (n, m, s)
    code = np.zeros(lam.shape, dtype=np.int64)
    for j in range(m):
        code += hidden[:, j, :].astype(np.int64) << (m - 1 - j)
    order = np.argsort(code, axis=1, kind="stable")
    lam = np.take_along_axis(lam, order, axis=1)
    vec = np.take_along_axis(vec, order[:, None, :], axis=2)
    return lam, vec


def _nonzero_prefix(w: NDArray[Any]) -> int:
    """Number of leading modes, after which w (s, n) is zero for every patient."""
    k = w.shape[0]
    while k > 1 and not np.any(w[k - 1]):
        k -= 1
    return k


class _Dense:
    """Matrix-exponential steps, for patients whose spectrum is nearly degenerate."""

    def __init__(self, a: Array, observed: Sequence[int]) -> None:
        self.a = a
        self.n, self.s = a.shape[0], a.shape[1]
        self.observed = list(observed)
        self._cache: dict[float, tuple[Array, Array]] = {}

    def zeros(self) -> Array:
        return np.zeros((self.s, self.n))

    def vector(self, state: int, amount: Array) -> Array:
        v = np.zeros((self.s, self.n))
        v[state] = amount
        return v

    def step(self, z: NDArray[Any], h: float, b: NDArray[Any] | None) -> None:
        key = round(h, 9)
        hit = self._cache.get(key)
        if hit is None:
            s = self.s
            aug = np.zeros((self.n, 2 * s, 2 * s))
            aug[:, :s, :s] = self.a * h
            aug[:, :s, s:] = np.eye(s) * h
            big = expm(aug)
            hit = (big[:, :s, :s], big[:, :s, s:])
            self._cache[key] = hit
        e, gamma = hit
        new = np.einsum("nij,jn->in", e, z)
        if b is not None:
            new += np.einsum("nij,jn->in", gamma, b)
        z[...] = new

    def observe(self, z: NDArray[Any], j: int) -> Array:
        return np.asarray(z[self.observed[j]], dtype=float)


def relevant_states(a: Array, sources: set[int], observed: Sequence[int]) -> list[int]:
    """States fed by some input and feeding some observed state: the rest stay zero."""
    edges = np.any(a != 0.0, axis=0)  # edges[i, j]: j flows into i
    np.fill_diagonal(edges, False)

    def closure(start: set[int], forward: bool) -> set[int]:
        seen, todo = set(start), list(start)
        while todo:
            k = todo.pop()
            nxt = np.nonzero(edges[:, k] if forward else edges[k, :])[0]
            for m in nxt.tolist():
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
        return seen

    keep = closure(sources, True) & closure(set(observed), False)
    return sorted(keep)


@dataclass(frozen=True)
class _Segment:
    """A stretch with constant input: state z0 at t0 (after any impulse there), input b,
    and the output rows lo:hi that fall inside it."""

    t0: float
    z0: NDArray[Any]
    b: NDArray[Any] | None
    lo: int
    hi: int


class Trajectories:
    """Observed states of n patients at the output times, produced in row blocks.

    ``scales`` multiplies each observed state per patient (1000 / volume gives ng/mL).
    """

    def __init__(
        self,
        a: Array,
        inputs: Inputs,
        times: Array,
        observed: Sequence[int],
        scales: Sequence[Array | float] | None = None,
    ) -> None:
        n = a.shape[0]
        self.t = np.asarray(times, dtype=float)
        self.n, self.m = n, len(observed)
        self.table_rows = max(4, _TABLE_VALUES // n)
        self.block_rows = max(self.table_rows, _BLOCK_VALUES // n, _BLOCK_MIN_ROWS)
        f = [np.broadcast_to(np.asarray(x, dtype=float), (n,)) for x in scales or [1.0] * self.m]
        sources = {i.state for i in inputs.impulses} | {r.state for r in inputs.rates}
        keep = relevant_states(a, sources, observed)
        # Observed states no input reaches stay zero; only the others are computed.
        self.live = [j for j, s in enumerate(observed) if s in keep]
        self.modal: _Modal | None = None
        self.good: NDArray[np.intp] | None = None
        self.dense: list[Array] = []
        self.bad: NDArray[np.intp] | None = None
        self.segments: list[_Segment] = []
        if not self.live or self.t.size == 0:
            return
        sub = a[:, keep][:, :, keep]
        local = [keep.index(observed[j]) for j in self.live]
        remap = {s: i for i, s in enumerate(keep)}
        modal = _Modal(sub, local, [f[j] for j in self.live])
        cond = np.linalg.norm(modal.vinv, axis=(1, 2)) * np.linalg.norm(modal.vec, axis=(1, 2))
        bad = ~np.isfinite(cond) | (cond > _COND_LIMIT)
        if bad.any():
            good_idx, bad_idx = np.nonzero(~bad)[0], np.nonzero(bad)[0]
            # Rare: march the few ill-conditioned patients step by step, once, in full.
            dense = _Dense(sub[bad_idx], local)
            self.dense = _march(dense, inputs, self.t, remap, bad_idx)
            for k, j in enumerate(self.live):
                self.dense[k] *= f[j][bad_idx]
            self.bad = bad_idx
            if not good_idx.size:
                return
            self.good = good_idx
            modal = _Modal(sub[good_idx], local, [f[j][good_idx] for j in self.live])
        self.modal = modal
        self.segments = _segments(modal, inputs, self.t, remap, self.good)

    def blocks(
        self,
        lo: int,
        hi: int,
        dtype: type[np.floating] = np.float64,
        into: list[NDArray[Any]] | None = None,
    ) -> Iterator[tuple[int, int, list[NDArray[Any]]]]:
        """Rows lo:hi in consecutive blocks: (start, stop, one (rows, n) per observed state).

        Without ``into`` the blocks are scratch arrays that the next block overwrites;
        with it (one (T, n) array per observed state) they are views into those arrays.
        """
        rows = min(self.block_rows, max(hi - lo, 0))
        scratch = [np.zeros((rows, self.n), dtype) for _ in range(self.m if into is None else 0)]
        start = lo
        for s0, s1, z, driven in self._walk(lo, hi):
            if into is not None:
                self._fill([x[s0:s1] for x in into], s0, s1, z, driven)
                yield s0, s1, [x[s0:s1] for x in into]
                continue
            # Pieces (a factor table's worth of rows, inside one input segment) are
            # gathered into blocks of up to ``rows``, so that whatever the caller does per
            # block is done on several pieces at once.
            if s1 - start > rows:
                yield start, s0, [x[: s0 - start] for x in scratch]
                start = s0
            self._fill([x[s0 - start : s1 - start] for x in scratch], s0, s1, z, driven)
        if into is None and hi > start:
            yield start, hi, [x[: hi - start] for x in scratch]

    def _fill(
        self,
        outs: list[NDArray[Any]],
        s0: int,
        s1: int,
        z: NDArray[Any] | None,
        driven: list[NDArray[Any]] | None,
    ) -> None:
        """Rows s0:s1 of every observed state into outs (s1 - s0, n)."""
        good = self.good
        if self.modal is not None and z is not None:
            tau = self.t[s0:s1] - self.t[s0]
            if good is None:
                self.modal.rows(z, driven, tau, [outs[j] for j in self.live])
            else:
                here = [np.empty((s1 - s0, good.size), dtype=outs[0].dtype) for _ in self.live]
                self.modal.rows(z, driven, tau, here)
                for j, x in zip(self.live, here, strict=True):
                    outs[j][:, good] = x
        if self.bad is not None:
            for j, x in zip(self.live, self.dense, strict=True):
                outs[j][:, self.bad] = x[s0:s1]

    def _walk(
        self, lo: int, hi: int
    ) -> Iterator[tuple[int, int, NDArray[Any] | None, list[NDArray[Any]] | None]]:
        """Pieces of rows lo:hi, each inside one segment and at most a factor table long,
        with the modal state at the piece's first row and the segment's input as
        ``_Modal.driven`` gives it."""
        rows, modal = self.table_rows, self.modal
        if modal is None:
            for s0 in range(lo, hi, rows):
                yield s0, min(s0 + rows, hi), None, None
            return
        t = self.t
        for seg in self.segments:
            r0, r1 = max(lo, seg.lo), min(hi, seg.hi)
            if r0 >= r1:
                continue
            # Closed form from the segment's start, so any row range can be started anywhere
            # (two threads take half each); then one cached exact step per piece.
            z = modal.advance(seg.z0, float(t[r0] - seg.t0), seg.b)
            driven = modal.driven(seg.b)
            for s0 in range(r0, r1, rows):
                s1 = min(s0 + rows, r1)
                yield s0, s1, z, driven
                if s1 < r1:
                    z = modal.advance(z, float(t[s1] - t[s0]), seg.b)


def _segments(
    modal: _Modal,
    inputs: Inputs,
    t_out: Array,
    remap: dict[int, int],
    idx: NDArray[np.intp] | None,
) -> list[_Segment]:
    """Cut the time axis where inputs change; the state at each cut, exactly."""

    def amount(x: Array) -> Array:
        return x if idx is None else x[idx]

    bps = [x for x in inputs.breakpoints() if x <= t_out[-1]]
    # Start at the first output or the first input, whichever is earlier, from zero.
    edges = np.unique(np.concatenate([t_out[:1], np.asarray(bps, dtype=float)]))
    kicks: dict[float, list[NDArray[Any]]] = {}
    for imp in inputs.impulses:
        if imp.state in remap:
            vec = modal.vector(remap[imp.state], amount(imp.amount_mg))
            kicks.setdefault(float(imp.at_min), []).append(vec)
    rates: list[NDArray[Any]] = []
    starts: dict[float, list[int]] = {}
    stops: dict[float, list[int]] = {}
    for r in inputs.rates:
        if r.state not in remap:
            continue
        starts.setdefault(float(r.start_min), []).append(len(rates))
        stops.setdefault(float(r.end_min), []).append(len(rates))
        rates.append(modal.vector(remap[r.state], amount(r.rate_mg_per_min)))
    z = modal.zeros()
    active: set[int] = set()
    segments = []
    for k, edge in enumerate(edges.tolist()):
        for v in kicks.get(edge, ()):
            z = z + v
        active.update(starts.get(edge, ()))
        active.difference_update(stops.get(edge, ()))
        # Rebuilt from the running set rather than added to and subtracted from, so no
        # rounding residue is left once every infusion has stopped.
        b = sum((rates[i] for i in sorted(active)), modal.zeros()) if active else None
        lo = int(np.searchsorted(t_out, edge, side="left"))
        if k + 1 < edges.size:
            end = float(edges[k + 1])
            hi = int(np.searchsorted(t_out, end, side="left"))
        else:
            hi = t_out.size
        segments.append(_Segment(edge, z, b, lo, hi))
        if k + 1 < edges.size:
            z = modal.advance(z, end - edge, b)
    return segments


def solve(
    a: Array,
    inputs: Inputs,
    times: Array,
    observed: Sequence[int],
    dtype: type[np.floating] = np.float64,
    scales: Sequence[Array | float] | None = None,
) -> list[NDArray[Any]]:
    """Values of the observed states at ``times`` (non-decreasing): one (T, n) per state."""
    traj = Trajectories(a, inputs, times, observed, scales)
    outs = [np.zeros((traj.t.size, traj.n), dtype=dtype) for _ in observed]
    for _ in traj.blocks(0, traj.t.size, dtype, into=outs):
        pass
    return outs


def _march(
    prop: _Dense,
    inputs: Inputs,
    t_out: Array,
    remap: dict[int, int],
    idx: NDArray[np.intp],
) -> list[Array]:
    """Step the dense propagator over every output time and input change: (T, n) each."""
    ys = [np.zeros((t_out.size, prop.n)) for _ in prop.observed]
    bps = np.asarray([t for t in inputs.breakpoints() if t <= t_out[-1]], dtype=float)
    nodes = np.unique(np.concatenate([t_out, bps]))
    out_at = np.searchsorted(nodes, t_out)
    first_out = np.searchsorted(out_at, np.arange(nodes.size), side="left")
    last_out = np.searchsorted(out_at, np.arange(nodes.size), side="right")
    node_of = {float(t): k for k, t in enumerate(nodes)}
    kicks: dict[int, list[Array]] = {}
    for imp in inputs.impulses:
        k = node_of.get(float(imp.at_min))
        if k is not None and imp.state in remap:
            kicks.setdefault(k, []).append(prop.vector(remap[imp.state], imp.amount_mg[idx]))
    starts: dict[int, list[Array]] = {}
    stops: dict[int, list[Array]] = {}
    active = 0
    for r in inputs.rates:
        if r.state not in remap or r.start_min > nodes[-1]:
            continue
        vec = prop.vector(remap[r.state], r.rate_mg_per_min[idx])
        starts.setdefault(node_of[float(r.start_min)], []).append(vec)
        end = node_of.get(float(r.end_min))
        if end is not None:
            stops.setdefault(end, []).append(vec)
    z = prop.zeros()
    b: Array | None = None
    for k in range(nodes.size):
        for v in kicks.get(k, ()):
            z += v
        if k in starts or k in stops:
            b = np.zeros_like(z) if b is None else b.copy()
            for v in starts.get(k, ()):
                b += v
                active += 1
            for v in stops.get(k, ()):
                b -= v
                active -= 1
            if active == 0:
                b = None
        for j in range(len(ys)):
            ys[j][first_out[k] : last_out[k]] = prop.observe(z, j)
        if k + 1 < nodes.size:
            prop.step(z, float(nodes[k + 1] - nodes[k]), b)
    return ys
