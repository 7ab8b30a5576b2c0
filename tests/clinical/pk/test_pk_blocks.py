"""The block-wise population path gives what the whole-array functions give."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from ketaclinic.clinical import pk
from ketaclinic.clinical.pk import solver
from ketaclinic.clinical.pk.events import Impulse, Inputs, RateInput, compile_inputs
from ketaclinic.clinical.pk.population import sample_covariates, sample_etas
from ketaclinic.clinical.pk.simulation import concentrations
from ketaclinic.clinical.pk.structure import System, build
from ketaclinic.clinical.pk.summary import (
    RunningPeak,
    RunningThresholds,
    block_percentiles,
    peak,
    percentiles,
    threshold_times,
)

T = np.round(np.arange(0.0, 360.0 + 1e-9, 10.0 / 60.0), 10)
EVENTS: list[pk.Event] = [
    pk.Bolus(2.0, 5.0),
    pk.Infusion(0.0, duration_min=40.0, amount_mg=35.0),
    pk.Pause(12.0, 15.5),
]


def population_system(model: str, n: int) -> tuple[System, Inputs]:
    rng = np.random.default_rng(1)
    info = pk.get_model(model)
    who = sample_covariates(pk.CovariateDistribution(), n, rng)
    system = build(info, who, sample_etas(info, n, rng))
    return system, compile_inputs(system, EVENTS)


def one_patient(inputs: Inputs, i: int) -> Inputs:
    return Inputs(
        tuple(Impulse(x.at_min, x.state, x.amount_mg[i : i + 1]) for x in inputs.impulses),
        tuple(
            RateInput(r.start_min, r.end_min, r.state, r.rate_mg_per_min[i : i + 1])
            for r in inputs.rates
        ),
        inputs.given,
    )


@pytest.mark.parametrize("model", ["hijazi", "esketamine"])
def test_many_patients_at_once_match_each_patient_alone(model: str) -> None:
    # 2,000 patients are solved in short blocks joined by exact steps; one patient alone
    # gets one factor table per input segment. The two must agree.
    system, inputs = population_system(model, 2000)
    many = solver.solve(system.a, inputs, T, [system.central])[0]
    for i in (0, 777, 1999):
        alone = solver.solve(system.a[i : i + 1], one_patient(inputs, i), T, [system.central])
        scale = np.abs(alone[0]).max()
        np.testing.assert_allclose(many[:, i], alone[0][:, 0], rtol=1e-9, atol=1e-12 * scale)


def test_ill_conditioned_patients_are_solved_by_matrix_exponential() -> None:
    # Equal rates in and out of a two-state chain make A defective: no eigenvector
    # basis. Such patients go to the dense path, the others stay modal.
    a = np.zeros((3, 2, 2))
    a[:, 0, 0], a[:, 1, 0], a[:, 1, 1] = -0.1, 0.1, [-0.1, -0.05, -0.2]
    inputs = Inputs((Impulse(0.0, 0, np.ones(3)),), (), ((0.0, 0.0, 1.0),))
    t = np.linspace(0.0, 60.0, 61)
    got = solver.solve(a, inputs, t, [1])[0]
    # x1(t) = 0.1 t e^{-0.1 t} for the defective patient; two exponentials otherwise.
    np.testing.assert_allclose(got[:, 0], 0.1 * t * np.exp(-0.1 * t), rtol=1e-9)
    for i, k in ((1, 0.05), (2, 0.2)):
        want = 0.1 / (k - 0.1) * (np.exp(-0.1 * t) - np.exp(-k * t))
        np.testing.assert_allclose(got[:, i], want, rtol=1e-9, atol=1e-15)


def test_block_percentiles_equal_numpys_on_smooth_curves() -> None:
    system, inputs = population_system("hijazi", 3001)
    plasma, effect, _ = concentrations(system, inputs, T, np.float32)
    assert effect is not None
    q = (0.0, 2.5, 5.0, 50.0, 95.0, 100.0)
    for c in (plasma, effect):
        want = np.percentile(c, q, axis=1)
        for lo in range(0, T.size, 32):
            block = c[lo : lo + 32].copy()
            got = block_percentiles(block, q)
            for i, p in enumerate(q):
                # The same order statistics, interpolated the same way in float64.
                np.testing.assert_allclose(got[p], want[i, lo : lo + 32], rtol=1e-12)


def test_percentiles_of_a_block_of_noise_fall_back_and_still_agree() -> None:
    x = np.random.default_rng(0).lognormal(size=(16, 999)).astype(np.float32)
    q = (5.0, 50.0, 95.0)
    got = block_percentiles(x.copy(), q)
    want = percentiles(x, q)
    for p in q:
        np.testing.assert_array_equal(got[p], want[p])


def test_running_figures_over_blocks_equal_the_whole_array_figures() -> None:
    system, inputs = population_system("hijazi", 500)
    plasma, *_ = concentrations(system, inputs, T, np.float32)
    halves = []
    for lo, hi in ((0, 1000), (1000, T.size)):
        top, thr = RunningPeak(500), RunningThresholds(500, (100.0, 50.0, 20.0))
        for s in range(lo, hi, 37):
            e = min(s + 37, hi)
            top.add(T[s:e], plasma[s:e])
            thr.add(T[s:e], plasma[s:e])
        halves.append((top, thr))
    (top, thr), (top2, thr2) = halves
    top.merge(top2)
    thr.merge(thr2)
    cp, tp = peak(T, plasma)
    np.testing.assert_array_equal(top.top, cp)
    np.testing.assert_array_equal(top.when, tp)
    for (above, below), level in zip(thr.results(), (100.0, 50.0, 20.0), strict=True):
        want_above, want_below = threshold_times(T, plasma, level)
        np.testing.assert_allclose(above, want_above, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(below, want_below, rtol=1e-12)


@pytest.mark.parametrize("threads", [1, 2])
def test_population_equals_the_whole_array_computation(
    threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The package re-exports the function under the module's name; take the module.
    pop = sys.modules["ketaclinic.clinical.pk.population"]
    monkeypatch.setattr(pop, "workers", lambda: threads)
    monkeypatch.setattr(pop, "_PARALLEL_VALUES", 0)
    n, q = 700, (5.0, 50.0, 95.0)
    r = pk.population("hijazi", n, pk.CovariateDistribution(), EVENTS, T, seed=4)
    # The same patients, as population samples them from the seed, in whole arrays.
    rng = np.random.default_rng(4)
    info = pk.get_model("hijazi")
    who = sample_covariates(pk.CovariateDistribution(), n, rng)
    system = build(info, who, sample_etas(info, n, rng))
    plasma, effect, _ = concentrations(system, compile_inputs(system, EVENTS), T, np.float32)
    assert effect is not None
    for p, want in zip(q, np.percentile(plasma, q, axis=1), strict=True):
        np.testing.assert_allclose(r.plasma_ng_ml[p], want, rtol=1e-12)
    assert r.effect_ng_ml is not None
    for p, want in zip(q, np.percentile(effect, q, axis=1), strict=True):
        np.testing.assert_allclose(r.effect_ng_ml[p], want, rtol=1e-12)
    cp, tp = peak(T, plasma)
    assert r.summary["peak_plasma_ng_ml_p50"] == pytest.approx(np.percentile(cp, 50), rel=1e-12)
    assert r.summary["time_of_peak_min_p95"] == pytest.approx(np.percentile(tp, 95), rel=1e-12)
    above, below = threshold_times(T, plasma, 50.0)
    got = r.summary["time_above_50_ng_ml_min_p50"]
    assert got == pytest.approx(np.percentile(above, 50), rel=1e-12)
    got = r.summary["below_50_ng_ml_by_min_p5"]
    assert got == pytest.approx(np.percentile(below[np.isfinite(below)], 5), rel=1e-12)


def test_blocks_keep_their_rows_however_many_patients(monkeypatch: pytest.MonkeyPatch) -> None:
    # Past 10,000 patients the values per block alone would leave blocks of the factor
    # table's 4 rows, and the bands' per-block work over every patient would be done
    # eight times as often. Here 700 patients stand in for 100,000 (budgets a hundredth
    # of the real ones): the blocks still hold 32 rows, and the bands are still numpy's.
    monkeypatch.setattr(solver, "_BLOCK_VALUES", 3_200)
    monkeypatch.setattr(solver, "_TABLE_VALUES", 800)
    n, q = 700, (5.0, 50.0, 95.0)
    rng = np.random.default_rng(4)
    info = pk.get_model("hijazi")
    who = sample_covariates(pk.CovariateDistribution(), n, rng)
    system = build(info, who, sample_etas(info, n, rng))
    inputs = compile_inputs(system, EVENTS)
    traj = solver.Trajectories(system.a, inputs, T, [system.central])
    assert traj.table_rows == 4 and traj.block_rows == solver._BLOCK_MIN_ROWS == 32
    sizes = [s1 - s0 for s0, s1, _ in traj.blocks(0, T.size, np.float32)]
    assert sum(sizes) == T.size and max(sizes) == 32
    assert sum(size >= 28 for size in sizes) >= len(sizes) - 4  # short only at input changes
    r = pk.population("hijazi", n, pk.CovariateDistribution(), EVENTS, T, seed=4)
    plasma, *_ = concentrations(system, inputs, T, np.float32)
    for p, want in zip(q, np.percentile(plasma, q, axis=1), strict=True):
        np.testing.assert_allclose(r.plasma_ng_ml[p], want, rtol=1e-12)
