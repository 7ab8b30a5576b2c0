"""Tests for ketaclinic.clinical.monitoring: limits, alarms, schedule, discharge, side effects."""

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.clinical import monitoring
from ketaclinic.clinical.monitoring import VitalSigns, assess
from ketaclinic.clinical.overrides import Override


def ovr(target, field, value):
    return Override(target, field, value, by="Dr Test", reason="clinic protocol")


def reading(at_min, parameter, value):
    """A reading with ``parameter`` set and a plausible partner for BP values."""
    fields = {parameter: value}
    if parameter == "systolic_bp":
        fields["diastolic_bp"] = 60
    if parameter == "diastolic_bp":
        fields["systolic_bp"] = value + 40
    return VitalSigns(at_min=at_min, **fields)


def rule_ids(alarms):
    return {a.rule_id for a in alarms}


# rule id, phase, parameter, value that crosses, value that does not, level, confirm minutes
LIMIT_CASES = [
    ("pre_sbp_warn", "pre_infusion", "systolic_bp", 141, 140, "warn", 0),
    ("pre_dbp_warn", "pre_infusion", "diastolic_bp", 91, 90, "warn", 0),
    ("pre_sbp_no_go", "pre_infusion", "systolic_bp", 180, 179, "no_go", 0),
    ("pre_dbp_no_go", "pre_infusion", "diastolic_bp", 110, 109, "no_go", 0),
    ("pre_hr_warn", "pre_infusion", "heart_rate", 121, 120, "warn", 0),
    ("pre_spo2_no_go", "pre_infusion", "spo2", 91, 92, "no_go", 0),
    ("pre_rr_low_no_go", "pre_infusion", "respiratory_rate", 8, 9, "no_go", 0),
    ("pre_rr_high_warn", "pre_infusion", "respiratory_rate", 25, 24, "warn", 0),
    ("inf_sbp_recheck", "infusion", "systolic_bp", 180, 179, "warn", 0),
    ("inf_sbp_pause", "infusion", "systolic_bp", 180, 179, "pause", 5),
    ("inf_sbp_stop", "infusion", "systolic_bp", 200, 199, "stop", 0),
    ("inf_dbp_recheck", "infusion", "diastolic_bp", 110, 109, "warn", 0),
    ("inf_dbp_pause", "infusion", "diastolic_bp", 110, 109, "pause", 5),
    ("inf_dbp_stop", "infusion", "diastolic_bp", 120, 119, "stop", 0),
    ("inf_hr_warn", "infusion", "heart_rate", 121, 120, "warn", 0),
    ("inf_hr_pause", "infusion", "heart_rate", 121, 120, "pause", 5),
    ("inf_hr_low_pause", "infusion", "heart_rate", 40, 41, "pause", 0),
    ("inf_sbp_low_pause", "infusion", "systolic_bp", 90, 91, "pause", 0),
    ("spo2_low_warn", "infusion", "spo2", 91, 92, "warn", 0),
    ("spo2_low_warn", "recovery", "spo2", 91, 92, "warn", 0),
    ("spo2_low_stop", "infusion", "spo2", 89, 90, "stop", 0),
    ("spo2_low_stop", "recovery", "spo2", 89, 90, "stop", 0),
    ("rr_low_stop", "infusion", "respiratory_rate", 8, 9, "stop", 0),
    ("rr_low_stop", "recovery", "respiratory_rate", 8, 9, "stop", 0),
    ("rr_high_warn", "infusion", "respiratory_rate", 25, 24, "warn", 0),
    ("rr_high_warn", "recovery", "respiratory_rate", 25, 24, "warn", 0),
    ("rec_sbp_warn", "recovery", "systolic_bp", 180, 179, "warn", 0),
    ("rec_dbp_warn", "recovery", "diastolic_bp", 110, 109, "warn", 0),
    ("rec_hr_warn", "recovery", "heart_rate", 121, 120, "warn", 5),
    ("pre_hr_low_no_go", "pre_infusion", "heart_rate", 40, 41, "no_go", 0),
    ("pre_sbp_low_no_go", "pre_infusion", "systolic_bp", 90, 91, "no_go", 0),
    ("rec_sbp_escalate", "recovery", "systolic_bp", 180, 179, "stop", 5),
    ("rec_sbp_severe_escalate", "recovery", "systolic_bp", 200, 199, "stop", 0),
    ("rec_dbp_escalate", "recovery", "diastolic_bp", 110, 109, "stop", 5),
    ("rec_dbp_severe_escalate", "recovery", "diastolic_bp", 120, 119, "stop", 0),
    ("rec_hr_low_escalate", "recovery", "heart_rate", 40, 41, "stop", 0),
    ("rec_sbp_low_escalate", "recovery", "systolic_bp", 90, 91, "stop", 0),
]


