"""Virtual populations: reproducible, ordered bands, honest about missing variability."""

from __future__ import annotations

import numpy as np
import pytest

from ketaclinic.clinical import pk
from ketaclinic.clinical.pk.summary import percentiles

T = np.arange(0.0, 241.0, 2.0)
INFUSION = [pk.Infusion(0.0, duration_min=40.0, amount_mg=35.0)]


def test_a_seed_makes_the_population_reproducible() -> None:
    a = pk.population("hijazi", 500, pk.CovariateDistribution(), INFUSION, T, seed=7)
    b = pk.population("hijazi", 500, pk.CovariateDistribution(), INFUSION, T, seed=7)
    c = pk.population("hijazi", 500, pk.CovariateDistribution(), INFUSION, T, seed=8)
    np.testing.assert_array_equal(a.plasma_ng_ml[50.0], b.plasma_ng_ml[50.0])
    assert a.summary == b.summary
    assert not np.array_equal(a.plasma_ng_ml[95.0], c.plasma_ng_ml[95.0])


@pytest.mark.parametrize("model", ["hijazi", "esketamine_perez_ruixo"])
def test_percentile_bands_are_ordered(model: str) -> None:
    r = pk.population(model, 400, pk.Patient(70), INFUSION, T, seed=1)
    p5, p50, p95 = r.plasma_ng_ml[5.0], r.plasma_ng_ml[50.0], r.plasma_ng_ml[95.0]
    assert np.all(p5 <= p50) and np.all(p50 <= p95)
    assert np.any(p5 < p95)
    s = r.summary
    assert s["peak_plasma_ng_ml_p5"] <= s["peak_plasma_ng_ml_p50"] <= s["peak_plasma_ng_ml_p95"]


def test_a_model_without_published_variability_says_its_bands_are_covariates_only() -> None:
    r = pk.population("domino", 200, pk.Patient(70), INFUSION, T, seed=1)
    np.testing.assert_allclose(r.plasma_ng_ml[5.0], r.plasma_ng_ml[95.0], rtol=1e-5)
    assert "covariates only" in r.note


def test_the_median_patient_of_a_fixed_weight_population_resembles_the_typical_patient() -> None:
    pop = pk.population("hijazi", 4000, pk.Patient(70), INFUSION, T, seed=3)
    one = pk.simulate("hijazi", pk.Patient(70), INFUSION, T)
    # Log-normal variability on volumes: the median peak sits near, not at, the
    # typical-value prediction (peak is not linear in the parameters).
    assert pop.summary["peak_plasma_ng_ml_p50"] == pytest.approx(
        one.summary().peak_plasma_ng_ml, rel=0.10
    )


def test_fast_percentiles_equal_numpys() -> None:
    x = np.random.default_rng(0).lognormal(size=(30, 1001))
    q = (2.5, 5.0, 50.0, 95.0, 100.0)
    got = percentiles(x, q)
    want = np.percentile(x, q, axis=1)
    for i, p in enumerate(q):
        np.testing.assert_allclose(got[p], want[i], rtol=1e-12)


@pytest.mark.slow
def test_ten_thousand_patients_run_in_well_under_a_few_seconds() -> None:
    import time

    t = np.arange(0.0, 361.0, 1 / 6)
    start = time.perf_counter()
    pk.population("hijazi", 10_000, pk.CovariateDistribution(), INFUSION, t, seed=1)
    assert time.perf_counter() - start < 5.0
