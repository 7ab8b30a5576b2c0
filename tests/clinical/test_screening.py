"""Candidacy screening: every rule row, every verdict path, overrides and errors.

Expectations are written out literally here; no test reads the rule table to decide what
it expects.
"""

from __future__ import annotations

import math

import pytest

from ketaclinic.clinical import screening
from ketaclinic.clinical.overrides import Override

INDICATIONS = [
    "treatment_resistant_depression",
    "failed_antidepressant_trials",
    "ptsd",
    "suicidal_ideation",
    "substance_use_disorder",
]
CI, PR = "contraindication", "precaution"
PSY = "psychiatric diagnostic assessment"
ADDICTION = "addiction medicine review"
BP = "blood pressure check"
CARDIO = "cardiology clearance"
NEURO = "neurology review"
# (id, kind, absolute for intravenous, evidence for intravenous, workup when positive)
CONTRA_AND_PRECAUTIONS = [
    ("active_psychosis", CI, True, "secondary", (PSY,)),
    ("mania_bipolar_unstable", CI, True, "convention", (PSY,)),
    ("illicit_ketamine_use", CI, True, "secondary", (ADDICTION,)),
    ("ketamine_cystitis_history", CI, True, "secondary", ("urinalysis",)),
    (
        "previous_adverse_reaction_ketamine",
        CI,
        True,
        "secondary",
        ("review of the previous reaction",),
    ),
    ("schizophrenia", CI, True, "secondary", (PSY,)),
    ("excipient_hypersensitivity", CI, True, "secondary", ("review of the previous reaction",)),
    ("recent_myocardial_infarction", CI, True, "convention", ("ECG", CARDIO)),
    ("recent_stroke", CI, True, "convention", (BP, NEURO)),
    ("breastfeeding", CI, False, "convention", ()),
    ("interstitial_cystitis", CI, False, "convention", ("urinalysis",)),
    ("sleep_apnoea_or_severe_lung_disease", CI, False, "secondary", ("respiratory review",)),
    ("hypertensive_encephalopathy_history", PR, False, "convention", (BP, NEURO)),
    ("aneurysm_or_avm", CI, True, "convention", (CARDIO,)),
    ("intracerebral_haemorrhage_history", CI, True, "convention", (NEURO,)),
    ("uncontrolled_hypertension", CI, True, "secondary", (BP,)),
    ("pregnancy", CI, True, "convention", ("pregnancy test",)),
    ("psychosis_history", CI, False, "secondary", (PSY,)),
    ("active_substance_abuse", CI, False, "secondary", (ADDICTION,)),
    ("cardiovascular_disease", CI, False, "secondary", (BP, "ECG", CARDIO)),
    ("ischaemic_heart_disease", CI, False, "convention", ("ECG", CARDIO)),
    ("cerebrovascular_disease", CI, False, "convention", (BP, NEURO)),
    ("hyperthyroidism", CI, False, "secondary", ("thyroid function tests",)),
    ("severe_liver_disease", CI, False, "convention", ("liver function tests",)),
    ("raised_intracranial_pressure", PR, False, "secondary", (NEURO,)),
    ("raised_intraocular_pressure", PR, False, "secondary", ("ophthalmology review",)),
    ("hypertension", PR, False, "confirmed", (BP,)),
]
CONTRA_IDS = [row[0] for row in CONTRA_AND_PRECAUTIONS]
# Number rules other than the failed-trials count: age and the measured blood pressure.
MEASURES = [
    "age_outside_clinic_range",
    "esketamine_under_18",
    "measured_systolic_bp",
    "measured_diastolic_bp",
]
ALL_IDS = INDICATIONS + CONTRA_IDS + MEASURES
# Rules asked only for racemic ketamine routes (not intranasal esketamine), and the reverse.
RACEMIC_ONLY = ["ptsd", "substance_use_disorder", "age_outside_clinic_range"]
NASAL_ONLY = ["esketamine_under_18"]
RACEMIC_IDS = [rule_id for rule_id in ALL_IDS if rule_id not in NASAL_ONLY]