@pytest.mark.parametrize(
    ("rule", "phase", "parameter", "crossing", "within", "level", "confirm"), LIMIT_CASES
)
def test_each_limit_fires_at_its_threshold_and_not_just_inside_it(
    rule, phase, parameter, crossing, within, level, confirm
):
    crossed = [reading(0, parameter, crossing), reading(confirm, parameter, crossing)]
    alarms = [a for a in assess(crossed, phase=phase) if a.rule_id == rule]
    assert len(alarms) == 1
    assert alarms[0].level == level
    assert alarms[0].at_min == confirm
    assert alarms[0].value == crossing
    assert alarms[0].source and alarms[0].action
    inside = [reading(0, parameter, within), reading(confirm, parameter, within)]
    assert rule not in rule_ids(assess(inside, phase=phase))


@pytest.mark.parametrize(
    ("rule", "phase", "parameter", "crossing"),
    [(c[0], c[1], c[2], c[3]) for c in LIMIT_CASES if c[6] > 0],
)
def test_a_confirmed_limit_needs_its_full_interval(rule, phase, parameter, crossing):
    early = [reading(0, parameter, crossing), reading(4.9, parameter, crossing)]
    assert rule not in rule_ids(assess(early, phase=phase))


def test_every_limit_row_is_exercised_and_carries_source_and_evidence():
    assert {c[0] for c in LIMIT_CASES} | {"rec_sbp_from_baseline_warn"} == set(monitoring.LIMITS)
    for row in monitoring.limits():
        assert row.source.strip()
        assert row.evidence in ("confirmed", "secondary", "convention")


def test_the_pre_infusion_140_over_90_limit_is_the_label_value_marked_confirmed():
    rows = {r.id: r for r in monitoring.limits()}
    assert rows["pre_sbp_warn"].threshold == 140
    assert rows["pre_dbp_warn"].threshold == 90
    assert rows["pre_sbp_warn"].evidence == "confirmed"
    assert "SPRAVATO" in rows["pre_sbp_warn"].source
    assert rows["inf_sbp_stop"].evidence == "convention"


def test_a_single_reading_of_200_over_120_calls_for_a_stop():
    alarms = assess([VitalSigns(at_min=20, systolic_bp=200, diastolic_bp=120)], phase="infusion")
    stops = [a for a in alarms if a.level == "stop"]
    assert {a.parameter for a in stops} == {"systolic_bp", "diastolic_bp"}
    assert "Stop the infusion" in stops[0].action
    assert alarms[0].level == "stop"  # the most severe comes first at equal times


def test_a_single_reading_of_185_over_100_asks_for_a_recheck_not_a_pause():
    alarms = assess([VitalSigns(at_min=20, systolic_bp=185, diastolic_bp=100)], phase="infusion")
    assert [(a.rule_id, a.level) for a in alarms] == [("inf_sbp_recheck", "warn")]


def test_180_over_110_on_two_readings_five_minutes_apart_pauses_the_infusion():
    readings = [
        VitalSigns(at_min=20, systolic_bp=182, diastolic_bp=111),
        VitalSigns(at_min=25, systolic_bp=184, diastolic_bp=112),
    ]
    pauses = [a for a in assess(readings, phase="infusion") if a.level == "pause"]
    assert {a.rule_id for a in pauses} == {"inf_sbp_pause", "inf_dbp_pause"}
    assert all(a.at_min == 25 and a.confirmed_over_min == 5 for a in pauses)
    assert pauses[0].action == "Pause the infusion, recheck BP in 5 minutes, notify the prescriber"


