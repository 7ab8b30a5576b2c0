"""Mass balance: what entered the body is in it or has left it."""

from __future__ import annotations

import numpy as np
import pytest

from ketaclinic.clinical import pk

T = np.arange(0.0, 721.0, 1.0)

CASES = [
    ("domino", [pk.Bolus(0.0, 10.0), pk.Infusion(5.0, duration_min=40.0, amount_mg=35.0)], 45.0),
    ("clements", [pk.Infusion(0.0, duration_min=40.0, amount_mg=35.0), pk.Pause(10, 15)], 35.0),
    ("hijazi", [pk.Dose(0.0, 100.0, "oral")], 0.20 * 100.0),
    ("kamp", [pk.Dose(0.0, 50.0, "intranasal"), pk.Dose(60.0, 50.0, "im")], 0.45 * 50 + 0.93 * 50),
    ("esketamine", [pk.Infusion(0.0, duration_min=40.0, amount_mg=28.0)], 28.0),
]


@pytest.mark.parametrize(("model", "events", "bioavailable"), CASES)
def test_delivered_amount_equals_body_plus_eliminated(
    model: str, events: list[pk.Event], bioavailable: float
) -> None:
    r = pk.simulate(model, pk.Patient(70), events, T)
    balance = r.in_body_mg + r.eliminated_mg
    np.testing.assert_allclose(balance, r.delivered_mg, atol=1e-9 * bioavailable)
    assert r.delivered_mg[-1] == pytest.approx(bioavailable, rel=1e-12)


def test_intranasal_esketamine_delivers_its_published_bioavailable_fractions() -> None:
    # 84 mg = 3 devices: FRn falls by 0.62 for devices after the first (Table 3); the
    # swallowed rest is 64% absorbed from the gut, all of it into the portal circulation.
    r = pk.simulate("esketamine", pk.Patient(70), [pk.Dose(0.0, 84.0, "intranasal")], T)
    frn = 0.54 * (1 + 2 * 0.62) / 3
    assert r.delivered_mg[-1] == pytest.approx(84 * (frn + (1 - frn) * 0.64), rel=1e-12)
    np.testing.assert_allclose(r.in_body_mg + r.eliminated_mg, r.delivered_mg, atol=1e-9 * 84)