TRD_WORKUP = (
    "psychiatric diagnostic assessment",
    "baseline depression rating scale",
    "antidepressant treatment history",
)
# Treatment-resistant depression as its definition asks: the diagnosis and 2 failed trials.
TRD: dict[str, bool | float | int | None] = {
    "treatment_resistant_depression": True,
    "failed_antidepressant_trials": 2,
}
TRD_IDS = ["treatment_resistant_depression", "failed_antidepressant_trials"]


def all_clear(**answers: bool | float | int | None) -> dict[str, bool | float | int | None]:
    """Every rule answered 'no' (0 failed trials, age 40, BP 120/80), then the answers."""
    findings: dict[str, bool | float | int | None] = {rule_id: False for rule_id in ALL_IDS}
    findings["failed_antidepressant_trials"] = 0
    findings["age_outside_clinic_range"] = 40
    findings["esketamine_under_18"] = 40
    findings["measured_systolic_bp"] = 120
    findings["measured_diastolic_bp"] = 80
    findings.update(answers)
    return findings


def ids(evaluation: screening.Evaluation) -> list[str]:
    return [reason.rule_id for reason in evaluation.reasons]


# ------------------------------------------------------------------ the table itself


def test_the_table_holds_exactly_the_expected_rules() -> None:
    assert sorted(rule.id for rule in screening.rules()) == sorted(ALL_IDS)


@pytest.mark.parametrize("rule_id", ALL_IDS)
def test_every_rule_carries_a_question_a_source_and_an_evidence_mark(rule_id: str) -> None:
    rule = {r.id: r for r in screening.rules()}[rule_id]
    assert rule.question.strip().endswith("?")
    assert rule.source.strip()
    assert rule.message.strip()
    assert rule.evidence in ("confirmed", "secondary", "convention")


@pytest.mark.parametrize(
    ("rule_id", "answer_type", "evidence"),
    [
        ("treatment_resistant_depression", "bool", "confirmed"),
        ("failed_antidepressant_trials", "number", "secondary"),
        ("ptsd", "bool", "confirmed"),
        ("suicidal_ideation", "bool", "confirmed"),
        ("substance_use_disorder", "bool", "secondary"),
    ],
)
def test_each_indication_has_its_answer_type_evidence_and_evidence_level(
    rule_id: str, answer_type: str, evidence: str
) -> None:
    rule = {r.id: r for r in screening.rules()}[rule_id]
    assert rule.kind == "indication"
    assert rule.absolute is False
    assert rule.answer_type == answer_type
    assert rule.evidence == evidence
    assert rule.evidence_level


def test_failed_trials_is_a_number_rule_with_threshold_two() -> None:
    rule = {r.id: r for r in screening.rules()}["failed_antidepressant_trials"]
    assert rule.answer_type == "number"
    assert rule.threshold == 2


@pytest.mark.parametrize(
    ("rule_id", "kind", "absolute", "evidence", "workup"), CONTRA_AND_PRECAUTIONS
)
def test_each_contraindication_row_has_the_expected_kind_and_mark(
    rule_id: str, kind: str, absolute: bool, evidence: str, workup: tuple[str, ...]
) -> None:
    rule = {r.id: r for r in screening.rules()}[rule_id]
    assert rule.kind == kind
    assert rule.absolute is absolute
    assert rule.evidence == evidence
    assert rule.workup == workup
    assert rule.answer_type == "bool"


# ------------------------------------------------------------------ each row evaluated


@pytest.mark.parametrize("rule_id", ["ptsd", "suicidal_ideation", "substance_use_disorder"])
def test_a_single_yes_indication_with_all_else_clear_is_eligible(rule_id: str) -> None:
    result = screening.evaluate(all_clear(**{rule_id: True}))
    assert result.verdict == "eligible"
    assert ids(result) == [rule_id]
    assert result.unknown == ()