def test_a_reading_back_under_the_limit_restarts_the_confirmation():
    readings = [
        reading(0, "systolic_bp", 185),
        reading(3, "systolic_bp", 170),
        reading(5, "systolic_bp", 185),
        reading(9, "systolic_bp", 186),
        reading(10, "systolic_bp", 187),
    ]
    pauses = [a for a in assess(readings, phase="infusion") if a.rule_id == "inf_sbp_pause"]
    assert [a.at_min for a in pauses] == [10]


def test_readings_without_the_parameter_neither_confirm_nor_break_a_run():
    readings = [
        reading(0, "systolic_bp", 185),
        VitalSigns(at_min=2, heart_rate=80),
        reading(5, "systolic_bp", 181),
    ]
    assert "inf_sbp_pause" in rule_ids(assess(readings, phase="infusion"))


def test_a_heart_rate_above_120_sustained_for_five_minutes_on_a_monitor_pauses():
    feed = [VitalSigns(at_min=m, heart_rate=125) for m in range(6)]
    alarms = [a for a in assess(feed, phase="infusion") if a.rule_id == "inf_hr_pause"]
    assert [a.at_min for a in alarms] == [5]
    assert "inf_hr_pause" not in rule_ids(assess(feed[:5], phase="infusion"))


def test_a_rule_fires_once_per_run_and_again_after_the_value_recovers():
    values = [(0, 190), (5, 190), (10, 190), (15, 150), (20, 190), (25, 190)]
    feed = [reading(t, "systolic_bp", v) for t, v in values]
    pauses = [a for a in assess(feed, phase="infusion") if a.rule_id == "inf_sbp_pause"]
    assert [a.at_min for a in pauses] == [5, 25]


def test_pre_infusion_150_over_95_warns_and_leaves_the_decision_to_the_prescriber():
    alarms = assess([VitalSigns(at_min=0, systolic_bp=150, diastolic_bp=95)], phase="pre_infusion")
    assert [(a.rule_id, a.level) for a in alarms] == [
        ("pre_dbp_warn", "warn"),
        ("pre_sbp_warn", "warn"),
    ]
    assert "prescriber" in alarms[0].action


def test_normal_vitals_raise_no_alarm_in_any_phase():
    normal = VitalSigns(
        at_min=0, heart_rate=72, systolic_bp=128, diastolic_bp=82, spo2=98, respiratory_rate=14
    )
    for phase in ("pre_infusion", "infusion", "recovery"):
        assert assess([normal], phase=phase, baseline=normal) == []


def test_a_recovery_bp_far_from_baseline_warns_only_when_a_baseline_is_given():
    baseline = VitalSigns(at_min=0, systolic_bp=120, diastolic_bp=80)
    far = VitalSigns(at_min=60, systolic_bp=175, diastolic_bp=95)
    near = VitalSigns(at_min=60, systolic_bp=170, diastolic_bp=95)
    low = VitalSigns(at_min=60, systolic_bp=69, diastolic_bp=40)
    rule = "rec_sbp_from_baseline_warn"
    assert rule in rule_ids(assess([far], phase="recovery", baseline=baseline))
    assert rule in rule_ids(assess([low], phase="recovery", baseline=baseline))
    assert rule not in rule_ids(assess([near], phase="recovery", baseline=baseline))
    assert rule not in rule_ids(assess([far], phase="recovery"))


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"heart_rate": 0}, "heart_rate"),
        ({"heart_rate": 400}, "heart_rate"),
        ({"spo2": 101}, "spo2"),
        ({"spo2": 20}, "spo2"),
        ({"systolic_bp": 1200, "diastolic_bp": 80}, "systolic_bp"),
        ({"diastolic_bp": 0}, "diastolic_bp"),
        ({"respiratory_rate": 150}, "respiratory_rate"),
        ({"heart_rate": math.nan}, "heart_rate"),
        ({"systolic_bp": 80, "diastolic_bp": 90}, "systolic_bp"),
        ({"systolic_bp": 90, "diastolic_bp": 90}, "systolic_bp"),
    ],
)
def test_an_implausible_reading_is_refused_naming_the_field(fields, named):
    with pytest.raises(ValueError, match=named):
        VitalSigns(at_min=0, **fields)


