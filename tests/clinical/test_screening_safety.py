"""Candidacy rules added for safety: age, measured blood pressure, recent heart attack or
stroke, breastfeeding, cystitis, excipients, sleep apnoea, schizophrenia and the nasal
label's contraindications. Verdicts are written out by hand from the cited sources."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.clinical import screening
from ketaclinic.clinical.overrides import Override

Findings = dict[str, bool | float | int | None]


def clear(route: str = "intravenous", **answers: bool | float | int | None) -> Findings:
    """TRD with 2 failed trials, every other rule for the route answered no, age 40,
    BP 120/80; then the given answers."""
    findings: Findings = {}
    for rule in screening.rules():
        if not rule.applies_to(route):
            continue
        findings[rule.id] = 0 if rule.answer_type == "number" else False
    findings.update(
        treatment_resistant_depression=True,
        failed_antidepressant_trials=2,
        measured_systolic_bp=120,
        measured_diastolic_bp=80,
    )
    findings["esketamine_under_18" if route == "intranasal" else "age_outside_clinic_range"] = 40
    findings.update(answers)
    return findings


def verdict(route: str = "intravenous", **answers: bool | float | int | None) -> str:
    return screening.evaluate(clear(route, **answers), route=route).verdict


# ------------------------------------------------------------ age


@given(st.integers(min_value=0, max_value=110))
def test_property_esketamine_is_refused_under_18_and_offered_from_18(age: int) -> None:
    expected = "not_eligible" if age < 18 else "eligible"
    assert verdict("intranasal", esketamine_under_18=age) == expected


@given(st.integers(min_value=0, max_value=110))
def test_property_iv_ketamine_is_for_adults_by_clinic_default(age: int) -> None:
    expected = "not_eligible" if age < 18 else "eligible"
    assert verdict(age_outside_clinic_range=age) == expected


def test_a_clinic_can_set_an_upper_age_for_iv_ketamine() -> None:
    upper = Override("age_outside_clinic_range", "threshold_high", 75, by="dr.lee", reason="policy")
    findings = clear(age_outside_clinic_range=76)
    assert screening.evaluate(findings).verdict == "eligible"
    assert screening.evaluate(findings, overrides=[upper]).verdict == "not_eligible"
    at_75 = clear(age_outside_clinic_range=75)
    assert screening.evaluate(at_75, overrides=[upper]).verdict == "eligible"


def test_the_under_18_rule_cites_the_label_and_the_iv_age_range_is_convention() -> None:
    table = {r.id: r for r in screening.rules()}
    assert table["esketamine_under_18"].evidence == "confirmed"
    assert "8.4" in table["esketamine_under_18"].source
    assert table["age_outside_clinic_range"].evidence == "convention"


# ------------------------------------------------------------ measured blood pressure


@pytest.mark.parametrize(
    ("systolic", "diastolic", "expected"),
    [
        (140, 90, "eligible"),
        (141, 90, "eligible_with_precautions"),
        (140, 91, "eligible_with_precautions"),
        (179, 109, "eligible_with_precautions"),
        (180, 100, "not_eligible"),
        (150, 110, "not_eligible"),
    ],
)
def test_the_measured_blood_pressure_gates_candidacy(
    systolic: int, diastolic: int, expected: str
) -> None:
    for route in ("intravenous", "intranasal"):
        answers = {"measured_systolic_bp": systolic, "measured_diastolic_bp": diastolic}
        assert verdict(route, **answers) == expected, route


def test_a_grade_3_blood_pressure_reason_says_it_is_absolute() -> None:
    result = screening.evaluate(clear(measured_systolic_bp=186))
    reason = next(r for r in result.reasons if r.rule_id == "measured_systolic_bp")
    assert reason.absolute is True
    assert "186" in reason.message and "absolute" in reason.message
    assert "ESC/ESH" in reason.source


def test_an_unmeasured_blood_pressure_needs_information() -> None:
    result = screening.evaluate(clear(measured_systolic_bp=None))
    assert result.verdict == "needs_information"
    assert result.unknown == ("measured_systolic_bp",)


# ------------------------------------------------------------ recent heart attack or stroke


def test_a_heart_attack_within_60_days_is_a_contraindication_worded_with_its_window() -> None:
    assert verdict(recent_myocardial_infarction=True) == "not_eligible"
    rule = {r.id: r for r in screening.rules()}["recent_myocardial_infarction"]
    assert rule.question.endswith("in the last 60 days?")
    assert "Fleisher" in rule.source and rule.evidence == "convention"


def test_a_stroke_within_9_months_is_a_contraindication() -> None:
    assert verdict(recent_stroke=True) == "not_eligible"
    rule = {r.id: r for r in screening.rules()}["recent_stroke"]
    assert rule.question.endswith("in the last 9 months?")
    assert "Jorgensen" in rule.source


def test_overriding_the_window_changes_the_question_too() -> None:
    longer = Override("recent_myocardial_infarction", "window", 90, by="dr.lee", reason="policy")
    rule = {r.id: r for r in screening.rules([longer])}["recent_myocardial_infarction"]
    assert "in the last 90 days?" in rule.question
    assert "90 days" in rule.message


# ------------------------------------------------------------ nasal label standings


@pytest.mark.parametrize(
    "rule_id",
    [
        "aneurysm_or_avm",
        "intracerebral_haemorrhage_history",
        "previous_adverse_reaction_ketamine",
        "excipient_hypersensitivity",
        "raised_intracranial_pressure",
        "uncontrolled_hypertension",
    ],
)
def test_esketamine_refuses_where_a_rise_in_pressure_or_hypersensitivity_is_a_serious_risk(
    rule_id: str,
) -> None:
    assert verdict("intranasal", **{rule_id: True}) == "not_eligible"


def test_raised_intracranial_pressure_is_a_label_contraindication_for_esketamine_only() -> None:
    nasal = screening.evaluate(
        clear("intranasal", raised_intracranial_pressure=True), route="intranasal"
    )
    reason = next(r for r in nasal.reasons if r.rule_id == "raised_intracranial_pressure")
    assert (reason.kind, reason.absolute, reason.evidence) == (
        "contraindication",
        True,
        "confirmed",
    )
    assert "intracranial pressure poses a serious risk" in reason.source
    assert verdict(raised_intracranial_pressure=True) == "eligible_with_precautions"


@pytest.mark.parametrize(
    ("rule_id", "nasal_evidence"),
    [
        ("breastfeeding", "confirmed"),
        ("interstitial_cystitis", "confirmed"),
        ("hypertensive_encephalopathy_history", "confirmed"),
        ("sleep_apnoea_or_severe_lung_disease", "secondary"),
    ],
)
def test_label_warnings_give_eligible_with_precautions_on_both_routes(
    rule_id: str, nasal_evidence: str
) -> None:
    assert verdict(**{rule_id: True}) == "eligible_with_precautions"
    nasal = screening.evaluate(clear("intranasal", **{rule_id: True}), route="intranasal")
    assert nasal.verdict == "eligible_with_precautions"
    assert next(r for r in nasal.reasons if r.rule_id == rule_id).evidence == nasal_evidence


def test_stable_schizophrenia_is_absolute_as_its_source_says() -> None:
    result = screening.evaluate(clear(schizophrenia=True))
    assert result.verdict == "not_eligible"
    reason = next(r for r in result.reasons if r.rule_id == "schizophrenia")
    assert "even if currently stable" in reason.source and reason.absolute
    assert verdict(psychosis_history=True) == "eligible_with_precautions"
    history = {r.id: r for r in screening.rules()}["psychosis_history"]
    assert "Green" not in history.source


def test_the_rules_resting_on_the_incomplete_2018_citation_are_secondary() -> None:
    for rule in screening.rules():
        if "Psychiatr Ann 2018" in rule.source:
            assert rule.evidence == "secondary", rule.id
            assert "citation incomplete" in rule.source


def test_iv_ketamine_allergy_cites_the_ketalar_label() -> None:
    rule = {r.id: r for r in screening.rules()}["previous_adverse_reaction_ketamine"]
    assert "Ketalar" in rule.source and "hypersensitivity" in rule.source


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("comparison", "about", "comparison 'about'"),
        ("threshold_high", 80, "threshold_high needs"),
        ("window", 0, "positive number"),
    ],
)
def test_an_override_that_breaks_a_number_or_window_rule_is_refused(
    field: str, value: object, message: str
) -> None:
    target = "recent_stroke" if field == "window" else "measured_systolic_bp"
    with pytest.raises(ValueError, match=message):
        screening.rules([Override(target, field, value, by="a", reason="b")])
