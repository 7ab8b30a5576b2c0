"""Dosing: protocols, dose weight, dose, volumes and pump rates.

Every expected number is computed by hand and written literally below (the hand
arithmetic is in the comment beside it); no test reads a value from the code under test
to decide what it expects.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.clinical import dosing
from ketaclinic.clinical.overrides import Override

PROTOCOL_IDS = [
    "iv_ketamine",
    "im_ketamine",
    "oral_ketamine",
    "sublingual_ketamine",
    "in_esketamine",
    "in_esketamine_suicidal",
]


def protocol(protocol_id: str, overrides: list[Override] | None = None) -> dosing.Protocol:
    return {p.id: p for p in dosing.protocols(overrides or [])}[protocol_id]


def by(field: str, value: object) -> Override:
    return Override("iv_ketamine", field, value, by="dr.lee", reason="clinic protocol")


# ------------------------------------------------------------------ the protocol table


def test_the_table_holds_exactly_the_expected_protocols() -> None:
    assert [p.id for p in dosing.protocols()] == PROTOCOL_IDS


@pytest.mark.parametrize(
    ("protocol_id", "route", "unit", "default", "low", "high", "cap", "duration", "evidence"),
    [
        ("iv_ketamine", "intravenous", "mg/kg", 0.5, 0.1, 1.0, 100.0, 40.0, "confirmed"),
        ("im_ketamine", "intramuscular", "mg/kg", 0.5, 0.25, 0.5, 50.0, None, "confirmed"),
        ("oral_ketamine", "oral", "mg/kg", 1.0, 0.25, 2.5, 300.0, None, "confirmed"),
        ("sublingual_ketamine", "sublingual", "mg", 10.0, 10.0, 10.0, 10.0, None, "confirmed"),
        ("in_esketamine", "intranasal", "mg", 56.0, 56.0, 84.0, 84.0, None, "confirmed"),
        ("in_esketamine_suicidal", "intranasal", "mg", 84.0, 56.0, 84.0, 84.0, None, "confirmed"),
    ],
)
def test_each_protocol_has_its_route_dose_range_cap_and_duration(
    protocol_id: str,
    route: str,
    unit: str,
    default: float,
    low: float,
    high: float,
    cap: float,
    duration: float | None,
    evidence: str,
) -> None:
    p = protocol(protocol_id)
    assert (p.route, p.dose_unit, p.default_dose) == (route, unit, default)
    assert (p.dose_min, p.dose_max, p.max_dose_mg) == (low, high, cap)
    assert p.duration_min == duration
    assert p.evidence == evidence
    assert p.source.strip()


NUMERIC_FIELDS = [
    "dose_min",
    "dose_max",
    "max_dose_mg",
    "titration_steps",
    "allowed_doses",
    "duration_min",
    "default_bag_volume_ml",
    "obesity_bmi_threshold",
    "obesity_ibw_ratio",
    "adjusted_weight_factor",
    "mg_per_device",
    "device_interval_min",
    "series_sessions",
    "min_spacing_hours",
    "observation_min",
    "schedule",
    "typical_series",
    "dose_weight_rule",
]


@pytest.mark.parametrize("protocol_id", PROTOCOL_IDS)
def test_every_clinical_value_of_every_protocol_carries_a_source_and_a_mark(
    protocol_id: str,
) -> None:
    p = protocol(protocol_id)
    for field in NUMERIC_FIELDS:
        value = getattr(p, field)
        if value in (None, (), ""):
            continue
        cite = p.citation(field)
        assert cite.source.strip(), field
        assert cite.evidence in ("confirmed", "secondary", "convention"), field
    assert p.citation("default_dose").source == p.source


@pytest.mark.parametrize(
    ("field", "evidence"),
    [
        ("dose_min", "confirmed"),
        ("dose_max", "confirmed"),
        ("titration_steps", "convention"),
        ("max_dose_mg", "convention"),
        ("duration_min", "confirmed"),
        ("dose_weight_rule", "convention"),
        ("typical_series", "convention"),
    ],
)
def test_iv_ketamine_marks_how_firm_each_value_is(field: str, evidence: str) -> None:
    assert protocol("iv_ketamine").citation(field).evidence == evidence


def test_iv_ketamine_titrates_half_to_three_quarters_to_one_mg_per_kg() -> None:
    p = protocol("iv_ketamine")
    assert p.titration_steps == (0.5, 0.75, 1.0)
    assert p.dose_weight_rule == "actual"
    assert p.typical_series == "6 infusions over 2-3 weeks (2 or 3 a week)"
    assert p.series_sessions == 6
    assert p.min_spacing_hours == 48.0
    assert p.citation("min_spacing_hours").evidence == "convention"


def test_esketamine_follows_the_label_schedule() -> None:
    p = protocol("in_esketamine")
    assert p.allowed_doses == (56.0, 84.0)
    assert p.mg_per_device == 28.0
    assert p.observation_min == 120.0
    phases = [(s.first_week, s.last_week, s.frequency) for s in p.schedule]
    assert phases == [
        (1, 4, "twice a week"),
        (5, 8, "once a week"),
        (9, None, "every 2 weeks or once a week"),
    ]
    assert "day 1: 56 mg" in p.schedule[0].note


def test_esketamine_for_suicidal_ideation_is_84_mg_twice_weekly_for_4_weeks() -> None:
    p = protocol("in_esketamine_suicidal")
    assert p.default_dose == 84.0
    assert [(s.first_week, s.last_week, s.frequency) for s in p.schedule] == [
        (1, 4, "twice a week")
    ]
    assert p.schedule[0].doses_mg == (84.0, 56.0)
    assert p.series_sessions == 8


def test_an_unknown_citation_field_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        protocol("iv_ketamine").citation("colour")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("dose_min", 0.6, "dose_min <= default_dose"),
        ("dose_unit", "mL", "dose_unit 'mL'"),
        ("dose_weight_rule", "lean", "dose_weight_rule 'lean'"),
        ("dose_weight_rule", "none", "needs a weight rule"),
        ("route", "rectal", "route 'rectal'"),
        ("evidence", "rumour", "evidence must be"),
        ("max_dose_mg", 0.0, "max_dose_mg must be > 0"),
        ("duration_min", None, "needs duration_min"),
        ("adjusted_weight_factor", None, "adjusted_weight_factor"),
    ],
)
def test_an_override_that_breaks_a_protocol_is_refused(
    field: str, value: object, message: str
) -> None:
    overrides = [by(field, value)]
    if field == "adjusted_weight_factor":
        overrides.insert(0, by("dose_weight_rule", "adjusted"))
    with pytest.raises(ValueError, match=message):
        dosing.protocols(overrides)


def test_an_override_of_an_unknown_protocol_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown row 'iv_propofol'"):
        dosing.protocols([Override("iv_propofol", "max_dose_mg", 1, by="a", reason="b")])


def test_the_default_table_is_untouched_by_an_override() -> None:
    dosing.protocols([by("max_dose_mg", 150.0)])
    assert protocol("iv_ketamine").max_dose_mg == 100.0


# ------------------------------------------------------------------ IV infusions


def test_iv_70_kg_at_10_mg_per_ml_in_a_100_ml_bag() -> None:
    plan = dosing.plan("iv_ketamine", weight_kg=70, concentration_mg_per_ml=10, bag_volume_ml=100)
    assert plan.dose_mg == 35.0  # 70 × 0.5
    assert plan.drug_volume_ml == 3.5  # 35 / 10
    assert plan.total_volume_ml == 103.5  # 100 + 3.5
    assert plan.rate_ml_per_h == 155.3  # 103.5 / 40 × 60 = 155.25 → 155.3 (half up)
    assert plan.duration_min == 40.0
    assert plan.dose_weight_kg == 70.0
    assert plan.dose_weight_basis == "actual"
    assert plan.dose_mg_per_kg == 0.5
    assert plan.devices is None
    assert plan.max_dose_mg == 100.0
    assert plan.evidence == "confirmed"
    assert "Dose = 0.5 mg/kg × 70.0 kg = 35.0 mg" in plan.steps
    assert "Drug volume = 35.0 mg ÷ 10.0 mg/mL = 3.50 mL" in plan.steps
    assert (
        "Pump rate = 103.50 mL ÷ 40.0 min × 60 min/h = 155.25 mL/h, rounded to 155.3 mL/h"
        in plan.steps
    )
    assert any(step.startswith("Rounding:") for step in plan.steps)


def test_iv_80_kg_uses_the_default_100_ml_bag() -> None:
    plan = dosing.plan("iv_ketamine", weight_kg=80.0, concentration_mg_per_ml=10)
    assert plan.dose_mg == 40.0  # 80 × 0.5
    assert plan.drug_volume_ml == 4.0  # 40 / 10
    assert plan.bag_volume_ml == 100.0
    assert plan.total_volume_ml == 104.0
    assert plan.rate_ml_per_h == 156.0  # 104 / 40 × 60
    assert any("(protocol default)" in step for step in plan.steps)


def test_iv_dose_volume_and_rate_each_round_half_up_once() -> None:
    plan = dosing.plan("iv_ketamine", weight_kg=63.3, concentration_mg_per_ml=50, bag_volume_ml=100)
    assert plan.dose_mg == 31.7  # 63.3 × 0.5 = 31.65 → 31.7
    assert plan.drug_volume_ml == 0.63  # 31.7 / 50 = 0.634 → 0.63
    assert plan.total_volume_ml == 100.63
    assert plan.rate_ml_per_h == 150.9  # 100.63 × 1.5 = 150.945 → 150.9
    assert "Dose = 0.5 mg/kg × 63.3 kg = 31.65 mg, rounded to 31.7 mg" in plan.steps


def test_iv_titrated_to_three_quarters_mg_per_kg_in_a_250_ml_bag() -> None:
    plan = dosing.plan(
        "iv_ketamine",
        weight_kg=90,
        dose_mg_per_kg=0.75,
        concentration_mg_per_ml=10,
        bag_volume_ml=250,
    )
    assert plan.dose_mg == 67.5  # 90 × 0.75
    assert plan.drug_volume_ml == 6.75
    assert plan.total_volume_ml == 256.75
    assert plan.rate_ml_per_h == 385.1  # 256.75 × 1.5 = 385.125 → 385.1


def test_a_weight_given_to_more_than_a_decimal_is_rounded_once_and_shown() -> None:
    plan = dosing.plan("iv_ketamine", weight_kg=72.35)
    assert plan.dose_weight_kg == 72.4  # 72.35 → 72.4 (half up)
    assert plan.dose_mg == 36.2  # 72.4 × 0.5
    assert "Actual body weight = 72.35 kg, rounded to 72.4 kg" in plan.steps


def test_a_clinic_that_withdraws_the_drug_volume_runs_the_bag_only() -> None:
    plan = dosing.plan(
        "iv_ketamine",
        weight_kg=70,
        concentration_mg_per_ml=10,
        bag_volume_ml=100,
        overrides=[by("rate_includes_drug_volume", False)],
    )
    assert plan.total_volume_ml == 100.0
    assert plan.rate_ml_per_h == 150.0  # 100 / 40 × 60


def test_without_a_concentration_the_dose_is_given_but_no_rate() -> None:
    plan = dosing.plan("iv_ketamine", weight_kg=70)
    assert plan.dose_mg == 35.0
    assert plan.drug_volume_ml is None
    assert plan.total_volume_ml is None
    assert plan.rate_ml_per_h is None
    assert any("give concentration_mg_per_ml" in step for step in plan.steps)


def test_a_clinic_can_set_a_60_minute_infusion() -> None:
    plan = dosing.plan(
        "iv_ketamine",
        weight_kg=70,
        concentration_mg_per_ml=10,
        bag_volume_ml=100,
        overrides=[by("duration_min", 60.0)],
    )
    assert plan.rate_ml_per_h == 103.5  # 103.5 / 60 × 60
    assert plan.duration_min == 60.0


# ------------------------------------------------------------------ other routes


def test_im_80_kg_at_50_mg_per_ml() -> None:
    plan = dosing.plan("im_ketamine", weight_kg=80, concentration_mg_per_ml=50)
    assert plan.dose_mg == 40.0  # 80 × 0.5
    assert plan.drug_volume_ml == 0.8  # 40 / 50
    assert plan.total_volume_ml == 0.8
    assert plan.rate_ml_per_h is None
    assert plan.duration_min is None


def test_im_quarter_mg_per_kg_at_60_kg() -> None:
    assert dosing.plan("im_ketamine", weight_kg=60, dose_mg_per_kg=0.25).dose_mg == 15.0


def test_oral_one_mg_per_kg_at_70_kg() -> None:
    plan = dosing.plan("oral_ketamine", weight_kg=70, concentration_mg_per_ml=50)
    assert plan.dose_mg == 70.0
    assert plan.drug_volume_ml == 1.4  # 70 / 50


def test_oral_above_the_300_mg_cap_is_refused() -> None:
    # 2.5 mg/kg × 130 kg = 325 mg > 300 mg
    with pytest.raises(ValueError, match="exceeds the maximum single dose"):
        dosing.plan("oral_ketamine", weight_kg=130, dose_mg_per_kg=2.5)


def test_sublingual_is_a_fixed_10_mg() -> None:
    plan = dosing.plan("sublingual_ketamine", weight_kg=70, concentration_mg_per_ml=100)
    assert plan.dose_mg == 10.0
    assert plan.drug_volume_ml == 0.1  # 10 / 100
    assert plan.dose_weight_kg is None
    assert plan.dose_weight_basis is None
    assert plan.dose_mg_per_kg is None


def test_sublingual_other_doses_need_a_clinic_override() -> None:
    with pytest.raises(ValueError, match="outside the allowed range"):
        dosing.plan("sublingual_ketamine", weight_kg=70, dose_mg=20)
    overrides = [
        Override("sublingual_ketamine", field, 25.0, by="dr.lee", reason="troche strength")
        for field in ("dose_max", "max_dose_mg")
    ]
    assert (
        dosing.plan("sublingual_ketamine", weight_kg=70, dose_mg=20, overrides=overrides).dose_mg
        == 20.0
    )


@pytest.mark.parametrize(
    ("protocol_id", "dose", "devices"),
    [
        ("in_esketamine", None, 2),  # default 56 mg / 28
        ("in_esketamine", 56, 2),
        ("in_esketamine", 84, 3),  # 84 / 28
        ("in_esketamine_suicidal", None, 3),  # default 84 mg
        ("in_esketamine_suicidal", 56, 2),
    ],
)
def test_esketamine_doses_in_28_mg_devices(
    protocol_id: str, dose: float | None, devices: int
) -> None:
    plan = dosing.plan(protocol_id, weight_kg=70, dose_mg=dose)
    assert plan.devices == devices
    assert plan.dose_mg == devices * 28.0
    assert plan.rate_ml_per_h is None
    assert plan.dose_weight_kg is None
    assert any("28.0 mg per device" in step and "5.0 minutes' rest" in step for step in plan.steps)


@pytest.mark.parametrize("dose", [28, 70, 112, 56.5])
def test_esketamine_doses_other_than_56_or_84_mg_are_refused(dose: float) -> None:
    with pytest.raises(ValueError, match="not an allowed dose"):
        dosing.plan("in_esketamine", weight_kg=70, dose_mg=dose)


def test_esketamine_takes_no_concentration_or_mg_per_kg() -> None:
    with pytest.raises(ValueError, match="concentration does not apply"):
        dosing.plan("in_esketamine", weight_kg=70, concentration_mg_per_ml=140)
    with pytest.raises(ValueError, match="give dose_mg"):
        dosing.plan("in_esketamine", weight_kg=70, dose_mg_per_kg=0.8)


# ------------------------------------------------------------------ dose weight


@pytest.mark.parametrize(
    ("height_cm", "sex", "ibw"),
    [
        (182.88, "male", 77.6),  # 72.00 in: 50 + 2.3 × 12 = 77.6
        (152.4, "female", 45.5),  # 60.00 in: 45.5 + 0
        (152.4, "male", 50.0),  # 60.00 in: 50 + 0
        (175.0, "male", 70.5),  # 68.90 in: 50 + 2.3 × 8.90 = 70.47 → 70.5
        (165.0, "female", 56.9),  # 64.96 in: 45.5 + 2.3 × 4.96 = 56.908 → 56.9
        (170.18, "female", 61.6),  # 67.00 in: 45.5 + 2.3 × 7 = 61.6
    ],
)
def test_devine_ideal_body_weight(height_cm: float, sex: str, ibw: float) -> None:
    value, steps = dosing.ideal_body_weight(height_cm, sex)
    assert value == ibw
    assert any("Devine" in step for step in steps)


def test_devine_needs_male_or_female() -> None:
    with pytest.raises(ValueError, match="'male' or 'female'"):
        dosing.ideal_body_weight(170, "M")


def adjusted_if_obese() -> list[Override]:
    return [by("dose_weight_rule", "adjusted_if_obese")]


def test_an_obese_patient_is_dosed_on_adjusted_weight_when_the_clinic_chooses_it() -> None:
    plan = dosing.plan(
        "iv_ketamine", weight_kg=120, height_cm=175, sex="male", overrides=adjusted_if_obese()
    )
    assert plan.ideal_body_weight_kg == 70.5
    assert plan.bmi == 39.2  # 120 / 1.75² = 39.18
    assert plan.adjusted_body_weight_kg == 90.3  # 70.5 + 0.4 × 49.5
    assert plan.dose_weight_kg == 90.3
    assert plan.dose_weight_basis == "adjusted"
    assert plan.dose_mg == 45.2  # 0.5 × 90.3 = 45.15 → 45.2
    assert "Adjusted body weight = 70.5 kg + 0.4 × (120.0 kg − 70.5 kg) = 90.3 kg" in plan.steps


def test_a_lean_patient_stays_on_actual_weight_under_the_obesity_rule() -> None:
    plan = dosing.plan(
        "iv_ketamine", weight_kg=70, height_cm=175, sex="male", overrides=adjusted_if_obese()
    )
    assert plan.bmi == 22.9  # 70 / 3.0625 = 22.86
    assert plan.dose_weight_basis == "actual"
    assert plan.dose_mg == 35.0


def test_weight_above_1_2_times_ideal_counts_as_obese_even_below_bmi_30() -> None:
    # IBW 45.5 kg; 1.2 × 45.5 = 54.6 kg < 60 kg; BMI 60 / 1.524² = 25.8
    plan = dosing.plan(
        "iv_ketamine", weight_kg=60, height_cm=152.4, sex="female", overrides=adjusted_if_obese()
    )
    assert plan.bmi == 25.8
    assert plan.dose_weight_basis == "adjusted"
    assert plan.dose_weight_kg == 51.3  # 45.5 + 0.4 × 14.5
    assert plan.dose_mg == 25.7  # 0.5 × 51.3 = 25.65 → 25.7


def test_the_ideal_weight_rule_doses_on_ibw() -> None:
    plan = dosing.plan(
        "iv_ketamine",
        weight_kg=100,
        height_cm=175,
        sex="male",
        overrides=[by("dose_weight_rule", "ideal")],
    )
    assert plan.dose_weight_basis == "ideal"
    assert plan.dose_weight_kg == 70.5
    assert plan.dose_mg == 35.3  # 0.5 × 70.5 = 35.25 → 35.3


def test_the_ideal_weight_rule_uses_actual_weight_when_it_is_lower() -> None:
    plan = dosing.plan(
        "iv_ketamine",
        weight_kg=60,
        height_cm=182.88,
        sex="male",
        overrides=[by("dose_weight_rule", "ideal")],
    )
    assert plan.dose_weight_basis == "actual"
    assert plan.dose_weight_kg == 60.0


def test_the_adjusted_weight_rule_uses_actual_weight_when_not_above_ideal() -> None:
    plan = dosing.plan(
        "iv_ketamine",
        weight_kg=60,
        height_cm=182.88,
        sex="male",
        overrides=[by("dose_weight_rule", "adjusted")],
    )
    assert plan.dose_weight_basis == "actual"
    assert plan.dose_mg == 30.0


@pytest.mark.parametrize(("height_cm", "sex"), [(None, "male"), (175, None), (None, None)])
def test_a_weight_rule_needing_height_and_sex_refuses_without_them(
    height_cm: float | None, sex: str | None
) -> None:
    with pytest.raises(ValueError, match="height_cm and sex are needed"):
        dosing.plan(
            "iv_ketamine",
            weight_kg=100,
            height_cm=height_cm,
            sex=sex,
            overrides=adjusted_if_obese(),
        )


# ------------------------------------------------------------------ limits and errors


@pytest.mark.parametrize("weight", [29.9, 350.1, 0, -70])
def test_an_implausible_weight_is_refused(weight: float) -> None:
    with pytest.raises(ValueError, match="implausible"):
        dosing.plan("iv_ketamine", weight_kg=weight)


@pytest.mark.parametrize(("weight", "dose"), [(30, 3.0), (350, 35.0)])
def test_the_weight_limits_themselves_are_accepted(weight: float, dose: float) -> None:
    plan = dosing.plan("iv_ketamine", weight_kg=weight, dose_mg_per_kg=0.1)
    assert plan.dose_mg == dose


@pytest.mark.parametrize("value", [math.nan, math.inf, True])
def test_a_non_finite_or_boolean_weight_is_refused(value: float) -> None:
    with pytest.raises(ValueError, match="weight_kg"):
        dosing.plan("iv_ketamine", weight_kg=value)


def test_a_clinic_can_widen_the_weight_limit() -> None:
    override = Override("input_limits", "weight_max_kg", 400.0, by="dr.lee", reason="bariatric")
    plan = dosing.plan("iv_ketamine", weight_kg=360, dose_mg_per_kg=0.1, overrides=[override])
    assert plan.dose_mg == 36.0
    assert plan.overrides_applied == (override,)
    assert dosing.input_limits([override]).weight_max_kg == 400.0
    assert len(dosing.protocols([override])) == 6


@pytest.mark.parametrize("height", [100, 250])
def test_an_implausible_height_is_refused(height: float) -> None:
    with pytest.raises(ValueError, match="height .* implausible"):
        dosing.plan("iv_ketamine", weight_kg=70, height_cm=height, sex="male")


def test_an_unknown_sex_is_refused() -> None:
    with pytest.raises(ValueError, match="sex must be"):
        dosing.plan("iv_ketamine", weight_kg=70, height_cm=170, sex="x")


@pytest.mark.parametrize("concentration", [0, -10])
def test_a_concentration_at_or_below_zero_is_refused(concentration: float) -> None:
    with pytest.raises(ValueError, match="concentration must be > 0"):
        dosing.plan("iv_ketamine", weight_kg=70, concentration_mg_per_ml=concentration)


@pytest.mark.parametrize("bag", [0, -100])
def test_a_bag_volume_at_or_below_zero_is_refused(bag: float) -> None:
    with pytest.raises(ValueError, match="bag volume must be > 0"):
        dosing.plan("iv_ketamine", weight_kg=70, bag_volume_ml=bag)


def test_a_bag_volume_for_an_injection_is_refused() -> None:
    with pytest.raises(ValueError, match="not an infusion"):
        dosing.plan("im_ketamine", weight_kg=70, bag_volume_ml=100)


@pytest.mark.parametrize("mg_per_kg", [0.05, 1.1, 2.0])
def test_a_mg_per_kg_outside_the_iv_range_is_refused(mg_per_kg: float) -> None:
    with pytest.raises(ValueError, match="outside the allowed range .* 0.1-1.0 mg/kg"):
        dosing.plan("iv_ketamine", weight_kg=70, dose_mg_per_kg=mg_per_kg)


def test_a_mg_per_kg_outside_the_im_range_is_refused() -> None:
    with pytest.raises(ValueError, match="0.25-0.5 mg/kg"):
        dosing.plan("im_ketamine", weight_kg=70, dose_mg_per_kg=0.75)


def test_an_iv_dose_above_the_cap_is_refused_with_its_source() -> None:
    # 1.0 mg/kg × 120 kg = 120 mg > 100 mg
    with pytest.raises(ValueError, match="120.0 mg exceeds the maximum single dose .* 100.0 mg"):
        dosing.plan("iv_ketamine", weight_kg=120, dose_mg_per_kg=1.0)


def test_a_prescriber_can_raise_the_cap_with_an_override() -> None:
    override = by("max_dose_mg", 150.0)
    plan = dosing.plan("iv_ketamine", weight_kg=120, dose_mg_per_kg=1.0, overrides=[override])
    assert plan.dose_mg == 120.0
    assert plan.max_dose_mg == 150.0
    assert plan.overrides_applied == (override,)


def test_an_unknown_protocol_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown protocol 'iv_propofol'"):
        dosing.plan("iv_propofol", weight_kg=70)


def test_a_fixed_mg_dose_for_a_weight_based_protocol_is_refused() -> None:
    with pytest.raises(ValueError, match="give dose_mg_per_kg"):
        dosing.plan("iv_ketamine", weight_kg=70, dose_mg=35)


def test_an_infusion_without_any_bag_volume_is_refused() -> None:
    with pytest.raises(ValueError, match="give bag_volume_ml"):
        dosing.plan(
            "iv_ketamine",
            weight_kg=70,
            concentration_mg_per_ml=10,
            overrides=[by("default_bag_volume_ml", None)],
        )


# ------------------------------------------------------------------ properties

weights = st.integers(min_value=300, max_value=3500).map(lambda tenths: tenths / 10)
mg_per_kgs = st.integers(min_value=10, max_value=100).map(lambda hundredths: hundredths / 100)
# Within the plausible range of the concentration drawn from (1-100 mg/mL, Ketalar label
# strengths and dilution); values outside it are refused (test_dosing_orders.py).
concentrations = st.sampled_from([10.0, 50.0, 100.0]) | st.integers(10, 1000).map(lambda x: x / 10)
bags = st.integers(min_value=50, max_value=500).map(float)
durations = st.integers(min_value=20, max_value=120).map(float)


@settings(max_examples=300, deadline=None)
@given(weight=weights, mg_per_kg=mg_per_kgs, concentration=concentrations, bag=bags)
def test_iv_dose_is_mg_per_kg_times_weight_within_rounding_and_never_above_the_cap(
    weight: float, mg_per_kg: float, concentration: float, bag: float
) -> None:
    try:
        plan = dosing.plan(
            "iv_ketamine",
            weight_kg=weight,
            dose_mg_per_kg=mg_per_kg,
            concentration_mg_per_ml=concentration,
            bag_volume_ml=bag,
        )
    except ValueError as error:
        assert "exceeds the maximum single dose" in str(error)
        assert mg_per_kg * weight > 100.0 - 0.05
        return
    assert plan.dose_mg <= 100.0
    assert abs(plan.dose_mg - mg_per_kg * weight) <= 0.05 + 1e-9
    assert plan.drug_volume_ml is not None and plan.total_volume_ml is not None
    assert abs(plan.drug_volume_ml - plan.dose_mg / concentration) <= 0.005 + 1e-9
    assert plan.total_volume_ml == pytest.approx(bag + plan.drug_volume_ml, abs=1e-9)


@settings(max_examples=300, deadline=None)
@given(
    weight=weights,
    mg_per_kg=st.integers(min_value=10, max_value=50).map(lambda x: x / 100),
    concentration=concentrations,
    bag=bags,
    duration=durations,
)
def test_rate_times_duration_gives_back_the_total_volume_within_rate_rounding(
    weight: float, mg_per_kg: float, concentration: float, bag: float, duration: float
) -> None:
    try:
        plan = dosing.plan(
            "iv_ketamine",
            weight_kg=min(weight, 200.0),
            dose_mg_per_kg=mg_per_kg,
            concentration_mg_per_ml=concentration,
            bag_volume_ml=bag,
            overrides=[by("duration_min", duration)],
        )
    except dosing.OrderFieldError as error:
        # A pump rate beyond 999 mL/h (the pump range) is refused, naming the rate.
        assert error.field == "rate_ml_per_h"
        assert (bag + 100 / concentration) / duration * 60 > 999 - 0.05
        return
    assert plan.rate_ml_per_h is not None and plan.total_volume_ml is not None
    delivered = plan.rate_ml_per_h * duration / 60
    assert abs(delivered - plan.total_volume_ml) <= 0.05 * duration / 60 + 1e-9


@settings(max_examples=200, deadline=None)
@given(
    weight=weights,
    height=st.integers(min_value=1400, max_value=2100).map(lambda x: x / 10),
    sex=st.sampled_from(["male", "female"]),
)
def test_the_adjusted_dose_weight_lies_between_ideal_and_actual_weight(
    weight: float, height: float, sex: str
) -> None:
    plan = dosing.plan(
        "iv_ketamine",
        weight_kg=weight,
        height_cm=height,
        sex=sex,
        dose_mg_per_kg=0.1,
        overrides=[by("dose_weight_rule", "adjusted")],
    )
    assert plan.ideal_body_weight_kg is not None and plan.dose_weight_kg is not None
    if plan.dose_weight_basis == "adjusted":
        # Rounded to 0.1 kg, the adjusted weight of someone 0.1 kg above ideal is ideal.
        assert plan.ideal_body_weight_kg <= plan.dose_weight_kg < weight + 0.05
    else:
        assert plan.dose_weight_basis == "actual"
        assert weight <= plan.ideal_body_weight_kg + 0.05


@settings(max_examples=200, deadline=None)
@given(weight=weights, mg_per_kg=st.integers(min_value=25, max_value=250).map(lambda x: x / 100))
def test_oral_doses_never_exceed_their_cap(weight: float, mg_per_kg: float) -> None:
    try:
        plan = dosing.plan("oral_ketamine", weight_kg=weight, dose_mg_per_kg=mg_per_kg)
    except ValueError as error:
        assert "exceeds the maximum single dose" in str(error)
        return
    assert plan.dose_mg <= 300.0
