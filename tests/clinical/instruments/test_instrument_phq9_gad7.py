"""PHQ-9 and GAD-7 scoring: totals, bands at every boundary, the item-9 flag."""

import pytest

from ketaclinic.clinical import instruments


def answers_summing_to(total, items, top):
    """Answers in item order that add up to ``total`` (each item at most ``top``)."""
    values = []
    for _ in range(items):
        value = min(top, total)
        values.append(value)
        total -= value
    assert total == 0
    return values


def test_phq9_total_is_the_sum_of_the_nine_items():
    """Kroenke 2001: 9 items scored 0-3, summed. 1+2+0+1+1+0+0+0+0 = 5, mild."""
    result = instruments.score("phq9", [1, 2, 0, 1, 1, 0, 0, 0, 0])
    assert result.total == 5
    assert result.severity == "mild"
    assert result.flags == frozenset()
    assert result.item_values["item2"] == 2
    assert result.prorated is False


def test_phq9_accepts_answers_by_item_id():
    answers = {f"item{n}": 3 for n in range(1, 10)}
    result = instruments.score("phq9", answers)
    assert result.total == 27
    assert result.severity == "severe"


@pytest.mark.parametrize(
    ("total", "severity"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_band_boundaries(total, severity):
    """Kroenke & Spitzer 2002: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately
    severe, 20-27 severe. Items are filled in order, so item 9 is 0 up to a total of 24."""
    values = answers_summing_to(total, 9, 3)
    result = instruments.score("phq9", values)
    assert result.total == total
    assert result.severity == severity


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_item9_above_zero_flags_suicidality(item9):
    result = instruments.score("phq9", [0, 0, 0, 0, 0, 0, 0, 0, item9])
    assert "suicidality" in result.flags
    assert result.severity == "minimal"


def test_phq9_item9_at_zero_does_not_flag_suicidality_even_when_severe():
    result = instruments.score("phq9", [3, 3, 3, 3, 3, 3, 3, 3, 0])
    assert result.total == 24
    assert result.flags == frozenset()


def test_gad7_scores_the_hl7_pacio_sample_response_as_mild():
    """HL7 PACIO sample data, BSJ1-GAD7-QuestionnaireResponse-October2025: answers
    several days x5, not at all, more than half the days -> total 7, mild anxiety."""
    result = instruments.score("gad7", [1, 1, 1, 1, 0, 1, 2])
    assert result.total == 7
    assert result.severity == "mild"


def test_gad7_scores_the_hl7_pacio_january_sample_as_minimal():
    """HL7 PACIO sample data, BSJ1-GAD7-QuestionnaireResponse-January2026: total 4,
    minimal anxiety."""
    result = instruments.score("gad7", [1, 0, 0, 1, 0, 1, 1])
    assert result.total == 4
    assert result.severity == "minimal"


@pytest.mark.parametrize(
    ("total", "severity"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_band_boundaries(total, severity):
    """Spitzer 2006: cut-points 5, 10 and 15."""
    result = instruments.score("gad7", answers_summing_to(total, 7, 3))
    assert result.total == total
    assert result.severity == severity


def test_gad7_raises_no_flags():
    assert instruments.score("gad7", [3] * 7).flags == frozenset()
