"""An alarm judged again without the readings entered in error, by the same table rows.

Every expected value is worked out by hand from the row named in the test (its
comparison, threshold and ``confirm_min``)."""

from __future__ import annotations

from ketaclinic.clinical.monitoring import VitalSigns, assess, reassess
from ketaclinic.clinical.overrides import Override


def _hr(at_min: float, heart_rate: int) -> VitalSigns:
    return VitalSigns(at_min=at_min, heart_rate=heart_rate)


def _sbp(at_min: float, systolic_bp: int) -> VitalSigns:
    return VitalSigns(at_min=at_min, systolic_bp=systolic_bp, diastolic_bp=80)


def test_an_artefact_that_alone_raised_the_alarm_leaves_nothing_to_raise_it() -> None:
    # inf_hr_warn: heart rate > 120 on one reading. Only the 150 at 2 min crosses it.
    readings = [_hr(1, 80), _hr(2, 150), _hr(3, 82)]
    assert [a.rule_id for a in assess(readings, phase="infusion")] == ["inf_hr_warn"]
    [result] = reassess(readings, raised=[(1, "inf_hr_warn")], removed=[1], phase="infusion")
    assert result is not None
    assert (result.rule_id, result.alarm, result.index) == ("inf_hr_warn", None, None)


def test_a_later_crossing_reading_of_the_same_run_now_carries_the_breach() -> None:
    # 150 at 2 min raised inf_hr_warn; 130 at 3 min continued the run (no second alarm).
    # Without the 150 the run starts at 3 min, and 130 > 120 raises it there.
    readings = [_hr(1, 80), _hr(2, 150), _hr(3, 130), _hr(4, 80)]
    [result] = reassess(readings, raised=[(1, "inf_hr_warn")], removed=[1], phase="infusion")
    assert result is not None and result.index == 2
    assert result.alarm is not None
    assert (result.alarm.value, result.alarm.at_min) == (130, 3)


def test_two_readings_that_confirmed_a_rule_leave_one_that_does_not() -> None:
    # inf_sbp_pause: systolic >= 180 on every reading for at least 5 minutes. 185 at
    # 10 min and 186 at 15 min confirm it at 15 min (5 min). Without the 185 the run is
    # the 186 alone (0 min): inf_sbp_pause no longer fires. inf_sbp_recheck (>= 180 on
    # one reading) was raised at 10 min by the 185; without it the 186 raises it.
    readings = [_sbp(5, 130), _sbp(10, 185), _sbp(15, 186)]
    rules = [(a.rule_id, a.at_min) for a in assess(readings, phase="infusion")]
    assert rules == [("inf_sbp_recheck", 10), ("inf_sbp_pause", 15)]
    pause, recheck = reassess(
        readings,
        raised=[(2, "inf_sbp_pause"), (1, "inf_sbp_recheck")],
        removed=[1],
        phase="infusion",
    )
    assert pause is not None and pause.alarm is None
    assert recheck is not None and recheck.index == 2
    assert recheck.alarm is not None and recheck.alarm.value == 186


def test_a_run_still_long_enough_without_the_artefact_keeps_the_confirmation() -> None:
    # 185 at 10, 190 at 12 (artefact), 186 at 15, 187 at 16: inf_sbp_pause fires at
    # 15 min (5 min from 10). Without the 190 the run is 10, 15, 16: still 5 min at 15.
    readings = [_sbp(10, 185), _sbp(12, 190), _sbp(15, 186), _sbp(16, 187)]
    [result] = reassess(readings, raised=[(2, "inf_sbp_pause")], removed=[1], phase="infusion")
    assert result is not None and result.index == 2
    assert result.alarm is not None and result.alarm.confirmed_over_min == 5


def test_the_confirmation_moves_to_the_reading_that_now_completes_five_minutes() -> None:
    # 185 at 10 (artefact), 186 at 12, 187 at 15 (fired: 5 min from 10), 188 at 17.
    # Without the 185 the run starts at 12 and is 5 min long at 17.
    readings = [_sbp(10, 185), _sbp(12, 186), _sbp(15, 187), _sbp(17, 188)]
    [result] = reassess(readings, raised=[(2, "inf_sbp_pause")], removed=[0], phase="infusion")
    assert result is not None and result.index == 3
    assert result.alarm is not None and result.alarm.value == 188


def test_a_reading_outside_the_alarms_run_leaves_it_alone() -> None:
    # Two runs of inf_hr_warn split by an 80: the artefact at 2 min is not in the run of
    # the alarm at 4 min; a reading after an alarm's reading did not confirm it either.
    readings = [_hr(2, 150), _hr(3, 80), _hr(4, 130), _hr(5, 131)]
    assert reassess(readings, raised=[(2, "inf_hr_warn")], removed=[0, 1, 3], phase="infusion") == [
        None
    ]


def test_the_clinics_override_judges_the_remaining_readings() -> None:
    # inf_sbp_pause confirmed over 2 minutes by the clinic: 185 at 10, 186 at 12 (fired),
    # 187 at 14. Without the 185 the run 12 to 14 is 2 min: it fires at 14 min. With the
    # table's 5 minutes it would not.
    override = Override("inf_sbp_pause", "confirm_min", 2, by="dr.chen", reason="local")
    readings = [_sbp(10, 185), _sbp(12, 186), _sbp(14, 187)]
    [result] = reassess(
        readings,
        raised=[(1, "inf_sbp_pause")],
        removed=[0],
        phase="infusion",
        overrides=[override],
    )
    assert result is not None and result.index == 2
    assert result.alarm is not None and result.alarm.overrides == (override,)
    [default] = reassess(readings, raised=[(1, "inf_sbp_pause")], removed=[0], phase="infusion")
    assert default is not None and default.alarm is None


def test_a_baseline_taken_away_judges_the_change_from_the_one_that_remains() -> None:
    # rec_sbp_from_baseline_warn: systolic more than 50 from the pre-dose reading. 190
    # is 62 from a 128 baseline; from the 150 that remains once the 128 is in error, 40.
    readings = [_sbp(50, 190)]
    first = VitalSigns(at_min=0.0, systolic_bp=128, diastolic_bp=80)
    remaining = VitalSigns(at_min=0.0, systolic_bp=150, diastolic_bp=80)
    [result] = reassess(
        readings,
        raised=[(0, "rec_sbp_from_baseline_warn")],
        removed=[],
        phase="recovery",
        baseline=first,
        remaining_baseline=remaining,
    )
    assert result is not None and result.alarm is None
    [same] = reassess(
        readings,
        raised=[(0, "rec_sbp_from_baseline_warn")],
        removed=[],
        phase="recovery",
        baseline=first,
        remaining_baseline=first,
    )
    assert same is None
