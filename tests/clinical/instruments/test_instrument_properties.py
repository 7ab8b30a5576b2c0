"""Property tests: any valid answers give a total within range and a known band."""

from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.clinical import instruments

# id -> (number of items, highest answer, highest total, band labels)
SUM_INSTRUMENTS = {
    "phq9": (9, 3, 27, {"minimal", "mild", "moderate", "moderately severe", "severe"}),
    "gad7": (7, 3, 21, {"minimal", "mild", "moderate", "severe"}),
    "pcl5": (20, 4, 80, {None}),
    "qids_sr16": (16, 3, 27, {"none", "mild", "moderate", "severe", "very severe"}),
    "madrs": (10, 6, 60, {"normal", "mild", "moderate", "severe"}),
    "cadss": (23, 4, 92, {None}),
    "cadss6": (6, 4, 24, {None}),
    "moaas": (1, 5, 5, {None}),
    "aldrete": (5, 2, 10, {"not ready for discharge", "meets discharge score"}),
}


@st.composite
def valid_answers(draw):
    instrument_id = draw(st.sampled_from(sorted(SUM_INSTRUMENTS)))
    count, top, _, _ = SUM_INSTRUMENTS[instrument_id]
    values = draw(st.lists(st.integers(0, top), min_size=count, max_size=count))
    return instrument_id, values


@given(valid_answers())
def test_total_is_always_within_the_published_range(case):
    instrument_id, values = case
    result = instruments.score(instrument_id, values)
    assert 0 <= result.total <= SUM_INSTRUMENTS[instrument_id][2]


@given(valid_answers())
def test_severity_is_always_one_of_the_bands(case):
    instrument_id, values = case
    result = instruments.score(instrument_id, values)
    assert result.severity in SUM_INSTRUMENTS[instrument_id][3]


@given(valid_answers())
def test_item_values_echo_the_answers(case):
    instrument_id, values = case
    result = instruments.score(instrument_id, values)
    assert list(result.item_values.values()) == values


@given(st.lists(st.integers(0, 3), min_size=16, max_size=16))
def test_qids_total_never_exceeds_the_plain_sum(values):
    total = instruments.score("qids_sr16", values).total
    assert total <= sum(values)


@given(st.lists(st.integers(0, 4), min_size=20, max_size=20))
def test_pcl5_clusters_add_up_to_the_total(values):
    result = instruments.score("pcl5", values)
    assert sum(result.subscales.values()) == result.total == sum(values)


@st.composite
def cssrs_answers(draw):
    answers = {"item1": draw(st.integers(0, 1)), "item2": draw(st.integers(0, 1))}
    if answers["item2"] == 1:
        for item in ("item3", "item4", "item5"):
            answers[item] = draw(st.integers(0, 1))
    answers["item6"] = draw(st.integers(0, 1))
    if answers["item6"] == 1:
        answers["item6_recent"] = draw(st.integers(0, 1))
    return answers


@given(cssrs_answers())
def test_cssrs_risk_is_always_a_known_tier_and_flags_match_it(answers):
    result = instruments.score("cssrs_screen", answers)
    assert result.risk in {"none", "low", "moderate", "high"}
    assert ("suicidality" in result.flags) == (result.risk != "none")
    assert ("suicide_risk_high" in result.flags) == (result.risk == "high")
    assert (result.risk == "none") == (not any(answers.values()))