def test_treatment_resistant_depression_with_two_failed_trials_is_eligible() -> None:
    result = screening.evaluate(all_clear(**TRD))
    assert result.verdict == "eligible"
    assert ids(result) == TRD_IDS
    assert result.workup == TRD_WORKUP


def test_two_failed_trials_without_a_depression_diagnosis_are_no_indication() -> None:
    result = screening.evaluate(all_clear(failed_antidepressant_trials=2))
    assert result.verdict == "not_eligible"
    assert ids(result) == ["no_indication"]


def test_treatment_resistant_depression_with_no_failed_trial_is_no_indication() -> None:
    result = screening.evaluate(
        all_clear(treatment_resistant_depression=True, failed_antidepressant_trials=0)
    )
    assert result.verdict == "not_eligible"
    assert ids(result) == ["no_indication"]
    message = result.reasons[0].message
    assert "treatment_resistant_depression" in message
    assert "failed_antidepressant_trials >= 2 trials" in message and "answered 0" in message


def test_one_failed_trial_is_not_treatment_resistance() -> None:
    result = screening.evaluate(
        all_clear(treatment_resistant_depression=True, failed_antidepressant_trials=1)
    )
    assert result.verdict == "not_eligible"


def test_treatment_resistant_depression_with_the_trials_unknown_needs_information() -> None:
    result = screening.evaluate(
        all_clear(treatment_resistant_depression=True, failed_antidepressant_trials=None)
    )
    assert result.verdict == "needs_information"
    assert set(result.unknown) == {"failed_antidepressant_trials", "treatment_resistant_depression"}


def test_the_failed_trials_rule_cites_the_treatment_resistance_definition() -> None:
    rule = {r.id: r for r in screening.rules()}["failed_antidepressant_trials"]
    assert rule.part_of == "treatment_resistant_depression"
    assert "at least two" in rule.source and "current episode" in rule.source
    assert "EMA" in rule.source and "SPRAVATO" in rule.source


def test_a_float_count_of_failed_trials_is_accepted() -> None:
    findings = all_clear(treatment_resistant_depression=True, failed_antidepressant_trials=3.0)
    assert screening.evaluate(findings).verdict == "eligible"


@pytest.mark.parametrize(
    ("rule_id", "kind", "absolute", "evidence", "workup"), CONTRA_AND_PRECAUTIONS
)
def test_each_contraindication_answered_yes_gives_its_verdict_reason_and_workup(
    rule_id: str, kind: str, absolute: bool, evidence: str, workup: tuple[str, ...]
) -> None:
    result = screening.evaluate(all_clear(**TRD, **{rule_id: True}))
    assert result.verdict == ("not_eligible" if absolute else "eligible_with_precautions")
    assert ids(result) == [*TRD_IDS, rule_id]
    reason = result.reasons[2]
    assert (reason.kind, reason.absolute, reason.evidence) == (kind, absolute, evidence)
    assert reason.source and reason.message
    expected_workup = list(TRD_WORKUP)
    expected_workup += [item for item in workup if item not in expected_workup]
    assert result.workup == tuple(expected_workup)


@pytest.mark.parametrize("rule_id", CONTRA_IDS)
def test_each_contraindication_left_unknown_needs_information(rule_id: str) -> None:
    result = screening.evaluate(all_clear(**TRD, **{rule_id: None}))
    assert result.verdict == "needs_information"
    assert result.unknown == (rule_id,)


# ------------------------------------------------------------------ verdict paths


def test_all_clear_with_an_indication_is_eligible() -> None:
    result = screening.evaluate(all_clear(**TRD))
    assert result.verdict == "eligible"
    assert result.workup == TRD_WORKUP
    assert result.route == "intravenous"
    assert result.overrides_applied == ()