def test_a_reading_made_as_charted_is_the_reading_its_values_make():
    """``VitalSigns.charted`` (readings the chart already checked) skips the checks
    only: the reading equals, hashes like and is assessed like the checked one."""
    checked = VitalSigns(at_min=12.5, heart_rate=72, systolic_bp=185, diastolic_bp=95, spo2=97)
    made = VitalSigns.charted(12.5, 72, 185, 95, 97, None)
    assert made == checked and hash(made) == hash(checked)
    assert made.get("respiratory_rate") is None and not made.is_empty()
    with pytest.raises(AttributeError):
        made.spo2 = 80  # type: ignore[misc]
    assert rule_ids(assess([made], phase="infusion")) == rule_ids(
        assess([checked], phase="infusion")
    )


def test_readings_out_of_time_order_are_refused():
    with pytest.raises(ValueError, match="time order"):
        assess([reading(10, "spo2", 97), reading(5, "spo2", 97)], phase="infusion")


def test_an_unknown_phase_is_refused():
    with pytest.raises(ValueError, match="phase"):
        assess([], phase="during")


def test_a_clinic_override_moves_a_limit_and_is_named_on_the_alarm():
    change = ovr("inf_sbp_stop", "threshold", 210)
    at_205 = [reading(0, "systolic_bp", 205)]
    assert "inf_sbp_stop" not in rule_ids(assess(at_205, phase="infusion", overrides=[change]))
    at_210 = [reading(0, "systolic_bp", 210)]
    stop = [a for a in assess(at_210, phase="infusion", overrides=[change]) if a.level == "stop"]
    assert stop[0].limit == 210
    assert stop[0].overrides == (change,)
    assert {r.id: r.threshold for r in monitoring.limits([change])}["inf_sbp_stop"] == 210


def test_an_override_can_change_the_confirmation_interval():
    change = ovr("inf_sbp_pause", "confirm_min", 10)
    feed = [reading(0, "systolic_bp", 185), reading(5, "systolic_bp", 185)]
    assert "inf_sbp_pause" not in rule_ids(assess(feed, phase="infusion", overrides=[change]))


def test_an_override_of_an_unknown_limit_is_refused():
    with pytest.raises(ValueError, match="unknown row"):
        assess([], phase="infusion", overrides=[ovr("inf_sbp_stopp", "threshold", 1)])


@given(
    st.floats(min_value=91, max_value=179.9),
    st.floats(min_value=15, max_value=109.9),
)
def test_property_bp_below_the_action_levels_never_pauses_or_stops(systolic, diastolic):
    if diastolic >= systolic:
        return
    alarms = assess(
        [VitalSigns(at_min=t, systolic_bp=systolic, diastolic_bp=diastolic) for t in (0, 5, 10)],
        phase="infusion",
    )
    assert alarms == []


@given(st.floats(min_value=200, max_value=300), st.floats(min_value=15, max_value=119.9))
def test_property_systolic_200_or_more_always_stops_the_infusion(systolic, diastolic):
    alarms = assess(
        [VitalSigns(at_min=0, systolic_bp=systolic, diastolic_bp=diastolic)], phase="infusion"
    )
    assert "inf_sbp_stop" in rule_ids(alarms)


# Reading schedule


def test_the_iv_schedule_reads_every_10_minutes_during_and_every_15_after():
    assert monitoring.reading_schedule("iv", infusion_min=40, observation_min=60) == [
        0, 10, 20, 30, 40, 55, 70, 85, 100,
    ]  # fmt: skip


def test_the_iv_schedule_adds_a_reading_at_the_end_of_an_odd_length_infusion():
    assert monitoring.reading_schedule("iv", infusion_min=45, observation_min=30) == [
        0, 10, 20, 30, 40, 45, 60, 75,
    ]  # fmt: skip


def test_the_esketamine_schedule_is_before_dosing_40_minutes_after_and_before_discharge():
    assert monitoring.reading_schedule(
        "esketamine_nasal", infusion_min=10, observation_min=120
    ) == [0, 50, 130]


def test_the_esketamine_40_minute_reading_is_left_out_of_a_shorter_observation():
    assert monitoring.reading_schedule("esketamine_nasal", infusion_min=10, observation_min=30) == [
        0,
        40,
    ]


