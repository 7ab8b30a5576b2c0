"""Bad answers are refused with a message naming the instrument and the item."""

import pytest

from ketaclinic.clinical import instruments


def test_an_out_of_range_answer_names_the_item_and_the_range():
    with pytest.raises(ValueError, match=r"^phq9 item9: value 4 is outside 0-3$"):
        instruments.score("phq9", [0, 0, 0, 0, 0, 0, 0, 0, 4])


def test_a_negative_answer_is_out_of_range():
    with pytest.raises(ValueError, match=r"gad7 item1: value -1 is outside 0-3"):
        instruments.score("gad7", [-1, 0, 0, 0, 0, 0, 0])


def test_missing_answers_are_all_named():
    answers = {f"item{n}": 0 for n in range(1, 10)}
    del answers["item3"]
    del answers["item7"]
    with pytest.raises(ValueError, match=r"^phq9: missing answer for item3, item7$"):
        instruments.score("phq9", answers)


def test_a_none_answer_counts_as_missing():
    with pytest.raises(ValueError, match="missing answer for item2"):
        instruments.score("gad7", [0, None, 0, 0, 0, 0, 0])


def test_an_unknown_item_id_is_refused():
    answers = {f"item{n}": 0 for n in range(1, 10)}
    answers["item10"] = 1
    with pytest.raises(ValueError, match="phq9: unknown item 'item10'"):
        instruments.score("phq9", answers)


def test_a_sequence_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="phq9: expected 9 answers in item order"):
        instruments.score("phq9", [0] * 8)


@pytest.mark.parametrize("value", [True, 1.0, "1"])
def test_answers_must_be_whole_numbers(value):
    with pytest.raises(ValueError, match="gad7 item1: value .* is not a whole number"):
        instruments.score("gad7", [value, 0, 0, 0, 0, 0, 0])


def test_a_string_is_not_a_sequence_of_answers():
    with pytest.raises(ValueError, match="answers must be a mapping"):
        instruments.score("moaas", "5")


def test_scoring_an_unknown_instrument_is_a_value_error():
    with pytest.raises(ValueError, match="unknown instrument 'bdi'"):
        instruments.score("bdi", [0])


def test_the_result_is_immutable():
    result = instruments.score("gad7", [0] * 7)
    with pytest.raises(AttributeError):
        result.total = 3
