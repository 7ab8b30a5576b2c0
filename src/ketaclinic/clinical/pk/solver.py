"""Exact solution of dx/dt = A x + u for piecewise-constant u, many patients at once.

Each patient's A is diagonalised once (A = V diag(lambda) V^-1); in modal coordinates a
step of length h with constant input b is z <- exp(lambda h) z + expm1(lambda h)/lambda b,
exact up to rounding, so the time grid only decides where results are reported, never
how accurate they are. Steps are taken over the union of output times and input
breakpoints, and step factors are cached by step length, so a uniform grid costs one
``exp`` per distinct step. Patients whose eigenvectors are ill-conditioned (near-equal
eigenvalues) are solved with the matrix exponential instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import expm

from ketaclinic.clinical.pk.events import Inputs

Array = NDArray[np.float64]
_COND_LIMIT = 1e8


class _Propagator(Protocol):
    def vector(self, state: int, amount: Array) -> NDArray[Any]: ...
    def step(self, z: NDArray[Any], h: float, b: NDArray[Any] | None) -> None: ...
    def observe(self, z: NDArray[Any], j: int) -> Array: ...
    def zeros(self) -> NDArray[Any]: ...


class _Modal:
    """Modal coordinates, stored mode-major (s, n) so each update is a contiguous sweep."""

    def __init__(self, a: Array, observed: Sequence[int]) -> None:
        lam, vec = np.linalg.eig(a)
        if np.iscomplexobj(lam) and np.abs(lam.imag).max() <= 1e-12 * np.abs(lam).max():
            # Compartment models have real spectra; drop rounding noise in the imaginary part.
            lam, vec = lam.real, vec.real
        self.vec = vec
        self.vinv = np.linalg.inv(vec)
        self.lam = np.ascontiguousarray(lam.T)
        self.obs = [np.ascontiguousarray(vec[:, j, :].T) for j in observed]
        self._cache: dict[float, tuple[NDArray[Any], NDArray[Any]]] = {}
        self.s, self.n = self.lam.shape

    def zeros(self) -> NDArray[Any]:
        return np.zeros((self.s, self.n), dtype=self.lam.dtype)

    def vector(self, state: int, amount: Array) -> NDArray[Any]:
        return np.ascontiguousarray(self.vinv[:, :, state].T) * amount[None, :]

    def factors(self, h: float) -> tuple[NDArray[Any], NDArray[Any]]:
        key = round(h, 9)
        hit = self._cache.get(key)
        if hit is None:
            x = self.lam * h
            r = np.exp(x)
            small = np.abs(x) < 1e-300
            safe = np.where(small, 1.0, self.lam)
            phi = np.where(small, h, np.expm1(x) / safe)
            hit = (r, phi)
            self._cache[key] = hit
        return hit

    def step(self, z: NDArray[Any], h: float, b: NDArray[Any] | None) -> None:
        r, phi = self.factors(h)
        np.multiply(z, r, out=z)
        if b is not None:
            z += phi * b

    def observe(self, z: NDArray[Any], j: int) -> Array:
        # A short loop of whole-array ufuncs: faster than einsum for a handful of modes.
        w = self.obs[j]
        y = w[0] * z[0]
        for i in range(1, self.s):
            y += w[i] * z[i]
        return y.real if np.iscomplexobj(y) else y

    def sweep(self, z: NDArray[Any], tau: Array, b: NDArray[Any] | None) -> NDArray[Any]:
        """States at every offset tau from now, in one shot: (s, len(tau), n)."""
        x = self.lam[:, None, :] * tau[None, :, None]
        out = np.exp(x) * z[:, None, :]
        if b is not None:
            small = np.abs(x) < 1e-300
            safe = np.where(small, 1.0, self.lam[:, None, :])
            phi = np.where(small, tau[None, :, None], np.expm1(x) / safe)
            out += phi * b[:, None, :]
        return out

    def observe_many(self, zs: NDArray[Any], j: int) -> Array:
        """Observed values for stacked states zs (s, L, n); plain ufuncs release the GIL."""
        w = self.obs[j]
        y = zs[0] * w[0]
        for i in range(1, self.s):
            y += zs[i] * w[i]
        return y.real if np.iscomplexobj(y) else y


_SWEEP_MAX_PATIENTS = 64
"""Up to this many patients a closed-form sweep (one exponential per mode and time) beats
the per-step loop's Python overhead; beyond it the recursion (one multiply per step, no
exponentials) is cheaper."""


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


def solve(
    a: Array,
    inputs: Inputs,
    times: Array,
    observed: Sequence[int],
    dtype: type[np.floating] = np.float64,
) -> list[NDArray[Any]]:
    """Values of the observed states at ``times`` (non-decreasing): one (T, n) per state."""
    n, t_out = a.shape[0], np.asarray(times, dtype=float)
    outs = [np.zeros((t_out.shape[0], n), dtype=dtype) for _ in observed]
    sources = {i.state for i in inputs.impulses} | {r.state for r in inputs.rates}
    keep = relevant_states(a, sources, observed)
    live = [(j, keep.index(s)) for j, s in enumerate(observed) if s in keep]
    if not live or t_out.size == 0:
        return outs
    sub = a[:, keep][:, :, keep]
    local = [k for _, k in live]
    remap = {s: i for i, s in enumerate(keep)}
    modal = _Modal(sub, local)
    cond = np.linalg.norm(modal.vinv, axis=(1, 2)) * np.linalg.norm(modal.vec, axis=(1, 2))
    bad = ~np.isfinite(cond) | (cond > _COND_LIMIT)
    groups: list[tuple[NDArray[np.intp], _Propagator]] = []
    if bad.any():
        good_idx, bad_idx = np.nonzero(~bad)[0], np.nonzero(bad)[0]
        if good_idx.size:
            groups.append((good_idx, _Modal(sub[good_idx], local)))
        groups.append((bad_idx, _Dense(sub[bad_idx], local)))
    else:
        groups.append((np.arange(n), modal))
    for idx, prop in groups:
        if idx.size == n:
            _march(prop, inputs, t_out, [outs[j] for j, _ in live], remap, idx)
            continue
        part = [np.zeros((t_out.size, idx.size), dtype=dtype) for _ in live]
        _march(prop, inputs, t_out, part, remap, idx)
        for (j, _), y in zip(live, part, strict=True):
            outs[j][:, idx] = y
    return outs


def _march(
    prop: _Propagator,
    inputs: Inputs,
    t_out: Array,
    ys: list[NDArray[Any]],
    remap: dict[int, int],
    idx: NDArray[np.intp],
) -> None:
    bps = np.asarray([t for t in inputs.breakpoints() if t <= t_out[-1]], dtype=float)
    nodes = np.unique(np.concatenate([t_out, bps]))
    out_at = np.searchsorted(nodes, t_out)
    first_out = np.searchsorted(out_at, np.arange(nodes.size), side="left")
    last_out = np.searchsorted(out_at, np.arange(nodes.size), side="right")
    node_of = {float(t): k for k, t in enumerate(nodes)}
    kicks: dict[int, list[NDArray[Any]]] = {}
    for imp in inputs.impulses:
        k = node_of.get(float(imp.at_min))
        if k is not None and imp.state in remap:
            kicks.setdefault(k, []).append(prop.vector(remap[imp.state], imp.amount_mg[idx]))
    starts: dict[int, list[NDArray[Any]]] = {}
    stops: dict[int, list[NDArray[Any]]] = {}
    active = 0
    for r in inputs.rates:
        if r.state not in remap or r.start_min > nodes[-1]:
            continue
        vec = prop.vector(remap[r.state], r.rate_mg_per_min[idx])
        starts.setdefault(node_of[float(r.start_min)], []).append(vec)
        end = node_of.get(float(r.end_min))
        if end is not None:
            stops.setdefault(end, []).append(vec)
    m = len(ys)
    z = prop.zeros()
    b: NDArray[Any] | None = None
    breaks_set = set(kicks) | set(starts) | set(stops) | {nodes.size - 1}
    breaks = sorted(breaks_set)
    last = nodes.size - 1
    k = 0
    while True:
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
        if k == last:
            for j in range(m):
                ys[j][first_out[k] : last_out[k]] = prop.observe(z, j)
            return
        nxt = next(i for i in breaks if i > k)
        if isinstance(prop, _Modal) and prop.n <= _SWEEP_MAX_PATIENTS:
            # Few patients: every output time up to the next input change at once.
            zs = prop.sweep(z, nodes[k : nxt + 1] - nodes[k], b)
            lo, hi = first_out[k], first_out[nxt]
            if hi > lo:
                rows = out_at[lo:hi] - k
                for j in range(m):
                    ys[j][lo:hi] = prop.observe_many(zs[:, rows, :], j)
            z = np.ascontiguousarray(zs[:, -1, :])
            k = nxt
            continue
        lo, hi = first_out[k], last_out[k]
        if hi > lo:
            for j in range(m):
                ys[j][lo:hi] = prop.observe(z, j)
        prop.step(z, float(nodes[k + 1] - nodes[k]), b)
        k += 1
