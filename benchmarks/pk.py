"""Speed of ketaclinic.clinical.pk against a per-patient solve_ivp, on this machine.

Run: .venv/bin/python benchmarks/pk.py

Workload: 0.5 mg/kg racemic ketamine over 40 minutes (Hijazi model, the racemic model
with published inter-individual variability), followed to 6 hours at 10-second
resolution (2161 output times). The population run includes everything ``population``
returns: 5/50/95th percentile bands for plasma and effect site and per-patient summaries.
The same population of 100,000 is timed too, with its ratio to 10,000 (about 10x
when the cost is linear in the patients). The last line printed is a JSON object.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable

import numpy as np
from scipy.integrate import solve_ivp

from ketaclinic.clinical import pk
from ketaclinic.clinical.pk.events import compile_inputs
from ketaclinic.clinical.pk.population import sample_covariates, sample_etas
from ketaclinic.clinical.pk.structure import build

MODEL = "hijazi"
N = 10_000
# Ten times the patients should cost about ten times as much (the bands included).
N_LARGE = 100_000
SUBSET = 20
TIMES = np.round(np.arange(0.0, 360.0 + 1e-9, 10.0 / 60.0), 10)
PATIENT = pk.Patient(weight_kg=70.0)
EVENTS: list[pk.Event] = [pk.Infusion(0.0, duration_min=40.0, amount_mg=35.0)]
WHO = pk.CovariateDistribution()


def timings(fn: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """The median: on a shared machine the minimum flatters and the mean wanders."""
    return statistics.median(timings(fn, repeat))


def solve_ivp_subset() -> tuple[float, float]:
    """Seconds per patient with RK45 (rtol 1e-10, atol 1e-12), and worst relative gap."""
    rng = np.random.default_rng(1)
    info = pk.get_model(MODEL)
    system = build(info, sample_covariates(WHO, SUBSET, rng), sample_etas(info, SUBSET, rng))
    inputs = compile_inputs(system, EVENTS)
    rate = inputs.rates[0].rate_mg_per_min
    pieces = [(0.0, 40.0, True), (40.0, 360.0, False)]
    worst = 0.0
    start = time.perf_counter()
    for i in range(SUBSET):
        a = system.a[i]
        x = np.zeros(a.shape[0])
        plasma = []
        for lo, hi, on in pieces:
            u = np.zeros(a.shape[0])
            if on:
                u[system.central] = rate[i]

            def rhs(t: float, y: np.ndarray, a: np.ndarray = a, u: np.ndarray = u) -> np.ndarray:
                return a @ y + u

            inside = TIMES[(lo <= TIMES) & (hi > TIMES) | (hi == TIMES) & (hi == TIMES[-1])]
            t_eval = np.unique(np.concatenate([inside, [hi]]))
            sol = solve_ivp(rhs, (lo, hi), x, method="RK45", rtol=1e-10, atol=1e-12,
                            t_eval=t_eval)  # fmt: skip
            keep = np.isin(sol.t, inside)
            plasma.append(sol.y[system.central, keep] / system.v_central_l[i] * 1000)
            x = sol.y[:, -1]
        worst = max(worst, _gap(system, inputs, i, np.concatenate(plasma)))
    per_patient = (time.perf_counter() - start) / SUBSET
    return per_patient, worst


def _gap(system: object, inputs: object, i: int, reference: np.ndarray) -> float:
    from ketaclinic.clinical.pk.simulation import concentrations

    plasma, _, _ = concentrations(system, inputs, TIMES)  # type: ignore[arg-type]
    ours = plasma[:, i]
    mask = reference > 1e-6 * reference.max()
    return float(np.max(np.abs(ours[mask] - reference[mask]) / reference[mask]))


def solver_only() -> None:
    """The same 10,000 patients without bands or summaries: the solver's own share."""
    from ketaclinic.clinical.pk.simulation import concentrations

    rng = np.random.default_rng(1)
    info = pk.get_model(MODEL)
    system = build(info, sample_covariates(WHO, N, rng), sample_etas(info, N, rng))
    concentrations(system, compile_inputs(system, EVENTS), TIMES, np.float32)


def main() -> None:
    pk.population(MODEL, 100, WHO, EVENTS, TIMES, seed=0)  # warm caches and imports
    runs = timings(lambda: pk.population(MODEL, N, WHO, EVENTS, TIMES, seed=1), 5)
    population_s, population_min_s = statistics.median(runs), min(runs)
    large = timings(lambda: pk.population(MODEL, N_LARGE, WHO, EVENTS, TIMES, seed=1), 3)
    large_s = statistics.median(large)
    single_s = best_of(lambda: pk.simulate(MODEL, PATIENT, EVENTS, TIMES), 50)
    solve_s = best_of(solver_only, 5)
    per_patient_ivp, worst = solve_ivp_subset()
    ivp_10k = per_patient_ivp * N
    esk_s = best_of(
        lambda: pk.population("esketamine", N, WHO, [pk.Infusion(0.0, 40.0, amount_mg=28.0)],
                              TIMES, seed=1),
        3,
    )  # fmt: skip
    print(f"model {MODEL}: 0.5 mg/kg over 40 min, 6 h at 10 s ({TIMES.size} output times)")
    print(f"population of {N:,} (bands + summaries): {population_s:.3f} s")
    print(f"  fastest of the runs:                {population_min_s:.3f} s")
    print(f"  of which sampling + solving:        {solve_s:.3f} s")
    print(f"one patient:                          {single_s * 1000:.2f} ms")
    print(f"solve_ivp RK45 per patient ({SUBSET} run): {per_patient_ivp * 1000:.1f} ms")
    print(f"solve_ivp scaled to {N:,}:             {ivp_10k:.1f} s")
    print(f"ratio solve_ivp / population:         {ivp_10k / population_s:.0f}x")
    print(f"ratio solve_ivp / one patient:        {per_patient_ivp / single_s:.0f}x")
    print(f"worst relative gap vs solve_ivp:      {worst:.2e}")
    print(f"esketamine (9-state) population of {N:,}: {esk_s:.3f} s")
    print(f"population of {N_LARGE:,} (bands + summaries): {large_s:.3f} s")
    print(f"  ratio to {N:,}:                     {large_s / population_s:.1f}x (linear: 10x)")
    print(
        f"ratio solve_ivp / population of {N_LARGE:,}: {per_patient_ivp * N_LARGE / large_s:.0f}x"
    )
    print(
        json.dumps(
            {
                "model": MODEL,
                "n": N,
                "output_times": int(TIMES.size),
                "population_10k_s": round(population_s, 4),
                "population_10k_fastest_s": round(population_min_s, 4),
                "population_10k_solve_only_s": round(solve_s, 4),
                "single_patient_s": round(single_s, 6),
                "solve_ivp_per_patient_s": round(per_patient_ivp, 5),
                "solve_ivp_10k_scaled_s": round(ivp_10k, 2),
                "solve_ivp_ratio": round(ivp_10k / population_s, 1),
                "single_patient_solve_ivp_ratio": round(per_patient_ivp / single_s, 1),
                "max_relative_gap": worst,
                "esketamine_population_10k_s": round(esk_s, 4),
                "population_100k_s": round(large_s, 4),
                "population_100k_over_10k": round(large_s / population_s, 2),
                "solve_ivp_ratio_100k": round(per_patient_ivp * N_LARGE / large_s, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