def test_an_absolute_contraindication_wins_over_unknowns() -> None:
    result = screening.evaluate({"pregnancy": True})
    assert result.verdict == "not_eligible"
    assert ids(result) == ["pregnancy"]
    assert "treatment_resistant_depression" in result.unknown
    assert "cardiovascular_disease" in result.unknown


def test_an_absolute_contraindication_wins_over_an_indication_and_precautions() -> None:
    findings = all_clear(**TRD, hypertension=True, aneurysm_or_avm=True)
    result = screening.evaluate(findings)
    assert result.verdict == "not_eligible"
    assert ids(result) == [*TRD_IDS, "aneurysm_or_avm", "hypertension"]


def test_a_missing_answer_counts_as_unknown_and_is_never_guessed() -> None:
    findings = all_clear(**TRD)
    del findings["hyperthyroidism"]
    result = screening.evaluate(findings)
    assert result.verdict == "needs_information"
    assert result.unknown == ("hyperthyroidism",)


def test_empty_findings_need_information_and_list_every_rule_as_unknown() -> None:
    result = screening.evaluate({})
    assert result.verdict == "needs_information"
    assert sorted(result.unknown) == sorted(RACEMIC_IDS)
    assert result.reasons == ()
    assert result.workup == ()


def test_no_indication_with_every_indication_answered_is_not_eligible() -> None:
    result = screening.evaluate(all_clear())
    assert result.verdict == "not_eligible"
    assert len(result.reasons) == 1
    reason = result.reasons[0]
    assert reason.rule_id == "no_indication"
    assert reason.kind == "indication"
    assert reason.evidence == "convention"


def test_no_indication_yet_but_some_indications_unknown_needs_information() -> None:
    result = screening.evaluate(all_clear(ptsd=None))
    assert result.verdict == "needs_information"
    assert result.unknown == ("ptsd",)


def test_unknown_indications_do_not_block_once_one_indication_is_present() -> None:
    result = screening.evaluate(
        all_clear(suicidal_ideation=True, ptsd=None, failed_antidepressant_trials=None)
    )
    assert result.verdict == "eligible"
    assert result.unknown == ("failed_antidepressant_trials", "ptsd")


def test_relative_contraindications_give_eligible_with_precautions_and_merged_workup() -> None:
    findings = all_clear(
        **TRD,
        cardiovascular_disease=True,
        ischaemic_heart_disease=True,
        hypertension=True,
    )
    result = screening.evaluate(findings)
    assert result.verdict == "eligible_with_precautions"
    assert result.workup == (
        "psychiatric diagnostic assessment",
        "baseline depression rating scale",
        "antidepressant treatment history",
        "blood pressure check",
        "ECG",
        "cardiology clearance",
    )


def test_a_relative_contraindication_without_an_indication_is_still_not_eligible() -> None:
    result = screening.evaluate(all_clear(hyperthyroidism=True))
    assert result.verdict == "not_eligible"
    assert ids(result) == ["hyperthyroidism", "no_indication"]


# ------------------------------------------------------------------ routes


INTRANASAL_IDS = [rule_id for rule_id in ALL_IDS if rule_id not in RACEMIC_ONLY]


def intranasal_clear(**answers: bool | float | int | None) -> dict[str, bool | float | int | None]:
    findings = {
        k: v for k, v in all_clear(**answers).items() if k in INTRANASAL_IDS or k in answers
    }
    return findings


def test_racemic_only_indications_are_not_asked_for_intranasal_esketamine() -> None:
    result = screening.evaluate({}, route="intranasal")
    assert sorted(result.unknown) == sorted(INTRANASAL_IDS)


def test_ptsd_is_no_indication_for_intranasal_esketamine() -> None:
    result = screening.evaluate(intranasal_clear(ptsd=True), route="intranasal")
    assert result.verdict == "not_eligible"
    assert ids(result) == ["no_indication"]


