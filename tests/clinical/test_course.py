"""Tests for ketaclinic.clinical.course: response and remission, course stages, medications."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.clinical import course
from ketaclinic.clinical.course import Score, SessionRecord, check_medications, classify, evaluate
from ketaclinic.clinical.overrides import Override


def ovr(target, field, value):
    return Override(target, field, value, by="Dr Test", reason="clinic protocol")


# classify


@pytest.mark.parametrize(
    ("instrument", "baseline", "current", "category", "percent", "response", "remission"),
    [
        ("phq9", 20, 10, "response", -50.0, True, False),
        ("phq9", 20, 11, "partial_response", -45.0, False, False),
        ("phq9", 20, 15, "partial_response", -25.0, False, False),
        ("phq9", 20, 16, "non_response", -20.0, False, False),
        ("phq9", 20, 5, "response", -75.0, True, False),
        ("phq9", 20, 4, "remission", -80.0, True, True),
        ("phq9", 10, 15, "non_response", 50.0, False, False),
        ("madrs", 30, 10, "response", -66.67, True, False),
        ("madrs", 30, 9, "remission", -70.0, True, True),
        ("qids_sr16", 16, 6, "response", -62.5, True, False),
        ("qids_sr16", 16, 5, "remission", -68.75, True, True),
        ("gad7", 15, 5, "response", -66.67, True, False),
        ("gad7", 15, 4, "remission", -73.33, True, True),
        ("pcl5", 50, 25, "response", -50.0, True, None),
        ("pcl5", 50, 40, "non_response", -20.0, False, None),
    ],
)
def test_classify_against_each_instruments_cut_offs(
    instrument, baseline, current, category, percent, response, remission
):
    c = classify(instrument, baseline, current)
    assert c.category == category
    assert c.percent_change == pytest.approx(percent, abs=0.01)
    assert c.response is response
    assert c.remission is remission
    assert c.reason and c.sources


@pytest.mark.parametrize(("current", "meaningful"), [(41, False), (40, True), (30, True)])
def test_a_ten_point_fall_on_the_pcl5_is_a_meaningful_change(current, meaningful):
    c = classify("pcl5", 50, current)
    assert c.meaningful_change is meaningful
    assert "no remission cut-off" in c.reason


def test_instruments_other_than_pcl5_report_no_meaningful_change_judgement():
    assert classify("phq9", 20, 10).meaningful_change is None


def test_the_remission_definitions_carry_their_sources_and_marks():
    rows = course.INSTRUMENTS
    assert rows["phq9"].remission_max == 4 and "Kroenke" in rows["phq9"].remission_source
    assert rows["madrs"].remission_max == 9 and "12" in rows["madrs"].remission_source
    assert "Hawley" in rows["madrs"].remission_source
    assert "Zimmerman" in rows["madrs"].remission_source
    assert rows["madrs"].remission_evidence == "confirmed"
    assert rows["qids_sr16"].remission_max == 5
    assert rows["gad7"].remission_max == 4
    assert rows["pcl5"].remission_max is None
    assert rows["pcl5"].meaningful_change == 10
    assert course.RULES["response_reduction_pct"].value == 50
    assert course.RULES["response_reduction_pct"].evidence == "convention"
    assert course.RULES["partial_response_reduction_pct"].value == 25


def test_a_zero_baseline_has_no_percent_change():
    c = classify("phq9", 0, 0)
    assert c.percent_change is None
    assert c.response is False
    assert c.category == "remission"


@pytest.mark.parametrize(
    ("instrument", "baseline", "current"),
    [("phq9", 28, 10), ("phq9", 20, -1), ("gad7", 22, 3), ("madrs", 61, 3), ("hamd", 20, 10)],
)
def test_classify_refuses_scores_out_of_range_and_unknown_instruments(
    instrument, baseline, current
):
    with pytest.raises(ValueError):
        classify(instrument, baseline, current)


def test_a_clinic_can_set_madrs_remission_at_12():
    change = ovr("madrs", "remission_max", 12)
    assert classify("madrs", 30, 12).remission is False
    assert classify("madrs", 30, 12, overrides=[change]).remission is True


def test_a_clinic_can_raise_the_response_threshold():
    assert classify(
        "phq9", 20, 10, overrides=[ovr("response_reduction_pct", "value", 60)]
    ).category == ("partial_response")


@given(st.integers(min_value=1, max_value=27), st.integers(min_value=0, max_value=27))
def test_property_response_is_exactly_a_halving_or_better(baseline, current):
    c = classify("phq9", baseline, current)
    assert c.response is (current * 2 <= baseline)
    assert c.remission is (current <= 4)


# evaluate

IV_SESSIONS = [SessionRecord(n, day) for n, day in enumerate([0, 2, 4, 7, 9, 11], start=1)]


def phq(*pairs):
    return [Score("phq9", value, day) for day, value in pairs]


def test_no_session_yet_is_pre_treatment():
    status = evaluate(phq((-3, 20)), [])
    assert status.stage == "pre_treatment"
    assert status.sessions_done == 0
    assert status.series_planned == 6
    assert status.classifications == {}


def test_early_sessions_are_induction():
    status = evaluate(phq((-3, 20), (3, 18)), IV_SESSIONS[:2])
    assert status.stage == "induction"
    assert status.sessions_done == 2
    assert status.classifications["phq9"].category == "non_response"
    assert not status.interim_evaluation_due


def test_four_sessions_without_response_call_for_an_interim_evaluation():
    status = evaluate(phq((-3, 20), (8, 17)), IV_SESSIONS[:4])
    assert status.stage == "interim_evaluation_due"
    assert status.interim_evaluation_due
    assert any("interim evaluation due" in r for r in status.reasons)


def test_four_sessions_with_response_continue_the_induction():
    status = evaluate(phq((-3, 20), (8, 9)), IV_SESSIONS[:4])
    assert status.stage == "induction"
    assert not status.interim_evaluation_due


def test_a_completed_series_without_response_is_non_response():
    status = evaluate(phq((-3, 20), (8, 17), (12, 16)), IV_SESSIONS)
    assert status.stage == "non_response"
    assert status.interim_evaluation_due
    assert any("Induction complete" in r for r in status.reasons)


def test_a_completed_series_with_response_moves_to_continuation():
    status = evaluate(phq((-3, 20), (8, 12), (12, 8)), IV_SESSIONS)
    assert status.stage == "continuation"
    assert status.classifications["phq9"].category == "response"
    assert not status.booster_suggested


def test_a_responder_with_boosters_is_in_maintenance():
    sessions = [*IV_SESSIONS, SessionRecord(7, 40, "booster")]
    status = evaluate(phq((-3, 20), (12, 8), (42, 7)), sessions)
    assert status.stage == "maintenance"
    assert status.boosters_done == 1
    assert status.sessions_done == 6


def test_two_consecutive_scores_above_the_response_line_suggest_a_booster():
    status = evaluate(phq((-3, 20), (12, 8), (30, 12), (37, 13)), IV_SESSIONS)
    assert status.stage == "booster_suggested"
    assert status.booster_suggested
    assert status.booster_reason is not None
    assert "12, 13" in status.booster_reason and "10" in status.booster_reason


def test_one_score_above_the_response_line_is_not_yet_a_relapse_signal():
    status = evaluate(phq((-3, 20), (12, 8), (30, 12)), IV_SESSIONS)
    assert status.stage == "continuation"
    assert status.booster_reason is None


def test_the_relapse_signal_needs_an_earlier_response():
    status = evaluate(phq((-3, 20), (12, 12), (30, 13), (37, 14)), IV_SESSIONS)
    assert status.stage == "non_response"


def test_a_clinic_can_make_one_score_above_the_line_a_relapse_signal():
    change = ovr("relapse_consecutive_measures", "value", 1)
    status = evaluate(phq((-3, 20), (12, 8), (30, 12)), IV_SESSIONS, overrides=[change])
    assert status.stage == "booster_suggested"
    assert status.overrides_applied == (change,)


def test_a_rise_above_the_best_score_is_a_relapse_signal_when_the_clinic_sets_one():
    history = phq((-3, 20), (12, 3), (30, 8), (37, 9))
    assert evaluate(history, IV_SESSIONS).stage == "continuation"
    change = ovr("phq9", "relapse_rise_points", 5)
    status = evaluate(history, IV_SESSIONS, overrides=[change])
    assert status.stage == "booster_suggested"
    assert "5 points above the best score 3" in (status.booster_reason or "")


def test_a_completed_series_without_baseline_has_an_unknown_outcome():
    status = evaluate(phq((3, 10)), IV_SESSIONS)
    assert status.stage == "outcome_unknown"
    assert status.interim_evaluation_due
    assert any("No baseline" in r for r in status.reasons)


@pytest.mark.parametrize(
    ("day", "value", "rapid"),
    [(1.0, 9, True), (1.0, 12, False), (1.5, 10, True), (0.5, 10, True), (1.6, 9, None)],
)
def test_rapid_response_is_judged_about_24_hours_after_the_first_session(day, value, rapid):
    status = evaluate(phq((-1, 20), (day, value)), IV_SESSIONS[:1])
    assert status.rapid_response is rapid


def test_a_score_after_the_second_session_does_not_count_for_rapid_response():
    sessions = [SessionRecord(1, 0), SessionRecord(2, 1)]
    status = evaluate(phq((-1, 20), (1.2, 8)), sessions)
    assert status.rapid_response is None


def test_the_esketamine_series_plans_eight_sessions_evaluated_at_the_end():
    sessions = [SessionRecord(n, 3.5 * (n - 1)) for n in range(1, 7)]
    status = evaluate(phq((-2, 20), (20, 18)), sessions, protocol_series="esketamine_trd_induction")
    assert status.series_planned == 8
    assert status.stage == "induction"
    assert course.SERIES["esketamine_trd_induction"].evidence == "confirmed"
    assert course.SERIES["iv_6"].evidence == "convention"


def test_the_clinician_rating_leads_when_several_instruments_are_given():
    scores = [
        Score("phq9", 20, -2),
        Score("madrs", 30, -2),
        Score("gad7", 15, -2),
        Score("phq9", 8, 12),
        Score("madrs", 20, 12),
        Score("gad7", 4, 12),
    ]
    status = evaluate(scores, IV_SESSIONS)
    assert status.primary_instrument == "madrs"
    assert status.stage == "non_response"
    assert set(status.classifications) == {"phq9", "madrs", "gad7"}
    assert status.classifications["gad7"].category == "remission"
    chosen = evaluate(scores, IV_SESSIONS, primary_instrument="phq9")
    assert chosen.stage == "continuation"


def test_scores_are_taken_in_time_order_whatever_order_they_come_in():
    status = evaluate(list(reversed(phq((-3, 20), (8, 12), (12, 8)))), IV_SESSIONS)
    assert status.classifications["phq9"].current == 8


def test_a_clinic_can_plan_a_shorter_series():
    change = ovr("iv_6", "sessions", 4)
    status = evaluate(phq((-3, 20), (8, 9)), IV_SESSIONS[:4], overrides=[change])
    assert status.series_planned == 4
    assert status.stage == "continuation"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"protocol_series": "iv_12"},
        {"overrides": [ovr("nope", "value", 1)]},
        {"primary_instrument": "hamd"},
    ],
)
def test_evaluate_refuses_unknown_names(kwargs):
    with pytest.raises(ValueError):
        evaluate(phq((-3, 20)), IV_SESSIONS, **kwargs)


def test_evaluate_refuses_an_out_of_range_score():
    with pytest.raises(ValueError, match="PHQ-9"):
        evaluate(phq((-3, 30)), IV_SESSIONS)


# medications

MEDICATION_CASES = [
    ("Uniphyl", "theophylline", "xanthines", "moderate"),
    ("Afrin", "oxymetazoline", "sympathomimetics", "moderate"),
    ("cocaine", "cocaine", "cocaine", "major"),
    ("Cytomel", "liothyronine", "thyroid_hormones", "moderate"),
    ("Methergine", "methylergometrine", "vasopressors_uterotonics", "moderate"),
    ("St Johns wort", "st john s wort", "st_johns_wort", "moderate"),
    ("linezolid", "linezolid", "maoi_activity", "major"),
    ("Neurontin", "gabapentin", "gabapentinoids", "moderate"),
    ("Xanax", "alprazolam", "benzodiazepines", "moderate"),
    ("lorazepam", "lorazepam", "benzodiazepines", "moderate"),
    ("KLONOPIN 0.5 mg", "clonazepam", "benzodiazepines", "moderate"),
    ("Ambien", "zolpidem", "z_drugs", "moderate"),
    ("alcohol", "alcohol", "alcohol", "moderate"),
    ("oxycodone", "oxycodone", "opioids", "moderate"),
    ("Nardil", "phenelzine", "maois", "major"),
    ("Emsam patch", "selegiline", "maois", "major"),
    ("Adderall XR 20 mg", "amphetamine", "psychostimulants", "moderate"),
    ("Concerta", "methylphenidate", "psychostimulants", "moderate"),
    ("modafinil", "modafinil", "psychostimulants", "moderate"),
    ("Revia", "naltrexone", "naltrexone", "moderate"),
    ("Vivitrol", "naltrexone", "naltrexone", "moderate"),
    ("Lamictal", "lamotrigine", "lamotrigine", "minor"),
    ("Namenda", "memantine", "memantine", "moderate"),
    ("dextromethorphan", "dextromethorphan", "other_nmda_antagonists", "minor"),
    ("clarithromycin", "clarithromycin", "clarithromycin", "minor"),
    ("itraconazole", "itraconazole", "itraconazole", "info"),
    ("ticlopidine", "ticlopidine", "ticlopidine", "minor"),
    ("rifampin", "rifampicin", "rifampicin", "minor"),
    ("Tegretol", "carbamazepine", "other_cyp_inducers", "info"),
    ("lisinopril", "lisinopril", "antihypertensives", "info"),
    ("Zoloft", "sertraline", "ssris", "info"),
    ("Cymbalta", "duloxetine", "other_antidepressants", "info"),
    ("lithium carbonate", "lithium", "mood_stabilizers", "info"),
]


@pytest.mark.parametrize(("name", "generic", "interaction", "severity"), MEDICATION_CASES)
def test_medications_match_by_generic_brand_and_spelling(name, generic, interaction, severity):
    report = check_medications([name])
    assert report.unknown == ()
    assert [
        (f.medication, f.matched_drug, f.interaction_id, f.severity) for f in report.findings
    ] == [(name, generic, interaction, severity)]
    finding = report.findings[0]
    assert finding.effect and finding.advice and finding.source
    assert finding.evidence in ("confirmed", "secondary", "convention")


def test_every_interaction_row_is_exercised():
    assert {c[2] for c in MEDICATION_CASES} == set(course.INTERACTIONS)


def test_the_naltrexone_finding_cites_the_williams_2018_study():
    finding = check_medications(["naltrexone"]).findings[0]
    assert "Williams" in finding.source and "2018" in finding.source
    assert finding.evidence == "confirmed"


@pytest.mark.parametrize(
    ("name", "interaction"),
    [("benzodiazepines", "benzodiazepines"), ("MAOI", "maois"), ("SSRIs", "ssris")],
)
def test_a_class_name_matches_its_row(name, interaction):
    report = check_medications([name])
    assert [f.interaction_id for f in report.findings] == [interaction]


def test_a_combination_brand_gives_a_finding_per_component():
    report = check_medications(["Contrave"])
    assert [(f.matched_drug, f.interaction_id) for f in report.findings] == [
        ("naltrexone", "naltrexone"),
        ("bupropion", "other_antidepressants"),
    ]


def test_an_unrecognised_component_of_a_combination_is_reported_unknown():
    report = check_medications(["Suboxone", "buprenorphine/naloxone"])
    assert [f.matched_drug for f in report.findings] == ["buprenorphine", "buprenorphine"]
    assert report.unknown == ("naloxone (in Suboxone)", "naloxone (in buprenorphine/naloxone)")


def test_unrecognised_names_are_never_dropped():
    report = check_medications(["aspirin", "Xanax", "vitamin D 1000 IU", ""])
    assert report.unknown == ("aspirin", "vitamin D 1000 IU", "")
    assert [f.matched_drug for f in report.findings] == ["alprazolam"]


def test_a_clinic_can_override_an_interactions_severity():
    change = ovr("lamotrigine", "severity", "moderate")
    report = check_medications(["Lamictal"], overrides=[change])
    assert report.findings[0].severity == "moderate"
    assert report.overrides_applied == (change,)


def test_an_override_of_an_unknown_interaction_is_refused():
    with pytest.raises(ValueError, match="unknown row"):
        check_medications(["Xanax"], overrides=[ovr("benzos", "severity", "minor")])


@given(st.lists(st.text(max_size=30), max_size=5))
def test_property_every_name_is_either_found_or_unknown(names):
    report = check_medications(names)
    found = {f.medication for f in report.findings}
    for name in names:
        assert name in found or name in report.unknown


# ------------------------------------------------------------------ interactions added


@pytest.mark.parametrize(
    ("given", "interaction", "severity"),
    [
        ("Theophylline 300 mg SR", "xanthines", "moderate"),
        ("aminophylline", "xanthines", "moderate"),
        ("Sudafed", "sympathomimetics", "moderate"),
        ("oxymetazoline nasal spray", "sympathomimetics", "moderate"),
        ("cocaine", "cocaine", "major"),
        ("Synthroid 75 mcg", "thyroid_hormones", "moderate"),
        ("liothyronine", "thyroid_hormones", "moderate"),
        ("vasopressin", "vasopressors_uterotonics", "moderate"),
        ("ergonovine", "vasopressors_uterotonics", "moderate"),
        ("St. John's Wort", "st_johns_wort", "moderate"),
        ("hypericum", "st_johns_wort", "moderate"),
        ("Zyvox", "maoi_activity", "major"),
        ("methylene blue", "maoi_activity", "major"),
        ("Lyrica 75 mg", "gabapentinoids", "moderate"),
        ("gabapentin", "gabapentinoids", "moderate"),
    ],
)
def test_published_interactions_are_found_rather_than_unknown(
    given: str, interaction: str, severity: str
) -> None:
    report = course.check_medications([given])
    assert [(f.interaction_id, f.severity) for f in report.findings] == [(interaction, severity)]
    assert report.unknown == ()
    assert report.findings[0].source and report.findings[0].effect


def test_st_johns_wort_carries_the_published_fall_in_exposure() -> None:
    finding = course.check_medications(["St John's wort"]).findings[0]
    assert "58%" in finding.effect and "66%" in finding.effect
    assert "Peltoniemi" in finding.source


def test_the_esketamine_smpc_rows_name_section_4_5() -> None:
    for name in ("theophylline", "levothyroxine", "vasopressin", "ergometrine"):
        assert "4.5" in course.check_medications([name]).findings[0].source


def test_a_medication_without_published_evidence_stays_unknown() -> None:
    assert course.check_medications(["paracetamol"]).unknown == ("paracetamol",)


def test_the_benzodiazepine_row_makes_no_unsourced_claim_about_esketamine() -> None:
    row = course.INTERACTIONS["benzodiazepines"]
    assert "ASPIRE" not in row.effect