def test_schedule_sources_are_the_emory_study_and_the_label_both_confirmed():
    assert "Riva-Posse" in monitoring.SCHEDULES["iv"].source
    assert "SPRAVATO" in monitoring.SCHEDULES["esketamine_nasal"].source
    assert {r.evidence for r in monitoring.SCHEDULES.values()} == {"confirmed"}


def test_a_clinic_can_override_the_after_infusion_interval():
    change = ovr("iv", "after_every_min", 30)
    assert monitoring.reading_schedule(
        "iv", infusion_min=40, observation_min=60, overrides=[change]
    ) == [0, 10, 20, 30, 40, 70, 100]


@pytest.mark.parametrize(
    ("route", "infusion", "observation"),
    [("oral", 40, 60), ("iv", -1, 60), ("iv", 40, -5)],
)
def test_a_schedule_for_an_unknown_route_or_negative_time_is_refused(route, infusion, observation):
    with pytest.raises(ValueError):
        monitoring.reading_schedule(route, infusion_min=infusion, observation_min=observation)


def test_schedule_status_tells_done_due_overdue_and_upcoming():
    statuses = monitoring.schedule_status([0, 10, 20, 30], [0.5, 11], now_min=22)
    assert [(s.due_at_min, s.status, s.charted_at_min) for s in statuses] == [
        (0, "done", 0.5),
        (10, "done", 11),
        (20, "due", None),
        (30, "upcoming", None),
    ]
    later = monitoring.schedule_status([0, 10, 20, 30], [0.5, 11], now_min=25.1)
    assert later[2].status == "overdue"


def test_one_charted_reading_satisfies_only_one_due_time():
    statuses = monitoring.schedule_status([0, 5], [3], now_min=20)
    assert [s.status for s in statuses] == ["done", "overdue"]


# Discharge

GOOD_VITALS = VitalSigns(
    at_min=100, heart_rate=78, systolic_bp=132, diastolic_bp=84, spo2=97, respiratory_rate=14
)
GOOD_BASELINE = VitalSigns(
    at_min=0, heart_rate=74, systolic_bp=128, diastolic_bp=82, spo2=98, respiratory_rate=14
)
# Everything a session records for a routine discharge, on top of scores and times.
RECORDED = {
    "baseline": GOOD_BASELINE,
    "escort_recorded": True,
    "no_driving_instruction_given": True,
    "open_suicidality_alert": False,
}


def discharge(**kwargs):
    args = {"route": "iv", "aldrete_total": 9, "minutes_since_dose_end": 30}
    args["latest_vitals"] = GOOD_VITALS
    args.update(RECORDED)
    args.update(kwargs)
    return monitoring.discharge_ready(**args)


def unmet(decision):
    return [r.criterion_id for r in decision.reasons if not r.met]


def test_an_iv_patient_meeting_every_criterion_is_ready():
    decision = discharge()
    assert decision.ready
    assert [r.criterion_id for r in decision.reasons] == [
        "aldrete_min",
        "aldrete_consistent",
        "observation_iv_min",
        "vitals_within_limits",
        "vitals_near_baseline",
        "spo2_min",
        "escort_recorded",
        "no_driving_instruction",
        "no_open_suicidality_alert",
    ]
    assert all(r.met and r.source for r in decision.reasons)


def test_an_aldrete_of_8_is_not_ready_and_says_why():
    decision = discharge(aldrete_total=8, minutes_since_dose_end=45)
    assert not decision.ready
    assert unmet(decision) == ["aldrete_min"]
    reason = decision.reasons[0]
    assert "8" in reason.text and "9" in reason.text
    assert "Aldrete" in reason.source and reason.evidence == "confirmed"


ESKETAMINE_RECORDED = {"moaas": 5, "cadss_pre_dose": 0, "cadss_latest": 0}


@pytest.mark.parametrize(
    ("route", "minutes", "ready", "evidence"),
    [
        ("iv", 29, False, "convention"),
        ("iv", 30, True, "convention"),
        ("esketamine_nasal", 119, False, "confirmed"),
        ("esketamine_nasal", 120, True, "confirmed"),
    ],
)
def test_the_minimum_observation_depends_on_the_route(route, minutes, ready, evidence):
    extra = ESKETAMINE_RECORDED if route == "esketamine_nasal" else {}
    decision = discharge(route=route, aldrete_total=10, minutes_since_dose_end=minutes, **extra)
    assert decision.ready is ready
    observation = next(r for r in decision.reasons if r.criterion_id.startswith("observation"))
    assert observation.evidence == evidence