@pytest.mark.parametrize(
    ("rule_id", "intravenous", "intranasal", "intranasal_evidence"),
    [
        ("pregnancy", "not_eligible", "eligible_with_precautions", "confirmed"),
        ("uncontrolled_hypertension", "not_eligible", "not_eligible", "convention"),
        ("raised_intracranial_pressure", "eligible_with_precautions", "not_eligible", "confirmed"),
        ("schizophrenia", "not_eligible", "not_eligible", "convention"),
        ("breastfeeding", "eligible_with_precautions", "eligible_with_precautions", "confirmed"),
        ("excipient_hypersensitivity", "not_eligible", "not_eligible", "confirmed"),
        ("aneurysm_or_avm", "not_eligible", "not_eligible", "confirmed"),
        ("intracerebral_haemorrhage_history", "not_eligible", "not_eligible", "confirmed"),
        ("previous_adverse_reaction_ketamine", "not_eligible", "not_eligible", "confirmed"),
        ("active_psychosis", "not_eligible", "not_eligible", "convention"),
        ("hyperthyroidism", "eligible_with_precautions", "eligible_with_precautions", "secondary"),
    ],
)
def test_a_rule_can_stand_differently_for_intranasal_esketamine(
    rule_id: str, intravenous: str, intranasal: str, intranasal_evidence: str
) -> None:
    iv = screening.evaluate(all_clear(**TRD, **{rule_id: True}))
    nasal = screening.evaluate(intranasal_clear(**TRD, **{rule_id: True}), route="intranasal")
    assert iv.verdict == intravenous
    assert nasal.verdict == intranasal
    assert nasal.route == "intranasal"
    assert nasal.reasons[2].evidence == intranasal_evidence


def test_the_esketamine_label_contraindication_cites_the_label() -> None:
    nasal = screening.evaluate(
        intranasal_clear(**TRD, aneurysm_or_avm=True),
        route="intranasal",
    )
    assert "SPRAVATO" in nasal.reasons[2].source
    iv = screening.evaluate(all_clear(**TRD, aneurysm_or_avm=True))
    assert iv.reasons[2].evidence == "convention"


def test_a_finding_for_a_rule_not_asked_on_this_route_is_accepted_but_unused() -> None:
    result = screening.evaluate(
        intranasal_clear(**TRD, substance_use_disorder=True),
        route="intranasal",
    )
    assert result.verdict == "eligible"
    assert "substance_use_disorder" not in ids(result)


@pytest.mark.parametrize("route", ["intravenous", "intramuscular", "oral", "sublingual"])
def test_every_racemic_route_asks_every_rule(route: str) -> None:
    result = screening.evaluate({}, route=route)
    assert sorted(result.unknown) == sorted(RACEMIC_IDS)


def test_an_unknown_route_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown route 'rectal'"):
        screening.evaluate({}, route="rectal")


# ------------------------------------------------------------------ overrides


def test_a_clinic_can_make_a_relative_contraindication_absolute() -> None:
    override = Override("hyperthyroidism", "absolute", True, by="dr.lee", reason="clinic policy")
    findings = all_clear(**TRD, hyperthyroidism=True)
    assert screening.evaluate(findings).verdict == "eligible_with_precautions"
    result = screening.evaluate(findings, overrides=[override])
    assert result.verdict == "not_eligible"
    assert result.overrides_applied == (override,)
    assert {r.id: r for r in screening.rules([override])}["hyperthyroidism"].absolute is True


def test_a_clinic_can_raise_the_failed_trials_threshold() -> None:
    override = Override(
        "failed_antidepressant_trials", "threshold", 3, by="dr.lee", reason="payer rule"
    )
    findings = all_clear(**TRD)
    assert screening.evaluate(findings).verdict == "eligible"
    assert screening.evaluate(findings, overrides=[override]).verdict == "not_eligible"


