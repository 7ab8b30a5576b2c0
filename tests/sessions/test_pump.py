"""The pump arithmetic checked against figures worked by hand."""

from __future__ import annotations

import pytest

from ketaclinic.sessions.pump import PumpEvent, projected_segments, replay


def test_it_adds_up_a_paused_and_resumed_infusion() -> None:
    # 35 mg in 100 mL (0.35 mg/mL) at 155.3 mL/h: 17 min running, 5 paused, 10 running.
    status = replay(
        [PumpEvent("start", 0), PumpEvent("pause", 17), PumpEvent("resume", 22)],
        now_min=32,
        initial_rate_ml_per_h=155.3,
        total_volume_ml=100.0,
        dose_mg=35.0,
    )
    assert status.state == "running"
    assert status.elapsed_min == pytest.approx(32)
    assert status.running_min == pytest.approx(27)
    assert status.paused_min == pytest.approx(5)
    assert status.volume_ml == pytest.approx(69.885)  # 155.3 x 27 / 60
    assert status.mg == pytest.approx(24.45975)  # 69.885 x 0.35
    assert status.volume_left_ml == pytest.approx(30.115)
    assert [(s.start_min, s.end_min) for s in status.segments] == [(0, 17), (22, 32)]


def test_a_paused_infusion_is_two_stretches_in_the_prediction() -> None:
    status = replay(
        [PumpEvent("start", 0), PumpEvent("pause", 17), PumpEvent("resume", 22)],
        now_min=32,
        initial_rate_ml_per_h=155.3,
        total_volume_ml=100.0,
        dose_mg=35.0,
    )
    stretches = projected_segments(status, now_min=32)
    # The rest of the bag, 30.115 mL at 155.3 mL/h, takes 11.635 min more.
    assert stretches[-1].start_min == 32
    assert stretches[-1].end_min == pytest.approx(32 + 30.115 / 155.3 * 60)
    assert sum(s.volume_ml for s in stretches) == pytest.approx(100.0)


def test_a_rate_change_counts_each_rate_for_its_own_minutes() -> None:
    # 120 mL/h for 10 min = 20 mL, then 60 mL/h for 10 min = 10 mL; 50 mg in 100 mL.
    status = replay(
        [PumpEvent("start", 0), PumpEvent("rate_change", 10, 60.0)],
        now_min=20,
        initial_rate_ml_per_h=120.0,
        total_volume_ml=100.0,
        dose_mg=50.0,
    )
    assert status.volume_ml == pytest.approx(30.0)
    assert status.mg == pytest.approx(15.0)
    assert status.rate_ml_per_h == 60.0


def test_an_empty_bag_completes_the_infusion_before_the_stop_is_charted() -> None:
    # 100 mL at 150 mL/h empties at 40 min.
    status = replay(
        [PumpEvent("start", 0)],
        now_min=50,
        initial_rate_ml_per_h=150.0,
        total_volume_ml=100.0,
        dose_mg=35.0,
    )
    assert status.state == "complete"
    assert status.ended_at_min == pytest.approx(40)
    assert status.mg == pytest.approx(35.0)
    assert status.elapsed_min == pytest.approx(40)


def test_a_stop_ends_the_infusion_where_it_is() -> None:
    status = replay(
        [PumpEvent("start", 0), PumpEvent("stop", 12)],
        now_min=60,
        initial_rate_ml_per_h=150.0,
        total_volume_ml=100.0,
        dose_mg=35.0,
    )
    assert status.state == "stopped"
    assert status.volume_ml == pytest.approx(30.0)  # 150 x 12 / 60
    assert status.mg == pytest.approx(10.5)


@pytest.mark.parametrize(
    "events",
    [
        [PumpEvent("pause", 0)],
        [PumpEvent("start", 0), PumpEvent("resume", 5)],
        [PumpEvent("start", 0), PumpEvent("stop", 5), PumpEvent("resume", 6)],
        [PumpEvent("start", 0), PumpEvent("start", 5)],
    ],
)
def test_it_refuses_an_impossible_sequence(events: list[PumpEvent]) -> None:
    with pytest.raises(ValueError, match="cannot"):
        replay(events, now_min=10, initial_rate_ml_per_h=100, total_volume_ml=100, dose_mg=35)