def test_the_iv_observation_cites_the_90_minute_bp_return_as_information_only():
    decision = discharge(aldrete_total=10)
    observation = next(r for r in decision.reasons if r.criterion_id == "observation_iv_min")
    assert "Riva-Posse" in observation.source
    assert "information only" in observation.source


@pytest.mark.parametrize(("moaas", "ready"), [(4, False), (5, True)])
def test_moaas_is_judged_when_given(moaas, ready):
    decision = discharge(aldrete_total=10, minutes_since_dose_end=60, moaas=moaas)
    assert decision.ready is ready
    assert "moaas_min" in [r.criterion_id for r in decision.reasons]


def test_high_blood_pressure_at_discharge_blocks_it_with_the_alarm():
    decision = discharge(
        aldrete_total=10,
        minutes_since_dose_end=60,
        latest_vitals=VitalSigns(at_min=100, heart_rate=78, systolic_bp=185, diastolic_bp=100),
        baseline=None,
    )
    assert not decision.ready
    assert [a.rule_id for a in decision.alarms] == ["rec_sbp_warn"]
    limits_reason = next(r for r in decision.reasons if r.criterion_id == "vitals_within_limits")
    assert "185" in limits_reason.text


def test_discharge_needs_a_blood_pressure_in_the_latest_vitals():
    decision = discharge(
        route="esketamine_nasal",
        aldrete_total=10,
        minutes_since_dose_end=130,
        latest_vitals=VitalSigns(at_min=140, spo2=98),
        **ESKETAMINE_RECORDED,
    )
    assert not decision.ready
    limits_reason = next(r for r in decision.reasons if r.criterion_id == "vitals_within_limits")
    assert "No blood pressure" in limits_reason.text


def test_bp_far_from_baseline_blocks_discharge():
    decision = discharge(
        aldrete_total=10,
        minutes_since_dose_end=60,
        latest_vitals=VitalSigns(at_min=100, heart_rate=74, systolic_bp=175, diastolic_bp=95),
        baseline=VitalSigns(at_min=0, heart_rate=74, systolic_bp=118, diastolic_bp=76),
    )
    assert not decision.ready
    assert [a.rule_id for a in decision.alarms] == ["rec_sbp_from_baseline_warn"]


def test_discharge_overrides_reach_both_the_criteria_and_the_limits():
    longer = ovr("observation_iv_min", "minimum", 60)
    laxer = ovr("rec_sbp_warn", "threshold", 190)
    decision = discharge(
        aldrete_total=10,
        minutes_since_dose_end=45,
        latest_vitals=VitalSigns(
            at_min=100, heart_rate=74, systolic_bp=185, diastolic_bp=100, spo2=97
        ),
        baseline=VitalSigns(at_min=0, heart_rate=74, systolic_bp=175, diastolic_bp=95),
        overrides=[longer, laxer],
    )
    assert unmet(decision) == ["observation_iv_min"]
    assert decision.overrides_applied == (longer, laxer)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"aldrete_total": 11},
        {"aldrete_total": -1},
        {"moaas": 6},
        {"minutes_since_dose_end": -5},
        {"route": "oral"},
        {"cadss_latest": 93},
        {"aldrete_items": {"activity": 2}},
        {
            "aldrete_items": {
                "activity": 3,
                "respiration": 2,
                "circulation": 2,
                "consciousness": 2,
                "oxygen_saturation": 0,
            }
        },
    ],
)
def test_discharge_refuses_impossible_inputs(kwargs):
    with pytest.raises(ValueError):
        discharge(**kwargs)


# Side effects

REQUIRED_SIDE_EFFECTS = [
    "elevated_heart_rate",
    "increased_blood_pressure",
    "nausea",
    "vomiting",
    "dizziness",
    "headache",
    "vision_changes",
    "mood_changes",
    "dissociation",
    "anxiety",
    "sedation",
]


def test_the_side_effect_vocabulary_has_the_required_entries():
    assert [s.id for s in monitoring.side_effects()] == REQUIRED_SIDE_EFFECTS


