"""Alarms assessed reading by reading over a window equal the whole-phase assessment."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.clinical.monitoring import (
    VitalSigns,
    assess,
    assess_new,
    lookback_min,
    prior_window,
)
from ketaclinic.clinical.overrides import Override

# Values around every threshold of the table (and ordinary ones), sometimes missing, so
# that runs start, confirm, break and skip readings that do not chart the parameter.
_hr = st.one_of(st.none(), st.sampled_from([38, 40, 41, 72, 119, 120, 121, 135]))
_sbp = st.one_of(st.none(), st.sampled_from([88, 90, 91, 128, 179, 180, 185, 199, 200, 210]))
_spo2 = st.one_of(st.none(), st.sampled_from([85, 89, 90, 91, 92, 97]))
_rr = st.one_of(st.none(), st.sampled_from([6, 8, 9, 14, 24, 25, 30]))
_gap = st.sampled_from([0.0, 0.1, 0.5, 1.0, 2.0, 2.5, 4.9, 5.0, 5.1, 7.0, 30.0])


@st.composite
def _series(draw: st.DrawFn) -> list[VitalSigns]:
    out: list[VitalSigns] = []
    at = 0.0
    for _ in range(draw(st.integers(min_value=1, max_value=40))):
        at += draw(_gap)
        sbp = draw(_sbp)
        dbp = None if sbp is None else draw(st.sampled_from([60, 82, 109, 110, 115, 120, 125]))
        if sbp is not None and dbp is not None and dbp >= sbp:
            dbp = sbp - 20
        out.append(
            VitalSigns(
                at_min=at,
                heart_rate=draw(_hr),
                systolic_bp=sbp,
                diastolic_bp=dbp,
                spo2=draw(_spo2),
                respiratory_rate=draw(_rr),
            )
        )
    return out


def _key(alarm: object) -> tuple[object, ...]:
    return (alarm.rule_id, alarm.at_min, alarm.value, alarm.message)  # type: ignore[attr-defined]


@settings(max_examples=300, deadline=None)
@given(
    readings=_series(),
    phase=st.sampled_from(["infusion", "recovery", "pre_infusion"]),
    batch=st.integers(min_value=1, max_value=3),
    with_baseline=st.booleans(),
)
def test_reading_by_reading_over_the_window_equals_the_whole_phase(
    readings: list[VitalSigns], phase: str, batch: int, with_baseline: bool
) -> None:
    baseline = VitalSigns(at_min=0.0, systolic_bp=128, diastolic_bp=82) if with_baseline else None
    whole = sorted(map(_key, assess(readings, phase=phase, baseline=baseline)))
    step = []
    for start in range(0, len(readings), batch):
        new = readings[start : start + batch]
        window = prior_window(readings[:start], new=new, phase=phase, baseline=baseline)
        step += [a for _, a in assess_new(new, prior=window, phase=phase, baseline=baseline)]
    assert sorted(map(_key, step)) == whole


@settings(max_examples=100, deadline=None)
@given(readings=_series())
def test_a_longer_confirmation_set_by_the_clinic_widens_the_window(
    readings: list[VitalSigns],
) -> None:
    overrides = [Override("inf_sbp_pause", "confirm_min", 15, by="dr.chen", reason="local")]
    whole = sorted(map(_key, assess(readings, phase="infusion", overrides=overrides)))
    step = []
    for i in range(len(readings)):
        window = prior_window(
            readings[:i], new=readings[i : i + 1], phase="infusion", overrides=overrides
        )
        step += [
            a
            for _, a in assess_new(
                readings[i : i + 1], prior=window, phase="infusion", overrides=overrides
            )
        ]
    assert sorted(map(_key, step)) == whole


def test_the_window_reaches_back_the_longest_confirmation_time_of_the_phase() -> None:
    # inf_sbp_pause and inf_hr_pause confirm over 5 minutes; SpO2 and breathing rules
    # fire on one reading (limits table, clinical-reference section 3).
    assert lookback_min("infusion") == {
        "systolic_bp": 5.0,
        "diastolic_bp": 5.0,
        "heart_rate": 5.0,
        "spo2": 0.0,
        "respiratory_rate": 0.0,
    }


def test_an_hour_of_monitor_readings_needs_only_the_last_five_minutes() -> None:
    prior = [
        VitalSigns(at_min=m * 0.5, heart_rate=80, systolic_bp=130, diastolic_bp=80)
        for m in range(120)
    ]
    new = [VitalSigns(at_min=60.0, heart_rate=80, systolic_bp=130, diastolic_bp=80)]
    window = prior_window(prior, new=new, phase="infusion")
    # Every reading is ordinary: the last one alone settles every rule.
    assert [r.at_min for r in window] == [59.5]


def test_a_run_in_progress_keeps_the_readings_since_it_began() -> None:
    normal = [VitalSigns(at_min=m * 0.5, systolic_bp=130, diastolic_bp=80) for m in range(100)]
    high = [VitalSigns(at_min=50 + m * 0.5, systolic_bp=185, diastolic_bp=80) for m in range(6)]
    new = [VitalSigns(at_min=53.0, systolic_bp=186, diastolic_bp=80)]
    window = prior_window(normal + high, new=new, phase="infusion")
    # The last prior reading is at 52.5 min, so from 47.5 min on (and one before); of
    # those, from the last reading under every systolic and diastolic rule (49.5 min).
    assert [r.at_min for r in window] == [49.5, 50.0, 50.5, 51.0, 51.5, 52.0, 52.5]
