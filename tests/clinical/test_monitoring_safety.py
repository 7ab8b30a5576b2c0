"""Safety in monitoring: recovery escalation, low pressure and rate in every phase,
symptom and sedation triggers, respiratory depression, and discharge against the
patient's own baseline. Expected values are worked out by hand from the sources cited in
the tables (Spravato label 5.6, NEWS2 red bands, MOAA/S and the ASA continuum, PADSS and
Aldrete)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.clinical import monitoring
from ketaclinic.clinical.monitoring import VitalSigns, assess, assess_observations
from ketaclinic.clinical.overrides import Override


def levels(alarms):
    return {(a.rule_id, a.level, a.at_min) for a in alarms}


# ------------------------------------------------------------ recovery blood pressure


def test_recovery_escalates_a_sustained_severe_blood_pressure():
    readings = [
        VitalSigns(at_min=60, systolic_bp=220, diastolic_bp=130),
        VitalSigns(at_min=65, systolic_bp=220, diastolic_bp=130),
    ]
    alarms = assess(readings, phase="recovery")
    assert ("rec_sbp_severe_escalate", "stop", 60) in levels(alarms)
    assert ("rec_dbp_severe_escalate", "stop", 60) in levels(alarms)
    assert ("rec_sbp_escalate", "stop", 65) in levels(alarms)
    assert ("rec_dbp_escalate", "stop", 65) in levels(alarms)
    escalation = next(a for a in alarms if a.rule_id == "rec_sbp_escalate")
    assert "prescriber must assess the patient at once" in escalation.action
    assert "hypertensive crisis" in escalation.action
    assert "emergency care" in escalation.action
    assert "SPRAVATO" in escalation.source and "5.6" in escalation.source


def test_one_recovery_reading_of_185_over_105_warns_and_a_second_five_minutes_later_escalates():
    first = [VitalSigns(at_min=50, systolic_bp=185, diastolic_bp=105)]
    assert [(a.rule_id, a.level) for a in assess(first, phase="recovery")] == [
        ("rec_sbp_warn", "warn")
    ]
    both = first + [VitalSigns(at_min=55, systolic_bp=186, diastolic_bp=104)]
    stops = [a for a in assess(both, phase="recovery") if a.level == "stop"]
    assert [(a.rule_id, a.at_min) for a in stops] == [("rec_sbp_escalate", 55)]


def test_a_recovery_bp_back_under_180_before_five_minutes_does_not_escalate():
    readings = [
        VitalSigns(at_min=50, systolic_bp=185, diastolic_bp=100),
        VitalSigns(at_min=53, systolic_bp=165, diastolic_bp=95),
        VitalSigns(at_min=55, systolic_bp=184, diastolic_bp=100),
    ]
    assert all(a.level == "warn" for a in assess(readings, phase="recovery"))


@given(st.floats(min_value=200, max_value=300), st.floats(min_value=15, max_value=119.9))
def test_property_a_recovery_systolic_of_200_or_more_escalates_at_once(systolic, diastolic):
    alarms = assess(
        [VitalSigns(at_min=90, systolic_bp=systolic, diastolic_bp=diastolic)], phase="recovery"
    )
    assert ("rec_sbp_severe_escalate", "stop", 90) in levels(alarms)


@given(
    st.floats(min_value=90.1, max_value=179.9),
    st.floats(min_value=15, max_value=109.9),
)
def test_property_recovery_bp_between_the_red_bands_never_escalates(systolic, diastolic):
    if diastolic >= systolic:
        return
    feed = [
        VitalSigns(at_min=t, systolic_bp=systolic, diastolic_bp=diastolic) for t in (60, 65, 70)
    ]
    assert [a for a in assess(feed, phase="recovery") if a.level == "stop"] == []


# ------------------------------------------------------------ low pressure and rate


def test_recovery_escalates_a_heart_rate_of_38():
    alarms = assess([VitalSigns(at_min=70, heart_rate=38)], phase="recovery")
    assert [(a.rule_id, a.level) for a in alarms] == [("rec_hr_low_escalate", "stop")]
    assert "NEWS2" in alarms[0].source or "Early Warning Score" in alarms[0].source


def test_recovery_escalates_a_blood_pressure_of_82_over_45():
    alarms = assess([VitalSigns(at_min=70, systolic_bp=82, diastolic_bp=45)], phase="recovery")
    assert [(a.rule_id, a.level) for a in alarms] == [("rec_sbp_low_escalate", "stop")]


def test_before_the_dose_88_over_50_is_a_no_go_while_a_heart_rate_of_45_is_outside_the_red_band():
    # NEWS2 red bands: systolic <= 90, heart rate <= 40; 41-50/min scores 1, not 3.
    alarms = assess(
        [VitalSigns(at_min=0, heart_rate=45, systolic_bp=88, diastolic_bp=50)],
        phase="pre_infusion",
    )
    assert [(a.rule_id, a.level) for a in alarms] == [("pre_sbp_low_no_go", "no_go")]
    at_40 = assess([VitalSigns(at_min=0, heart_rate=40)], phase="pre_infusion")
    assert [(a.rule_id, a.level) for a in at_40] == [("pre_hr_low_no_go", "no_go")]


def test_every_phase_uses_the_same_red_bands_for_low_pressure_and_rate():
    rows = monitoring.LIMITS
    low = {
        r.id: (r.threshold, r.comparison)
        for r in rows.values()
        if r.comparison == "<=" and r.parameter in ("heart_rate", "systolic_bp")
    }
    assert low == {
        "pre_hr_low_no_go": (40, "<="),
        "pre_sbp_low_no_go": (90, "<="),
        "inf_hr_low_pause": (40, "<="),
        "inf_sbp_low_pause": (90, "<="),
        "rec_hr_low_escalate": (40, "<="),
        "rec_sbp_low_escalate": (90, "<="),
    }


# ------------------------------------------------------------ respiratory depression


@pytest.mark.parametrize("phase", ["infusion", "recovery"])
def test_respiratory_depression_escalates_on_spo2_below_90_or_breathing_8_a_minute(phase):
    low_spo2 = assess([VitalSigns(at_min=30, spo2=88)], phase=phase)
    assert ("spo2_low_stop", "stop", 30) in levels(low_spo2)
    slow = assess([VitalSigns(at_min=30, respiratory_rate=8)], phase=phase)
    assert [(a.rule_id, a.level) for a in slow] == [("rr_low_stop", "stop")]
    assert "respiratory depression" in slow[0].source


# ------------------------------------------------------------ symptoms


@pytest.mark.parametrize(
    "symptom",
    [
        "chest_pain",
        "severe_headache",
        "visual_disturbance",
        "seizure",
        "focal_neurological_deficit",
        "shortness_of_breath",
        "diminished_consciousness",
    ],
)
@pytest.mark.parametrize("phase", ["infusion", "recovery"])
def test_a_charted_symptom_escalates_at_once_whatever_the_blood_pressure(symptom, phase):
    alarms = assess_observations(phase=phase, at_min=45, symptoms=[symptom])
    assert [(a.rule_id, a.level, a.parameter, a.at_min) for a in alarms] == [
        (symptom, "stop", "symptom", 45)
    ]
    assert "emergency care" in alarms[0].action
    assert "hypertensive" in alarms[0].source and alarms[0].evidence == "secondary"


def test_several_symptoms_raise_one_alarm_each_and_repeats_count_once():
    alarms = assess_observations(
        phase="recovery", at_min=80, symptoms=["chest_pain", "seizure", "chest_pain"]
    )
    assert sorted(a.rule_id for a in alarms) == ["chest_pain", "seizure"]


def test_an_unknown_symptom_is_refused_rather_than_dropped():
    with pytest.raises(ValueError, match="unknown symptom"):
        assess_observations(phase="recovery", at_min=80, symptoms=["chest pain"])


def test_every_symptom_and_sedation_trigger_carries_a_source():
    for row in monitoring.symptom_triggers():
        assert row.source.strip() and row.evidence in ("confirmed", "secondary", "convention")
    for row in monitoring.sedation_triggers():
        assert row.source.strip() and row.evidence in ("confirmed", "secondary", "convention")


# ------------------------------------------------------------ sedation


@pytest.mark.parametrize(
    ("moaas", "expected"),
    [
        (0, [("moaas_deep_sedation", "stop")]),
        (1, [("moaas_deep_sedation", "stop")]),
        (2, [("moaas_moderate_sedation", "warn")]),
        (3, [("moaas_moderate_sedation", "warn")]),
        (4, []),
        (5, []),
    ],
)
def test_deep_sedation_on_moaas_escalates_and_moderate_sedation_warns(moaas, expected):
    alarms = assess_observations(phase="recovery", at_min=20, moaas=moaas)
    assert [(a.rule_id, a.level) for a in alarms] == expected


@given(st.integers(min_value=0, max_value=5))
def test_property_moaas_escalates_exactly_at_or_below_the_deep_sedation_threshold(moaas):
    alarms = assess_observations(phase="infusion", at_min=10, moaas=moaas)
    assert any(a.level == "stop" for a in alarms) is (moaas <= 1)


def test_a_clinic_can_move_the_deep_sedation_threshold_and_the_alarm_names_the_override():
    change = Override("moaas_deep_sedation", "threshold", 2, by="Dr Test", reason="protocol")
    alarms = assess_observations(phase="recovery", at_min=20, moaas=2, overrides=[change])
    assert [(a.rule_id, a.level) for a in alarms] == [("moaas_deep_sedation", "stop")]
    assert alarms[0].overrides == (change,)


@pytest.mark.parametrize("moaas", [-1, 6, True])
def test_an_impossible_moaas_is_refused(moaas):
    with pytest.raises(ValueError):
        assess_observations(phase="recovery", at_min=20, moaas=moaas)


# ------------------------------------------------------------ discharge


BASELINE = VitalSigns(at_min=0, heart_rate=80, systolic_bp=135, diastolic_bp=85, spo2=98)
RECORDED = {
    "baseline": BASELINE,
    "escort_recorded": True,
    "no_driving_instruction_given": True,
    "open_suicidality_alert": False,
}
CALM = VitalSigns(at_min=75, heart_rate=82, systolic_bp=138, diastolic_bp=86, spo2=97)


def discharge(**kwargs):
    args = {
        "route": "iv",
        "aldrete_total": 10,
        "minutes_since_dose_end": 30,
        "latest_vitals": CALM,
        **RECORDED,
    }
    args.update(kwargs)
    return monitoring.discharge_ready(**args)


def unmet(decision):
    return {r.criterion_id: r.text for r in decision.reasons if not r.met}


def test_an_iv_patient_far_above_baseline_with_spo2_93_is_not_ready_whatever_the_aldrete():
    latest = VitalSigns(at_min=70, heart_rate=118, systolic_bp=178, diastolic_bp=108, spo2=93)
    decision = discharge(aldrete_total=9, latest_vitals=latest)
    assert not decision.ready
    reasons = unmet(decision)
    assert set(reasons) == {"vitals_near_baseline", "spo2_min"}
    # 178 vs 135: +31.9%; 108 vs 85: +27.1%; 118 vs 80: +47.5% (all beyond 20%).
    assert "+31.9%" in reasons["vitals_near_baseline"]
    assert "+27.1%" in reasons["vitals_near_baseline"]
    assert "+47.5%" in reasons["vitals_near_baseline"]
    assert "93" in reasons["spo2_min"] and "94" in reasons["spo2_min"]


def test_an_aldrete_circulation_of_2_is_refused_with_a_bp_43_mmhg_from_baseline():
    latest = VitalSigns(at_min=70, heart_rate=82, systolic_bp=178, diastolic_bp=90, spo2=97)
    items = {
        "activity": 2,
        "respiration": 2,
        "circulation": 2,
        "consciousness": 2,
        "oxygen_saturation": 2,
    }
    decision = discharge(aldrete_total=10, aldrete_items=items, latest_vitals=latest)
    text = unmet(decision)["aldrete_consistent"]
    assert "circulation is charted 2 but the BP allows at most 1" in text


def test_an_aldrete_total_of_10_cannot_stand_with_a_bp_more_than_50_from_baseline():
    latest = VitalSigns(at_min=70, heart_rate=82, systolic_bp=190, diastolic_bp=95, spo2=97)
    decision = discharge(aldrete_total=10, latest_vitals=latest)
    # circulation at most 0 (55 mmHg), SpO2 item at most 2: highest total 8.
    assert "at most 8, not 10" in unmet(decision)["aldrete_consistent"]


@pytest.mark.parametrize(("spo2", "highest"), [(93, 10), (92, 9), (90, 9), (89, 8)])
def test_the_aldrete_spo2_item_follows_the_charted_saturation(spo2, highest):
    latest = VitalSigns(at_min=70, heart_rate=82, systolic_bp=138, diastolic_bp=86, spo2=spo2)
    fits = discharge(aldrete_total=highest, latest_vitals=latest)
    assert "aldrete_consistent" not in unmet(fits)
    if highest < 10:
        too_high = discharge(aldrete_total=highest + 1, latest_vitals=latest)
        assert "aldrete_consistent" in unmet(too_high)


def test_aldrete_items_that_do_not_add_up_to_the_total_are_unmet():
    items = {
        "activity": 2,
        "respiration": 2,
        "circulation": 2,
        "consciousness": 1,
        "oxygen_saturation": 2,
    }
    assert (
        "add up to 9, not the total 10"
        in unmet(discharge(aldrete_items=items))["aldrete_consistent"]
    )


@given(st.integers(min_value=100, max_value=200))
def test_property_systolic_within_20_percent_of_baseline_is_near_baseline(systolic):
    # Baseline 130: 20% is 26 mmHg, so 104 to 156 is within (PADSS).
    base = VitalSigns(at_min=0, heart_rate=80, systolic_bp=130, diastolic_bp=60, spo2=98)
    latest = VitalSigns(at_min=70, heart_rate=80, systolic_bp=systolic, diastolic_bp=60, spo2=98)
    decision = discharge(baseline=base, latest_vitals=latest, aldrete_total=9)
    assert ("vitals_near_baseline" not in unmet(decision)) is (104 <= systolic <= 156)


def test_discharge_without_a_baseline_says_the_comparison_is_needed():
    reasons = unmet(discharge(baseline=None))
    assert "No pre-dose baseline" in reasons["vitals_near_baseline"]
    assert "pre-dose" in reasons["aldrete_consistent"]


def test_esketamine_discharge_needs_a_sedation_rating_and_resolved_dissociation():
    decision = discharge(route="esketamine_nasal", minutes_since_dose_end=120)
    reasons = unmet(decision)
    assert set(reasons) == {"sedation_recorded", "dissociation_resolved"}
    assert "MOAA/S" in reasons["sedation_recorded"]
    assert "CADSS" in reasons["dissociation_resolved"]
    still = discharge(
        route="esketamine_nasal",
        minutes_since_dose_end=120,
        moaas=5,
        cadss_pre_dose=2,
        cadss_latest=6,
    )
    assert set(unmet(still)) == {"dissociation_resolved"}
    assert "6 is above the pre-dose 2" in unmet(still)["dissociation_resolved"]
    done = discharge(
        route="esketamine_nasal",
        minutes_since_dose_end=120,
        moaas=5,
        cadss_pre_dose=2,
        cadss_latest=2,
    )
    assert done.ready


def test_an_iv_discharge_judges_dissociation_only_when_a_cadss_is_charted():
    assert discharge().ready
    assert "dissociation_resolved" in unmet(discharge(cadss_pre_dose=0, cadss_latest=3))


@pytest.mark.parametrize(
    ("field", "criterion"),
    [
        ("escort_recorded", "escort_recorded"),
        ("no_driving_instruction_given", "no_driving_instruction"),
    ],
)
@pytest.mark.parametrize("route", ["iv", "esketamine_nasal"])
def test_discharge_needs_the_escort_and_the_no_driving_instruction_recorded(
    field, criterion, route
):
    extra = {"moaas": 5, "cadss_latest": 0} if route == "esketamine_nasal" else {}
    not_recorded = discharge(route=route, minutes_since_dose_end=120, **{field: None}, **extra)
    assert set(unmet(not_recorded)) == {criterion}
    assert "not recorded" in unmet(not_recorded)[criterion]
    refused = discharge(route=route, minutes_since_dose_end=120, **{field: False}, **extra)
    assert set(unmet(refused)) == {criterion}


def test_the_driving_instruction_cites_next_day_for_esketamine_and_24_hours_for_ketamine():
    row = monitoring.DISCHARGE_CRITERIA["no_driving_instruction"]
    assert "next day after a restful sleep" in row.description
    assert "24 hours" in row.description


def test_an_open_suicidality_alert_holds_discharge_until_a_clinician_reviews_it():
    assert (
        "reviewed by a clinician"
        in unmet(discharge(open_suicidality_alert=True))["no_open_suicidality_alert"]
    )
    assert (
        "not checked" in unmet(discharge(open_suicidality_alert=None))["no_open_suicidality_alert"]
    )


def test_every_unmet_criterion_has_a_reason_with_its_source():
    decision = monitoring.discharge_ready(
        route="esketamine_nasal",
        aldrete_total=7,
        minutes_since_dose_end=60,
        latest_vitals=VitalSigns(at_min=60, heart_rate=130, spo2=91),
    )
    assert not decision.ready
    assert len(unmet(decision)) >= 10
    assert all(r.text and r.source for r in decision.reasons)


def test_pause_and_stop_alarms_and_a_blocked_pre_dose_pressure_call_the_prescriber() -> None:
    from ketaclinic.clinical.monitoring import prescriber_call_rules

    rules = prescriber_call_rules()
    alarm, block = rules["session_alarm"], rules["pre_dose_block"]
    assert alarm.calls(level="pause", parameter="heart_rate")
    assert alarm.calls(level="stop", parameter="spo2")
    assert not alarm.calls(level="warn", parameter="systolic_bp")
    assert block.calls(level="no_go", parameter="systolic_bp")
    assert block.calls(level="no_go", parameter="diastolic_bp")
    assert not block.calls(level="no_go", parameter="spo2")
    assert not block.calls(level="warn", parameter="systolic_bp")
    # 15 minutes before escalation: clinic convention (no source sets it).
    assert (alarm.respond_within_min, alarm.evidence) == (15, "convention")
    assert (block.respond_within_min, block.evidence) == (15, "convention")
