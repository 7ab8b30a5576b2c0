"""Order fields within their sourced plausible ranges, device size and spacing from the
protocol row, and the esketamine start for patients of 65 and over."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.clinical import dosing
from ketaclinic.clinical.overrides import Override


def ovr(target: str, field: str, value: object) -> Override:
    return Override(target, field, value, by="dr.lee", reason="clinic policy")


# ------------------------------------------------------------ order field ranges


@pytest.mark.parametrize("concentration", [1e-9, 1e-51, 0.5, 100.5, 1e9])
def test_an_implausible_concentration_is_refused_naming_the_field(concentration: float) -> None:
    with pytest.raises(dosing.OrderFieldError) as error:
        dosing.plan(
            "iv_ketamine", weight_kg=75.4, concentration_mg_per_ml=concentration, bag_volume_ml=100
        )
    assert error.value.field == "concentration_mg_per_ml"
    assert "1-100 mg/mL" in str(error.value) and "Ketalar" in str(error.value)


@given(st.floats(min_value=0.01, max_value=200, allow_nan=False))
def test_property_a_concentration_is_planned_exactly_within_1_to_100_mg_per_ml(
    concentration: float,
) -> None:
    try:
        plan = dosing.plan(
            "iv_ketamine", weight_kg=70, concentration_mg_per_ml=concentration, bag_volume_ml=100
        )
    except dosing.OrderFieldError as error:
        assert error.field in ("concentration_mg_per_ml", "total_volume_ml")
        assert not 1 <= concentration <= 100 or error.field == "total_volume_ml"
        return
    assert 1 <= concentration <= 100
    assert plan.rate_ml_per_h is not None


def test_a_10_mg_per_ml_order_for_70_kg_gives_the_hand_computed_rate() -> None:
    # 0.5 mg/kg x 70 kg = 35 mg; 35 / 10 = 3.5 mL; 103.5 mL over 40 min = 155.25 -> 155.3 mL/h.
    plan = dosing.plan("iv_ketamine", weight_kg=70, concentration_mg_per_ml=10, bag_volume_ml=100)
    assert (plan.dose_mg, plan.drug_volume_ml, plan.total_volume_ml) == (35.0, 3.5, 103.5)
    assert plan.rate_ml_per_h == 155.3


@pytest.mark.parametrize(("bag", "ok"), [(19, False), (20, True), (1000, True), (1001, False)])
def test_the_bag_volume_must_lie_within_20_to_1000_ml(bag: float, ok: bool) -> None:
    if ok:
        assert dosing.check_order("iv_ketamine", bag_volume_ml=bag) is None
    else:
        with pytest.raises(dosing.OrderFieldError) as error:
            dosing.plan("iv_ketamine", weight_kg=70, concentration_mg_per_ml=50, bag_volume_ml=bag)
        assert error.value.field == "bag_volume_ml"


@pytest.mark.parametrize("duration", [5, 300])
def test_an_infusion_duration_outside_10_to_240_minutes_is_refused(duration: float) -> None:
    with pytest.raises(dosing.OrderFieldError) as error:
        dosing.plan(
            "iv_ketamine",
            weight_kg=70,
            concentration_mg_per_ml=10,
            bag_volume_ml=100,
            overrides=[ovr("iv_ketamine", "duration_min", duration)],
        )
    assert error.value.field == "duration_min"


def test_a_pump_rate_above_999_ml_per_hour_is_refused() -> None:
    # 1000 mL bag + 3.5 mL over 40 min = 1505.3 mL/h.
    with pytest.raises(dosing.OrderFieldError) as error:
        dosing.plan("iv_ketamine", weight_kg=70, concentration_mg_per_ml=10, bag_volume_ml=1000)
    assert error.value.field == "rate_ml_per_h"
    assert "0.1-999 mL/h" in str(error.value)


def test_a_clinic_can_widen_the_pump_range_for_its_pump() -> None:
    wider = ovr("pump_rate", "maximum", 1600)
    plan = dosing.plan(
        "iv_ketamine",
        weight_kg=70,
        concentration_mg_per_ml=10,
        bag_volume_ml=1000,
        overrides=[wider],
    )
    assert plan.rate_ml_per_h == 1505.3


def test_check_order_accepts_a_plausible_saved_order() -> None:
    assert (
        dosing.check_order(
            "iv_ketamine",
            concentration_mg_per_ml=10,
            bag_volume_ml=100,
            total_volume_ml=103.5,
            rate_ml_per_h=155.3,
            duration_min=40,
            dose_mg=35,
        )
        is None
    )


@pytest.mark.parametrize(
    ("protocol_id", "fields", "named"),
    [
        ("iv_ketamine", {"concentration_mg_per_ml": 1e-9}, "concentration_mg_per_ml"),
        ("iv_ketamine", {"rate_ml_per_h": 56_550_000_000.0}, "rate_ml_per_h"),
        ("iv_ketamine", {"total_volume_ml": 37_700_000_000.0}, "total_volume_ml"),
        ("iv_ketamine", {"duration_min": 0}, "duration_min"),
        ("iv_ketamine", {"bag_volume_ml": float("nan")}, "bag_volume_ml"),
        ("iv_ketamine", {"dose_mg": 150}, "dose_mg"),
        ("in_esketamine", {"concentration_mg_per_ml": 10}, "concentration_mg_per_ml"),
        ("im_ketamine", {"bag_volume_ml": 100}, "bag_volume_ml"),
        ("im_ketamine", {"rate_ml_per_h": 100}, "rate_ml_per_h"),
    ],
)
def test_check_order_refuses_a_field_that_cannot_be_right(
    protocol_id: str, fields: dict[str, float], named: str
) -> None:
    with pytest.raises(dosing.OrderFieldError) as error:
        dosing.check_order(protocol_id, **fields)  # type: ignore[arg-type]
    assert error.value.field == named


def test_every_order_range_carries_its_source_and_evidence() -> None:
    rows = dosing.order_ranges()
    assert {r.field for r in rows} == {
        "concentration_mg_per_ml",
        "bag_volume_ml",
        "rate_ml_per_h",
        "duration_min",
        "total_volume_ml",
    }
    for row in rows:
        assert row.source.strip() and row.evidence in ("confirmed", "secondary", "convention")


# ------------------------------------------------------------ devices


def test_the_device_size_and_spacing_come_from_the_protocol_row() -> None:
    assert dosing.device_mg("in_esketamine") == 28.0
    assert dosing.device_interval_min("in_esketamine") == 5.0
    assert dosing.device_mg("in_esketamine_suicidal") == 28.0
    longer = ovr("in_esketamine", "device_interval_min", 10.0)
    assert dosing.device_interval_min("in_esketamine", [longer]) == 10.0
    row = {p.id: p for p in dosing.protocols()}["in_esketamine"]
    assert dosing.device_mg(row) == 28.0
    assert row.citation("mg_per_device").evidence == "confirmed"


def test_an_infusion_protocol_has_no_device() -> None:
    with pytest.raises(ValueError, match="not dosed in devices"):
        dosing.device_mg("iv_ketamine")
    with pytest.raises(ValueError, match="no interval between devices"):
        dosing.device_interval_min("iv_ketamine")


# ------------------------------------------------------------ 65 and over


@pytest.mark.parametrize(("age", "dose", "devices"), [(64, 56.0, 2), (65, 28.0, 1), (80, 28.0, 1)])
def test_the_esketamine_start_is_28_mg_from_65_years(age: float, dose: float, devices: int) -> None:
    plan = dosing.plan("in_esketamine", weight_kg=70, age_years=age)
    assert (plan.dose_mg, plan.devices) == (dose, devices)


def test_a_patient_of_70_may_go_up_in_28_mg_steps_to_84_mg() -> None:
    for dose, devices in ((28, 1), (56, 2), (84, 3)):
        assert dosing.plan("in_esketamine", weight_kg=70, age_years=70, dose_mg=dose).devices == (
            devices
        )


def test_28_mg_stays_refused_under_65() -> None:
    with pytest.raises(ValueError, match="not an allowed dose"):
        dosing.plan("in_esketamine", weight_kg=70, age_years=50, dose_mg=28)


def test_a_plan_without_an_age_says_the_older_adult_start_was_not_considered() -> None:
    plan = dosing.plan("in_esketamine", weight_kg=70)
    assert plan.dose_mg == 56.0
    assert any("Age not given" in step and "28.0 mg" in step for step in plan.steps)


def test_the_older_adult_start_cites_the_label() -> None:
    row = {p.id: p for p in dosing.protocols()}["in_esketamine"]
    cite = row.citation("older_adult_default_dose")
    assert "65 years and older" in cite.source and cite.evidence == "secondary"


def test_the_suicidal_ideation_protocol_has_no_older_adult_start() -> None:
    assert dosing.plan("in_esketamine_suicidal", weight_kg=70, age_years=70).dose_mg == 84.0
