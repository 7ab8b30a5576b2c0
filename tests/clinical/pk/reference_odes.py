"""Independent right-hand sides for scipy's solve_ivp, typed in from the sources.

Nothing here is read from ketaclinic: every constant is copied from the publication (or
the reproduction cited next to it) so that the exact solver is checked against a
separately written model, not against itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

Rhs = Callable[[float, np.ndarray, float], np.ndarray]

# opentiva/ketamine.py: (V1 L/kg, k10, k12, k13, k21, k31, ke0), per minute.
DOMINO = (0.063, 0.4381, 0.5921, 0.5900, 0.2470, 0.0146, 0.652)
CLEMENTS = (1.7522, 0.0109, 0.0186, 0.0, 0.0137, 0.0, 5.2)
HIJAZI = (1.08, 0.0333, 0.0088, 0.0, 0.0030, 0.0, 4.773)
# Kamp 2020 abstract: V 252 L/70 kg, CL 79 L/h at 70 kg.
KAMP_V_L, KAMP_CL_L_H = 252.0, 79.0
# Bioavailability and Tmax (min) per route, from the papers named in the model table.
ROUTES = {"intranasal": (0.45, 15.0), "oral": (0.20, 58.0), "sublingual": (0.29, 45.0),
          "im": (0.93, 20.0)}  # fmt: skip


def ka_for_tmax(tmax_min: float) -> float:
    k = KAMP_CL_L_H / KAMP_V_L / 60.0
    return float(brentq(lambda ka: math.log(ka / k) / (ka - k) - tmax_min, k * 1.0001, 100.0))


def mammillary(params: tuple[float, ...], weight: float, route: str | None) -> tuple[Rhs, float]:
    """State: central, periph2, periph3, effect (mg/L), depot. Returns rhs and V1."""
    v1kg, k10, k12, k13, k21, k31, ke0 = params
    v1 = v1kg * weight
    ka = ka_for_tmax(ROUTES[route][1]) if route else 0.0

    def rhs(t: float, x: np.ndarray, rate: float) -> np.ndarray:
        c, p2, p3, e, d = x
        return np.array([
            rate + ka * d - (k10 + k12 + k13) * c + k21 * p2 + k31 * p3,
            k12 * c - k21 * p2,
            k13 * c - k31 * p3,
            ke0 * (c / v1 - e),
            -ka * d,
        ])  # fmt: skip

    return rhs, v1


def kamp(weight: float, route: str | None) -> tuple[Rhs, float]:
    v = KAMP_V_L * weight / 70.0
    cl = KAMP_CL_L_H / 60.0 * (weight / 70.0) ** 0.75
    ka = ka_for_tmax(ROUTES[route][1]) if route else 0.0

    def rhs(t: float, x: np.ndarray, rate: float) -> np.ndarray:
        c, d = x
        return np.array([rate + ka * d - cl / v * c, -ka * d])

    return rhs, v


# Perez-Ruixo 2021 Table 3 (via nlmixr2lib), per hour; converted to per minute below.
ESK = dict(ka_n=2.93, dsw=0.53, ka_sw=1.45, dpo=0.32, ka_po=0.97, fgut=0.64, vc=192.0,
           q1=84.3, vp1=143.0, q2=37.6, vp2=417.0, qh=151.0, vh=101.0, kel=1.11, kmet=2.77,
           vcn=70.0, cln=38.0, vpn=115.0, q3=26.1, frn=0.54, dose_on_frn=0.62)  # fmt: skip


def esketamine() -> Rhs:
    """State: nasal, swallowed, oral depots, central, p1, p2, liver, nk central, nk periph.

    ``rate`` is a tuple-packed float only for IV; zero-order releases are added by the
    caller through ``esketamine_inputs``.
    """
    m = {k: v for k, v in ESK.items()}
    h = 1 / 60.0

    def rhs(t: float, x: np.ndarray, iv_rate: float, sw_rate: float = 0.0,
            po_rate: float = 0.0) -> np.ndarray:  # fmt: skip
        dn, dsw, dpo, c, p1, p2, liv, nc, npp = x
        return np.array([
            -m["ka_n"] * h * dn,
            sw_rate - m["ka_sw"] * h * dsw,
            po_rate - m["ka_po"] * h * dpo,
            iv_rate + m["ka_n"] * h * dn + m["q1"] * h / m["vp1"] * p1
            + m["q2"] * h / m["vp2"] * p2 + m["qh"] * h / m["vh"] * liv
            - (m["q1"] + m["q2"] + m["qh"]) * h / m["vc"] * c,
            m["q1"] * h / m["vc"] * c - m["q1"] * h / m["vp1"] * p1,
            m["q2"] * h / m["vc"] * c - m["q2"] * h / m["vp2"] * p2,
            m["ka_sw"] * h * dsw + m["ka_po"] * h * dpo + m["qh"] * h / m["vc"] * c
            - (m["qh"] * h / m["vh"] + (m["kel"] + m["kmet"]) * h) * liv,
            m["kmet"] * h * liv + m["q3"] * h / m["vpn"] * npp
            - (m["cln"] / m["vcn"] + m["q3"] / m["vcn"]) * h * nc,
            m["q3"] * h / m["vcn"] * nc - m["q3"] * h / m["vpn"] * npp,
        ])  # fmt: skip

    return rhs  # type: ignore[return-value]


def integrate(
    rhs: Callable[..., np.ndarray],
    x0: np.ndarray,
    pieces: list[tuple[float, float, tuple[float, ...]]],
    times: np.ndarray,
    kicks: dict[float, np.ndarray] | None = None,
) -> np.ndarray:
    """Integrate piece by piece (inputs constant on each), reporting at ``times``.

    ``kicks`` adds an amount vector to the state at the start of the piece beginning then.
    """
    out = np.zeros((times.size, x0.size))
    x = x0.astype(float)
    for start, end, args in pieces:
        if kicks and start in kicks:
            x = x + kicks[start]
        inside = (times >= start) & (times < end) | ((times == end) & (end == times[-1]))
        t_eval = np.unique(np.concatenate([times[inside], [start, end]]))
        # LSODA, not an explicit Runge-Kutta method: the effect-site rates (ke0 up to
        # 5.2/min) are stiff beside the hours-long elimination, so once the fast mode has
        # settled an explicit method's steps grow to its stability limit (~1 min), and
        # the values it reports at t_eval come from its dense-output interpolant, whose
        # error rtol does not control (DOP853 at rtol 1e-11: 4e-6 between steps, 5e-9 at
        # them). LSODA switches to BDF there and stays within 1e-9 of the exact curves.
        sol = solve_ivp(rhs, (start, end), x, method="LSODA", rtol=1e-12, atol=1e-14,
                        t_eval=t_eval, args=args)  # fmt: skip
        assert sol.success
        out[inside] = sol.y.T[np.searchsorted(t_eval, times[inside])]
        x = sol.y[:, -1]
    return out
