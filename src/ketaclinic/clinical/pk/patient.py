"""Who is being simulated: one patient, or a distribution of covariates for a population."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Sex = Literal["female", "male"]


@dataclass(frozen=True)
class Patient:
    weight_kg: float
    age: float = 40.0
    sex: Sex | None = None
    height_cm: float | None = None
    asian: bool = False
    japanese: bool = False

    def __post_init__(self) -> None:
        if not 1.0 <= self.weight_kg <= 400.0:
            raise ValueError(f"weight {self.weight_kg} kg is outside 1-400 kg")
        if not 0.0 <= self.age <= 120.0:
            raise ValueError(f"age {self.age} is outside 0-120 years")
        if self.sex not in (None, "female", "male"):
            raise ValueError(f"sex must be 'female' or 'male', not {self.sex!r}")
        if self.japanese and not self.asian:
            raise ValueError("a Japanese patient is also Asian in the esketamine model")


@dataclass(frozen=True)
class CovariateDistribution:
    """Covariates of a virtual population.

    Weight is normal, truncated to [weight_min_kg, weight_max_kg]; age is uniform. The
    defaults are illustrative ranges for adult clinic patients, not published figures.
    """

    weight_mean_kg: float = 75.0
    weight_sd_kg: float = 15.0
    weight_min_kg: float = 40.0
    weight_max_kg: float = 150.0
    age_min: float = 18.0
    age_max: float = 75.0
    female_fraction: float = 0.5
    asian_fraction: float = 0.0


@dataclass(frozen=True)
class Covariates:
    """Covariates of n patients as arrays, the form the model builders take."""

    weight_kg: NDArray[np.float64]
    age: NDArray[np.float64]
    asian: NDArray[np.bool_]
    japanese: NDArray[np.bool_]

    @property
    def n(self) -> int:
        return int(self.weight_kg.shape[0])

    @classmethod
    def of(cls, patient: Patient, n: int = 1) -> Covariates:
        return cls(
            weight_kg=np.full(n, float(patient.weight_kg)),
            age=np.full(n, float(patient.age)),
            asian=np.full(n, patient.asian),
            japanese=np.full(n, patient.japanese),
        )

    @classmethod
    def sample(cls, dist: CovariateDistribution, n: int, rng: np.random.Generator) -> Covariates:
        weight = rng.normal(dist.weight_mean_kg, dist.weight_sd_kg, n)
        bad = (weight < dist.weight_min_kg) | (weight > dist.weight_max_kg)
        # Redraw out-of-range weights rather than clip them, so the bounds hold no mass.
        while bad.any():
            weight[bad] = rng.normal(dist.weight_mean_kg, dist.weight_sd_kg, int(bad.sum()))
            bad = (weight < dist.weight_min_kg) | (weight > dist.weight_max_kg)
        age = rng.uniform(dist.age_min, dist.age_max, n)
        asian = rng.random(n) < dist.asian_fraction
        return cls(weight, age, asian, np.zeros(n, dtype=bool))

    @classmethod
    def resample(
        cls, patients: list[Patient] | tuple[Patient, ...], n: int, rng: np.random.Generator
    ) -> Covariates:
        pick = rng.integers(0, len(patients), n)
        chosen = [patients[i] for i in pick]
        return cls(
            weight_kg=np.array([p.weight_kg for p in chosen], dtype=float),
            age=np.array([p.age for p in chosen], dtype=float),
            asian=np.array([p.asian for p in chosen], dtype=bool),
            japanese=np.array([p.japanese for p in chosen], dtype=bool),
        )
