"""Charted nasal devices and a whole nasal dose give the same esketamine exposure.

The session predicts from each charted 28 mg device; ``ketaclinic simulate`` passes the
whole dose at once. Perez-Ruixo 2021 absorbs the second and later devices of a dose with
a relative nasal bioavailability of 0.62, so 56 mg delivers 28 x F + 28 x 0.62 x F
through the nose (F = 0.54): 28 x 0.54 x 1.62 = 24.49 mg, not 2 x 28 x 0.54 = 30.24 mg.
"""

from __future__ import annotations

import numpy as np
import pytest

from ketaclinic.clinical import dosing, pk
from ketaclinic.clinical.pk.patient import Covariates
from ketaclinic.clinical.pk.structure import build

PATIENT = pk.Patient(weight_kg=70, age=45)
TIMES = np.arange(0.0, 48 * 60 + 1, 1.0)


def auc(result: pk.Result) -> float:
    return float(np.trapezoid(result.plasma_ng_ml, result.t_min))


def simulate(events: list[pk.Event]) -> pk.Result:
    return pk.simulate("esketamine_perez_ruixo", PATIENT, events, TIMES)


def test_devices_charted_together_match_the_whole_dose_simulate_passes() -> None:
    mg = dosing.device_mg("in_esketamine")
    devices = simulate(pk.nasal_device_doses([0.0, 0.0], mg_per_device=mg))
    whole = simulate([pk.Dose(0.0, 56.0, "intranasal")])
    np.testing.assert_allclose(devices.plasma_ng_ml, whole.plasma_ng_ml, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        devices.metabolite_ng_ml, whole.metabolite_ng_ml, rtol=1e-9, atol=1e-12
    )


@pytest.mark.parametrize("devices", [2, 3])
def test_devices_five_minutes_apart_give_the_exposure_of_the_whole_dose(devices: int) -> None:
    mg = dosing.device_mg("in_esketamine")
    gap = dosing.device_interval_min("in_esketamine")
    charted = [gap * n for n in range(devices)]
    spread = simulate(pk.nasal_device_doses(charted, mg_per_device=mg))
    whole = simulate([pk.Dose(0.0, devices * mg, "intranasal")])
    assert auc(spread) == pytest.approx(auc(whole), rel=2e-3)
    assert spread.delivered_mg[-1] == pytest.approx(whole.delivered_mg[-1], rel=1e-12)
    assert spread.given_mg[-1] == whole.given_mg[-1] == devices * mg


def test_the_nasal_amount_absorbed_applies_the_later_device_factor() -> None:
    # Nasal path only: F x 28 for the first device, 0.62 x F x 28 for the second.
    built = build(pk.get_model("esketamine_perez_ruixo"), Covariates.of(PATIENT))
    first = built.paths("intranasal", 28.0, 1)[0].fraction[0] * 28.0
    second = built.paths("intranasal", 28.0, 2)[0].fraction[0] * 28.0
    assert first == pytest.approx(28 * 0.54)
    assert second == pytest.approx(28 * 0.54 * 0.62)
    assert first + second == pytest.approx(24.4944)


def test_charting_each_device_as_a_whole_dose_overstates_the_exposure() -> None:
    # The old session path: every device a separate 28 mg dose at full bioavailability.
    separate = simulate([pk.Dose(t, 28.0, "intranasal") for t in (0.0, 5.0, 10.0)])
    devices = simulate(pk.nasal_device_doses([0.0, 5.0, 10.0], mg_per_device=28.0))
    assert auc(separate) > 1.1 * auc(devices)


def test_devices_are_numbered_in_time_order() -> None:
    doses = pk.nasal_device_doses([10.0, 0.0, 5.0], mg_per_device=28.0)
    assert [(d.at_min, d.device_number) for d in doses] == [(0.0, 1), (5.0, 2), (10.0, 3)]
    assert all(d.route == "intranasal" and d.dose_mg == 28.0 for d in doses)


def test_a_device_number_on_another_route_or_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="intranasal"):
        pk.Dose(0.0, 28.0, "oral", device_number=1)
    with pytest.raises(ValueError, match="counts from 1"):
        pk.Dose(0.0, 28.0, "intranasal", device_number=0)
    with pytest.raises(ValueError, match="mg per device"):
        pk.nasal_device_doses([0.0], mg_per_device=0)
