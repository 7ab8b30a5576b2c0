"""Turn a declared model into compartment matrices for n patients.

The system is dx/dt = A x + u, x in mg (the effect site in mg/L), time in minutes.
A ``sink`` state collects every amount eliminated so that mass balance can be checked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ketaclinic.clinical.pk.models import ABSORPTION, ModelInfo
from ketaclinic.clinical.pk.patient import Covariates

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Path:
    """Where a fraction of a dose goes: instantly (duration 0) or at a constant rate."""

    state: int
    fraction: Array
    duration_min: float = 0.0


@dataclass(frozen=True)
class System:
    model: ModelInfo
    states: tuple[str, ...]
    a: Array
    central: int
    v_central_l: Array
    sink: int
    effect: int | None = None
    metabolite: int | None = None
    v_metabolite_l: Array | None = None
    fr_nasal: Array | None = None

    @property
    def n(self) -> int:
        return int(self.a.shape[0])

    @property
    def mass_states(self) -> tuple[int, ...]:
        skip = {self.sink, self.effect}
        return tuple(i for i in range(len(self.states)) if i not in skip)

    def paths(self, route: str, dose_mg: float, device_number: int | None = None) -> list[Path]:
        if route not in self.model.routes:
            routes = ", ".join(self.model.routes)
            raise ValueError(f"model {self.model.id!r} has no route {route!r}; it has {routes}")
        ones = np.ones(self.n)
        if route == "iv":
            return [Path(self.central, ones)]
        if self.model.id == "esketamine_perez_ruixo":
            return _esketamine_paths(self, route, dose_mg, device_number)
        f = ABSORPTION[route].bioavailability.value
        return [Path(self.states.index(f"depot_{route}"), ones * f)]


def build(model: ModelInfo, cov: Covariates, eta: Mapping[str, Array] | None = None) -> System:
    eta = eta or {}
    if model.id == "esketamine_perez_ruixo":
        return _esketamine(model, cov, eta)
    return _racemic(model, cov, eta)


def _e(eta: Mapping[str, Array], name: str, n: int) -> Array:
    return np.exp(eta[name]) if name in eta else np.ones(n)


def _racemic(model: ModelInfo, cov: Covariates, eta: Mapping[str, Array]) -> System:
    n, w = cov.n, cov.weight_kg
    if model.id == "kamp":
        v1 = model.value("V") * w / 70.0
        cl = model.value("CL") / 60.0 * (w / 70.0) ** 0.75
        k10, k12, k21, k13, k31 = cl / v1, 0.0, 0.0, 0.0, 0.0
        peripheral = 0
    else:
        v1 = model.value("V1") * w * _e(eta, "V", n)
        # Clearance IIV and volume IIV both act on k10 = CL/V1.
        k10 = model.value("k10") * _e(eta, "CL", n) / _e(eta, "V", n)
        k12, k21 = model.value("k12"), model.value("k21")
        peripheral = 2 if model.has("k13") else 1
        k13 = model.value("k13") if peripheral == 2 else 0.0
        k31 = model.value("k31") if peripheral == 2 else 0.0
    names = ["central"] + [f"peripheral{i + 1}" for i in range(peripheral)]
    routes = [r for r in model.routes if r != "iv"]
    names += [f"depot_{r}" for r in routes]
    has_effect = model.has("ke0")
    names += ["effect"] if has_effect else []
    names += ["sink"]
    idx = {s: i for i, s in enumerate(names)}
    a = np.zeros((n, len(names), len(names)))
    c = idx["central"]
    a[:, c, c] = -(k10 + k12 + k13)
    a[:, idx["sink"], c] = k10
    for p, kin, kout in ((1, k12, k21), (2, k13, k31)):
        if p <= peripheral:
            pi = idx[f"peripheral{p}"]
            a[:, pi, c] = kin
            a[:, c, pi] = kout
            a[:, pi, pi] = -kout
    for r in routes:
        d, ka = idx[f"depot_{r}"], ABSORPTION[r].ka_per_min.value
        a[:, d, d] = -ka
        a[:, c, d] = ka
    effect = None
    if has_effect:
        effect, ke0 = idx["effect"], model.value("ke0")
        a[:, effect, c] = ke0 / v1
        a[:, effect, effect] = -ke0
    return System(model, tuple(names), a, c, np.broadcast_to(v1, (n,)).copy(), idx["sink"], effect)


ESK_STATES = (
    "depot_nasal",
    "depot_swallowed",
    "depot_oral",
    "central",
    "peripheral1",
    "peripheral2",
    "liver",
    "noresketamine_central",
    "noresketamine_peripheral",
    "sink",
)


def _esketamine(model: ModelInfo, cov: Covariates, eta: Mapping[str, Array]) -> System:
    n, p = cov.n, model.value
    per_min = 1.0 / 60.0
    vc = p("Vc") * _e(eta, "Vc", n)
    vp1 = p("Vp1") * _e(eta, "Vp1", n)
    vp2 = p("Vp2")
    vh = p("Vh") * _e(eta, "Vh", n)
    q1, q2 = p("Q1") * per_min, p("Q2") * per_min
    qh_typ = p("Qh") - p("age_on_Qh") * np.maximum(0.0, cov.age - 60.0)
    qh = qh_typ * _e(eta, "Qh", n) * per_min
    kel = p("kel") * per_min * _e(eta, "kel", n) * np.where(cov.asian, p("asian_on_kel"), 1.0)
    kmet = p("kmet") * per_min
    vcn = p("Vcn") * _e(eta, "Vcn", n)
    cln = p("CLn") * per_min * _e(eta, "CLn", n) * np.where(cov.asian, p("asian_on_CLn"), 1.0)
    q3, vpn = p("Q3") * per_min, p("Vpn")
    ka_n = p("ka_n") * per_min * _e(eta, "ka_n", n)
    ka_sw = p("ka_sw") * per_min * _e(eta, "ka_sw", n)
    ka_po = p("ka_po") * per_min * _e(eta, "ka_po", n)
    logit = math.log(p("FRn") / (1.0 - p("FRn"))) + eta.get("FRn", np.zeros(n))
    frn = 1.0 / (1.0 + np.exp(-logit)) * np.where(cov.japanese, p("japanese_on_FRn"), 1.0)
    frn = np.minimum(frn, 1.0)

    i = {s: k for k, s in enumerate(ESK_STATES)}
    a = np.zeros((n, len(ESK_STATES), len(ESK_STATES)))

    def flow(src: str, dst: str, k: Array | float) -> None:
        a[:, i[src], i[src]] -= k
        a[:, i[dst], i[src]] += k

    flow("depot_nasal", "central", ka_n)
    flow("depot_swallowed", "liver", ka_sw)
    flow("depot_oral", "liver", ka_po)
    flow("central", "peripheral1", q1 / vc)
    flow("peripheral1", "central", q1 / vp1)
    flow("central", "peripheral2", q2 / vc)
    flow("peripheral2", "central", q2 / vp2)
    flow("central", "liver", qh / vc)
    flow("liver", "central", qh / vh)
    flow("liver", "sink", kel)
    flow("liver", "noresketamine_central", kmet)
    flow("noresketamine_central", "sink", cln / vcn)
    flow("noresketamine_central", "noresketamine_peripheral", q3 / vcn)
    flow("noresketamine_peripheral", "noresketamine_central", q3 / vpn)
    return System(
        model,
        ESK_STATES,
        a,
        i["central"],
        np.broadcast_to(vc, (n,)).copy(),
        i["sink"],
        None,
        i["noresketamine_central"],
        np.broadcast_to(vcn, (n,)).copy(),
        frn,
    )


def _esketamine_paths(
    system: System, route: str, dose_mg: float, device_number: int | None = None
) -> list[Path]:
    p, n = system.model.value, system.n
    i = {s: k for k, s in enumerate(system.states)}
    if route == "oral":
        return [Path(i["depot_oral"], np.full(n, p("Fgut")), p("Dpo") * 60.0)]
    assert system.fr_nasal is not None
    # Each 28 mg device after the first is absorbed less through the nose (Table 3). A
    # dose charted as one device (``device_number``) takes its own factor; a whole dose
    # given at once is split into 28 mg devices (the model's unit), the first at full
    # bioavailability and the others reduced, so both forms deliver the same amounts.
    if device_number is not None:
        frn = system.fr_nasal * (1.0 if device_number == 1 else p("dose_on_FRn"))
    else:
        sprays = max(1, math.ceil(dose_mg / 28.0 - 1e-9))
        frn = system.fr_nasal * (1.0 + (sprays - 1) * p("dose_on_FRn")) / sprays
    swallowed = (1.0 - frn) * p("Fgut")
    return [
        Path(i["depot_nasal"], frn),
        Path(i["depot_swallowed"], swallowed, p("Dsw") * 60.0),
    ]
