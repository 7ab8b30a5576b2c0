"""One patient: concentrations in every compartment over time, and what they add up to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ketaclinic.clinical.pk import solver
from ketaclinic.clinical.pk.events import Event, Inputs, compile_inputs
from ketaclinic.clinical.pk.models import NMDA_KI_UM, ModelInfo, get_model, racemic_ki_um
from ketaclinic.clinical.pk.patient import Covariates, Patient
from ketaclinic.clinical.pk.structure import System, build
from ketaclinic.clinical.pk.summary import Summary, nmda_occupancy, summarise

Array = NDArray[np.float64]

DEFAULT_THRESHOLDS_NG_ML = (100.0, 50.0)
"""Dissociation reported at 100-250 ng/mL (Krystal 1994) and effects linear in
concentration from 50 ng/mL (Bowdle 1998), both via Zanos et al. Pharmacol Rev 2018."""


def resolve(model: str | ModelInfo) -> ModelInfo:
    return get_model(model) if isinstance(model, str) else model


def ki_um(model: ModelInfo) -> float:
    if model.drug == "esketamine":
        return NMDA_KI_UM["esketamine"].value
    return racemic_ki_um()


@dataclass(frozen=True)
class Result:
    model: ModelInfo
    t_min: Array
    plasma_ng_ml: Array
    effect_ng_ml: Array | None
    metabolite_ng_ml: Array | None
    amounts_mg: dict[str, Array]
    given_mg: Array
    delivered_mg: Array
    eliminated_mg: Array

    @property
    def in_body_mg(self) -> Array:
        keep = [v for k, v in self.amounts_mg.items() if k not in ("sink", "effect")]
        return np.sum(keep, axis=0) if keep else np.zeros_like(self.t_min)

    def nmda_occupancy(self, site: str = "effect") -> Array:
        c = self.effect_ng_ml if site == "effect" and self.effect_ng_ml is not None else None
        return nmda_occupancy(self.plasma_ng_ml if c is None else c, ki_um(self.model))

    def summary(self, thresholds_ng_ml: Sequence[float] = DEFAULT_THRESHOLDS_NG_ML) -> Summary:
        return summarise(
            self.t_min,
            self.plasma_ng_ml,
            self.effect_ng_ml,
            self.metabolite_ng_ml,
            ki_um(self.model),
            tuple(thresholds_ng_ml),
        )


def check_times(times: Sequence[float] | Array) -> Array:
    t = np.asarray(times, dtype=float).ravel()
    if t.size == 0:
        raise ValueError("give at least one output time")
    if not np.all(np.isfinite(t)):
        raise ValueError("output times must be finite")
    if np.any(np.diff(t) < 0):
        raise ValueError("output times must be in increasing order")
    return t


def concentrations(
    system: System, inputs: Inputs, t: Array, dtype: type[np.floating] = np.float64
) -> tuple[NDArray[Any], NDArray[Any] | None, NDArray[Any] | None]:
    """Plasma, effect-site and metabolite concentrations in ng/mL, each (T, n)."""
    observed, scales = observed_states(system)
    plasma, *rest = solver.solve(system.a, inputs, t, observed, dtype, scales)
    effect = rest.pop(0) if system.effect is not None else None
    metabolite = rest.pop(0) if system.metabolite is not None else None
    return plasma, effect, metabolite


def observed_states(system: System) -> tuple[list[int], list[Array | float]]:
    """Plasma, then effect site and metabolite where the model has them, with the factor
    from each state's content to ng/mL (mg/L is ug/mL: x1000 gives ng/mL)."""
    observed: list[int] = [system.central]
    scales: list[Array | float] = [1000.0 / system.v_central_l]
    if system.effect is not None:
        observed.append(system.effect)
        scales.append(1000.0)
    if system.metabolite is not None:
        assert system.v_metabolite_l is not None
        observed.append(system.metabolite)
        scales.append(1000.0 / system.v_metabolite_l)
    return observed, scales


def simulate(
    model: str | ModelInfo,
    patient: Patient,
    events: Sequence[Event],
    times: Sequence[float] | Array,
) -> Result:
    """Predict one patient's concentrations at ``times`` (minutes) after ``events``."""
    info = resolve(model)
    t = check_times(times)
    system = build(info, Covariates.of(patient))
    inputs = compile_inputs(system, list(events))
    outs = solver.solve(system.a, inputs, t, list(range(len(system.states))))
    amounts = {name: outs[i][:, 0] for i, name in enumerate(system.states)}
    plasma = amounts[system.states[system.central]] / system.v_central_l[0] * 1000.0
    effect = amounts["effect"] * 1000.0 if system.effect is not None else None
    metabolite = None
    if system.metabolite is not None:
        assert system.v_metabolite_l is not None
        metabolite = amounts[system.states[system.metabolite]] / system.v_metabolite_l[0] * 1000
    return Result(
        model=info,
        t_min=t,
        plasma_ng_ml=plasma,
        effect_ng_ml=effect,
        metabolite_ng_ml=metabolite,
        amounts_mg=amounts,
        given_mg=inputs.given_mg(t),
        delivered_mg=inputs.delivered_mg(t)[0],
        eliminated_mg=amounts["sink"],
    )