@pytest.mark.parametrize(
    ("effect_id", "source_mentions", "evidence"),
    [
        ("increased_blood_pressure", "Short B", "confirmed"),
        ("dizziness", "Short B", "confirmed"),
        ("headache", "Short B", "confirmed"),
        ("vision_changes", "Short B", "confirmed"),
        ("dissociation", "Short B", "confirmed"),
        ("anxiety", "Short B", "confirmed"),
        ("nausea", "SPRAVATO", "secondary"),
        ("vomiting", "SPRAVATO", "secondary"),
        ("sedation", "SPRAVATO", "secondary"),
        ("elevated_heart_rate", "seed clinic", "secondary"),
        ("mood_changes", "seed clinic", "convention"),
    ],
)
def test_each_side_effect_has_grades_interventions_and_its_source(
    effect_id, source_mentions, evidence
):
    effect = {s.id: s for s in monitoring.side_effects()}[effect_id]
    assert effect.label and effect.mild and effect.moderate and effect.severe
    assert len({effect.mild, effect.moderate, effect.severe}) == 3
    assert effect.interventions and effect.grading_source and effect.interventions_source
    assert source_mentions in effect.source
    assert effect.evidence == evidence


@pytest.mark.parametrize(
    ("effect_id", "intervention"),
    [("nausea", "ondansetron"), ("dissociation", "dim lights"), ("sedation", "MOAA/S")],
)
def test_usual_interventions_are_listed(effect_id, intervention):
    effect = {s.id: s for s in monitoring.side_effects()}[effect_id]
    assert any(intervention in text for text in effect.interventions)


def test_no_side_effect_carries_an_incidence_figure():
    for effect in monitoring.side_effects():
        text = " ".join(
            [effect.label, effect.mild, effect.moderate, effect.severe, effect.source]
            + list(effect.interventions)
        )
        assert not re.search(r"\d\s*%", text), effect.id


def test_a_clinic_can_override_a_side_effect_row():
    change = ovr("nausea", "interventions", ("Ginger tea",))
    nausea = {s.id: s for s in monitoring.side_effects([change])}["nausea"]
    assert nausea.interventions == ("Ginger tea",)


def test_a_pre_dose_reading_counts_within_15_minutes_by_default_and_the_clinic_may_change_it() -> (
    None
):
    for route in ("iv", "esketamine_nasal"):
        row = monitoring.pre_dose_window(route)
        assert row.before_dose_within_min == 15.0
        assert row.before_dose_window_evidence == "convention"
        assert "SPRAVATO" in row.before_dose_window_source
    wider = Override("iv", "before_dose_within_min", 30.0, by="dr.lee", reason="our practice")
    assert monitoring.pre_dose_window("iv", [wider]).before_dose_within_min == 30.0


def test_settle_is_settled_and_unsettled_of_one_window():
    from ketaclinic.clinical.monitoring import settle, settled, unsettled

    # By hand: SBP 185 at 1 and 2 min crosses the infusion recheck (>= 180), DBP 90 none
    # of its rules (>= 110, >= 120); 120/80 at 3 min crosses nothing, so the window
    # settles there for both; without it the systolic rules may be in a run throughout.
    high = [VitalSigns(at_min=m, systolic_bp=185, diastolic_bp=90) for m in (1.0, 2.0)]
    calm = VitalSigns(at_min=3.0, systolic_bp=120, diastolic_bp=80)
    new = [VitalSigns(at_min=4.0, systolic_bp=190, diastolic_bp=95)]
    for window, tail, open_runs in (
        ([*high, calm], [calm], set()),
        (high, high, {"systolic_bp"}),  # a parameter in a run keeps the whole window
    ):
        found = settle(window, new=new, phase="infusion")
        assert found == (
            settled(window, new=new, phase="infusion"),
            unsettled(window, new=new, phase="infusion"),
        )
        assert found[0] == tail and found[1] == open_runs


def test_only_recovery_assesses_a_reading_from_the_baseline_by_default():
    """The one rule measured from the pre-dose reading is recovery's systolic change
    (``rec_sbp_from_baseline_warn``): charting in the other phases needs no baseline."""
    from ketaclinic.clinical.monitoring import uses_baseline

    assert [p for p in ("pre_infusion", "infusion", "recovery") if uses_baseline(p)] == ["recovery"]