def test_a_clinic_can_change_the_workup_a_rule_asks_for() -> None:
    override = Override("pregnancy", "absolute", False, by="dr.lee", reason="obstetric review")
    workup = Override(
        "pregnancy", "workup", ("pregnancy test", "obstetric review"), by="dr.lee", reason="policy"
    )
    result = screening.evaluate(all_clear(**TRD, pregnancy=True), overrides=[override, workup])
    assert result.verdict == "eligible_with_precautions"
    assert result.workup == TRD_WORKUP + ("pregnancy test", "obstetric review")


def test_the_default_table_is_untouched_by_an_override() -> None:
    override = Override("hyperthyroidism", "absolute", True, by="dr.lee", reason="clinic policy")
    screening.rules([override])
    assert {r.id: r for r in screening.rules()}["hyperthyroidism"].absolute is False


def test_an_override_of_an_unknown_rule_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown row 'gout'"):
        screening.evaluate({}, overrides=[Override("gout", "absolute", True, by="a", reason="b")])


def test_an_override_of_an_unknown_field_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown field 'colour'"):
        screening.rules([Override("pregnancy", "colour", "red", by="a", reason="b")])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kind", "maybe", "kind 'maybe'"),
        ("evidence", "rumour", "evidence 'rumour'"),
        ("answer_type", "text", "answer_type 'text'"),
        ("absolute", True, "indication cannot be absolute"),
        ("routes", ("rectal",), "unknown route 'rectal'"),
    ],
)
def test_an_override_that_breaks_a_rule_is_refused(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        screening.rules([Override("ptsd", field, value, by="a", reason="b")])


def test_a_number_rule_without_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a threshold"):
        screening.rules(
            [Override("failed_antidepressant_trials", "threshold", None, by="a", reason="b")]
        )


# ------------------------------------------------------------------ input errors


def test_an_unknown_rule_id_in_findings_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="gout"):
        screening.evaluate({"gout": True, "pregnancy": False})


@pytest.mark.parametrize("value", [1, 0, 1.0, "yes"])
def test_a_number_where_yes_no_is_expected_is_an_error(value: object) -> None:
    with pytest.raises(ValueError, match="pregnancy"):
        screening.evaluate({"pregnancy": value})  # type: ignore[dict-item]


@pytest.mark.parametrize("value", [True, False, "2"])
def test_a_yes_no_where_a_number_is_expected_is_an_error(value: object) -> None:
    with pytest.raises(ValueError, match="failed_antidepressant_trials"):
        screening.evaluate({"failed_antidepressant_trials": value})  # type: ignore[dict-item]


@pytest.mark.parametrize("value", [-1, math.nan, math.inf])
def test_a_negative_or_non_finite_count_is_an_error(value: float) -> None:
    with pytest.raises(ValueError, match="finite number >= 0"):
        screening.evaluate({"failed_antidepressant_trials": value})


def test_an_invalid_answer_is_an_error_even_when_an_absolute_contraindication_is_present() -> None:
    with pytest.raises(ValueError, match="hyperthyroidism"):
        screening.evaluate({"pregnancy": True, "hyperthyroidism": 1})


def test_rules_set_aside_are_left_out_of_the_verdict_and_named() -> None:
    findings = {r.id: (3 if r.answer_type == "number" else False) for r in screening.rules()}
    findings.update(treatment_resistant_depression=True, measured_systolic_bp=None)
    findings["age_outside_clinic_range"] = None
    assert screening.evaluate(findings).verdict == "needs_information"
    kept = screening.evaluate(
        findings, set_aside=["measured_systolic_bp", "age_outside_clinic_range"]
    )
    assert kept.set_aside == ("measured_systolic_bp", "age_outside_clinic_range")
    assert "measured_systolic_bp" not in kept.unknown
    assert kept.verdict == "eligible"
    with pytest.raises(ValueError):
        screening.evaluate(findings, set_aside=["no_such_rule"])
