"""Target-controlled infusion reaches and holds its target without exceeding the pump."""

from __future__ import annotations

import numpy as np
import pytest

from ketaclinic.clinical import pk

P = pk.Patient(70)


def test_plasma_tci_reaches_and_holds_its_target() -> None:
    r = pk.tci("domino", P, 150.0, max_rate_mg_per_h=600.0, until_min=60.0, step_s=10)
    c = r.predicted.plasma_ng_ml
    reached = r.predicted.t_min >= 1.0
    assert np.all(np.abs(c[reached] - 150.0) < 0.01 * 150.0)
    assert r.rate_mg_per_h.max() <= 600.0


def test_plasma_tci_follows_a_lowered_target_by_pausing_then_resuming() -> None:
    r = pk.tci("hijazi", P, [(0, 200.0), (30, 100.0)], max_rate_mg_per_h=900.0, until_min=90.0)
    t, c = r.predicted.t_min, r.predicted.plasma_ng_ml
    assert r.rate_mg_per_h[r.step_start_min == 30.0][0] == 0.0
    later = t >= 60.0
    assert np.all(np.abs(c[later] - 100.0) < 1.0)


def test_a_slow_pump_caps_the_rate_and_the_target_is_reached_later() -> None:
    def reached(r: pk.TciResult) -> float:
        return float(r.predicted.t_min[np.argmax(r.predicted.plasma_ng_ml >= 0.99 * 150.0)])

    slow = pk.tci("domino", P, 150.0, max_rate_mg_per_h=30.0, until_min=120.0)
    fast = pk.tci("domino", P, 150.0, max_rate_mg_per_h=600.0, until_min=120.0)
    assert slow.rate_mg_per_h.max() <= 30.0 + 1e-9
    assert slow.rate_mg_per_h[0] == pytest.approx(30.0)
    assert slow.predicted.plasma_ng_ml.max() <= 150.0 * 1.001
    assert reached(slow) > reached(fast) + 5.0


def test_effect_site_tci_brings_the_effect_site_to_target_without_overshoot() -> None:
    r = pk.tci("domino", P, 120.0, max_rate_mg_per_h=1200.0, until_min=60.0, target="effect")
    ce = r.predicted.effect_ng_ml
    assert ce is not None
    assert ce.max() <= 120.0 * 1.01
    assert np.all(np.abs(ce[r.predicted.t_min >= 10.0] - 120.0) < 0.01 * 120.0)
    # Effect-site targeting overshoots in plasma to drive the effect site faster.
    assert r.predicted.plasma_ng_ml.max() > 120.0


def test_effect_site_tci_needs_a_model_with_an_effect_site() -> None:
    with pytest.raises(ValueError, match="no effect site"):
        pk.tci("kamp", P, 100.0, max_rate_mg_per_h=600.0, until_min=30.0, target="effect")


def test_tci_refuses_a_missing_pump_limit() -> None:
    with pytest.raises(ValueError):
        pk.tci("domino", P, 100.0, max_rate_mg_per_h=0.0, until_min=30.0)
