"""Dosing events: pauses, rate changes, superposition, and what is refused."""

from __future__ import annotations

import numpy as np
import pytest

from ketaclinic.clinical import pk

T = np.arange(0.0, 181.0, 0.5)
P = pk.Patient(70)


def test_an_infusion_paused_at_17_and_resumed_at_22_runs_as_two_segments() -> None:
    events = [pk.Infusion(0.0, duration_min=40.0, amount_mg=40.0), pk.Pause(17.0, 22.0)]
    segments = pk.infusion_segments(events)
    assert [(s.start_min, s.end_min, s.rate_mg_per_min) for s in segments] == [
        (0.0, 17.0, 1.0),
        (22.0, 45.0, 1.0),
    ]


def test_a_paused_infusion_equals_two_separate_infusions() -> None:
    paused = pk.simulate(
        "domino", P, [pk.Infusion(0.0, duration_min=40.0, amount_mg=40.0), pk.Pause(17, 22)], T
    )
    split = pk.simulate(
        "domino",
        P,
        [
            pk.Infusion(0.0, duration_min=17.0, rate_mg_per_min=1.0),
            pk.Infusion(22.0, duration_min=23.0, rate_mg_per_min=1.0),
        ],
        T,
    )
    np.testing.assert_allclose(paused.plasma_ng_ml, split.plasma_ng_ml, rtol=1e-12, atol=1e-12)
    assert paused.given_mg[-1] == pytest.approx(40.0)


def test_plasma_falls_during_a_pause() -> None:
    r = pk.simulate(
        "domino", P, [pk.Infusion(0.0, duration_min=40.0, amount_mg=40.0), pk.Pause(17, 22)], T
    )
    during = r.plasma_ng_ml[(T >= 17) & (T <= 22)]
    assert np.all(np.diff(during) < 0)


def test_a_rate_change_delivers_the_rest_at_the_new_rate() -> None:
    events = [pk.Infusion(0.0, duration_min=40.0, amount_mg=40.0), pk.RateChange(10.0, 2.0)]
    segments = pk.infusion_segments(events)
    # 10 mg in the first 10 min, the remaining 30 mg at 2 mg/min takes 15 min.
    assert [(s.start_min, s.end_min, s.rate_mg_per_min) for s in segments] == [
        (0.0, 10.0, 1.0),
        (10.0, 25.0, 2.0),
    ]


def test_a_rate_change_to_zero_stops_the_infusion() -> None:
    events = [pk.Infusion(0.0, duration_min=40.0, amount_mg=40.0), pk.RateChange(10.0, 0.0)]
    r = pk.simulate("kamp", P, events, T)
    assert r.given_mg[-1] == pytest.approx(10.0)


def test_a_bolus_plus_an_infusion_is_the_sum_of_each_alone() -> None:
    bolus = [pk.Bolus(0.0, 15.0)]
    infusion = [pk.Infusion(5.0, duration_min=40.0, amount_mg=30.0)]
    both = pk.simulate("hijazi", P, bolus + infusion, T)
    a = pk.simulate("hijazi", P, bolus, T)
    b = pk.simulate("hijazi", P, infusion, T)
    np.testing.assert_allclose(both.plasma_ng_ml, a.plasma_ng_ml + b.plasma_ng_ml, rtol=1e-10)


def test_a_bolus_shows_at_its_own_time_and_nothing_before() -> None:
    r = pk.simulate("domino", P, [pk.Bolus(10.0, 7.0)], [0.0, 9.99, 10.0])
    assert r.plasma_ng_ml[0] == 0.0 and r.plasma_ng_ml[1] == 0.0
    # Right after the push the whole dose sits in V1 = 0.063 L/kg x 70 kg.
    assert r.plasma_ng_ml[2] == pytest.approx(7.0 / (0.063 * 70) * 1000)


@pytest.mark.parametrize(
    "make",
    [
        lambda: pk.Infusion(0.0, duration_min=40.0),
        lambda: pk.Infusion(0.0, duration_min=40.0, rate_mg_per_min=1.0, amount_mg=40.0),
        lambda: pk.Infusion(0.0, duration_min=-1.0, amount_mg=40.0),
        lambda: pk.Bolus(0.0, 0.0),
        lambda: pk.Bolus(float("nan"), 5.0),
        lambda: pk.Pause(20.0, 10.0),
        lambda: pk.RateChange(5.0, -1.0),
        lambda: pk.Patient(weight_kg=0.0),
    ],
)
def test_nonsense_events_are_refused(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]


def test_a_route_the_model_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="no route"):
        pk.simulate("esketamine", P, [pk.Dose(0.0, 28.0, "im")], T)


def test_output_times_must_increase() -> None:
    with pytest.raises(ValueError, match="increasing"):
        pk.simulate("domino", P, [pk.Bolus(0.0, 5.0)], [0.0, 10.0, 5.0])
