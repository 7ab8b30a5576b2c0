"""The exact solver agrees with an independent ODE integration for every model and route."""

from __future__ import annotations

import numpy as np
import pytest
from tests.clinical.pk import reference_odes as ref

from ketaclinic.clinical import pk

TIMES = np.concatenate([np.arange(0.0, 60.0, 0.5), np.arange(60.0, 241.0, 5.0)])


def assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    scale = np.max(np.abs(expected))
    # Relative error wherever the value is meaningful; near zero (before any drug
    # arrives) compare against the curve's own scale instead.
    meaningful = np.abs(expected) > 1e-6 * scale
    rel = np.abs(actual[meaningful] - expected[meaningful]) / np.abs(expected[meaningful])
    assert rel.max() < 1e-6
    assert np.max(np.abs(actual - expected)) < 1e-6 * scale


MAMMILLARY = {"domino": ref.DOMINO, "clements": ref.CLEMENTS, "hijazi": ref.HIJAZI}


@pytest.mark.parametrize("model", sorted(MAMMILLARY))
def test_iv_bolus_then_infusion_matches_the_ode_for_racemic_models(model: str) -> None:
    w = 82.0
    rhs, v1 = ref.mammillary(MAMMILLARY[model], w, None)
    events = [pk.Bolus(0.0, 10.0), pk.Infusion(5.0, duration_min=40.0, amount_mg=30.0)]
    x = ref.integrate(
        rhs,
        np.zeros(5),
        [(0.0, 5.0, (0.0,)), (5.0, 45.0, (0.75,)), (45.0, 240.0, (0.0,))],
        TIMES,
        kicks={0.0: np.array([10.0, 0, 0, 0, 0])},
    )
    r = pk.simulate(model, pk.Patient(w), events, TIMES)
    assert_close(r.plasma_ng_ml, x[:, 0] / v1 * 1000)
    assert r.effect_ng_ml is not None
    assert_close(r.effect_ng_ml, x[:, 3] * 1000)


@pytest.mark.parametrize("route", sorted(ref.ROUTES))
@pytest.mark.parametrize("model", sorted(MAMMILLARY))
def test_absorption_routes_match_the_ode_for_racemic_models(model: str, route: str) -> None:
    w, dose = 64.0, 50.0
    f = ref.ROUTES[route][0]
    rhs, v1 = ref.mammillary(MAMMILLARY[model], w, route)
    x = ref.integrate(rhs, np.array([0, 0, 0, 0, f * dose]), [(0.0, 240.0, (0.0,))], TIMES)
    r = pk.simulate(model, pk.Patient(w), [pk.Dose(0.0, dose, route)], TIMES)
    assert_close(r.plasma_ng_ml, x[:, 0] / v1 * 1000)


@pytest.mark.parametrize("route", [None, *sorted(ref.ROUTES)])
def test_the_kamp_model_matches_the_ode_by_every_route(route: str | None) -> None:
    w, dose = 95.0, 40.0
    rhs, v = ref.kamp(w, route)
    if route is None:
        x = ref.integrate(rhs, np.zeros(2), [(0.0, 40.0, (1.0,)), (40.0, 240.0, (0.0,))], TIMES)
        events: list[pk.Event] = [pk.Infusion(0.0, duration_min=40.0, rate_mg_per_min=1.0)]
    else:
        f = ref.ROUTES[route][0]
        x = ref.integrate(rhs, np.array([0.0, f * dose]), [(0.0, 240.0, (0.0,))], TIMES)
        events = [pk.Dose(0.0, dose, route)]
    r = pk.simulate("kamp", pk.Patient(w), events, TIMES)
    assert_close(r.plasma_ng_ml, x[:, 0] / v * 1000)


def esketamine_reference(route: str, dose: float) -> np.ndarray:
    rhs = ref.esketamine()
    m = ref.ESK
    x0 = np.zeros(9)
    if route == "iv":
        pieces = [(0.0, 40.0, (dose / 40.0, 0.0, 0.0)), (40.0, 240.0, (0.0, 0.0, 0.0))]
        return ref.integrate(rhs, x0, pieces, TIMES)
    if route == "oral":
        d = m["dpo"] * 60
        pieces = [(0.0, d, (0.0, 0.0, m["fgut"] * dose / d)), (d, 240.0, (0.0, 0.0, 0.0))]
        return ref.integrate(rhs, x0, pieces, TIMES)
    sprays = int(np.ceil(dose / 28))
    frn = m["frn"] * (1 + (sprays - 1) * m["dose_on_frn"]) / sprays
    d = m["dsw"] * 60
    sw = (1 - frn) * m["fgut"] * dose / d
    x0[0] = frn * dose
    pieces = [(0.0, d, (0.0, sw, 0.0)), (d, 240.0, (0.0, 0.0, 0.0))]
    return ref.integrate(rhs, x0, pieces, TIMES)


@pytest.mark.parametrize(("route", "dose"), [("iv", 28.0), ("intranasal", 84.0), ("oral", 84.0)])
def test_the_esketamine_model_matches_the_ode_by_every_route(route: str, dose: float) -> None:
    x = esketamine_reference(route, dose)
    if route == "iv":
        events: list[pk.Event] = [pk.Infusion(0.0, duration_min=40.0, amount_mg=dose)]
    else:
        events = [pk.Dose(0.0, dose, route)]
    r = pk.simulate("esketamine_perez_ruixo", pk.Patient(70, age=45), events, TIMES)
    assert_close(r.plasma_ng_ml, x[:, 3] / ref.ESK["vc"] * 1000)
    assert r.metabolite_ng_ml is not None
    assert_close(r.metabolite_ng_ml, x[:, 7] / ref.ESK["vcn"] * 1000)


def test_output_grid_does_not_change_the_answer() -> None:
    events = [pk.Infusion(0.0, duration_min=40.0, amount_mg=35.0)]
    fine = pk.simulate("domino", pk.Patient(70), events, np.arange(0, 121, 1 / 6))
    coarse = pk.simulate("domino", pk.Patient(70), events, [7.0, 40.0, 120.0])
    picked = np.interp([7.0, 40.0, 120.0], fine.t_min, fine.plasma_ng_ml)
    np.testing.assert_allclose(coarse.plasma_ng_ml, picked, rtol=1e-10)
