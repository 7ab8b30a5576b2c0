"""QIDS-SR16 (domain scoring) and MADRS (sum, bands, item-10 flag)."""

import pytest

from ketaclinic.clinical import instruments


def qids(values):
    return {f"item{n}": v for n, v in enumerate(values, start=1)}


def test_qids_total_takes_the_highest_of_each_grouped_domain():
    """Rush 2003 scoring: sleep = max(1-4), appetite/weight = max(6-9),
    psychomotor = max(15-16); other items as they are.
    Here: sleep 3 + mood 2 + appetite/weight 2 + 1 + 2 + 0 + 1 + 2 + psychomotor 1 = 14."""
    values = [1, 3, 0, 2, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1]
    result = instruments.score("qids_sr16", values)
    assert result.total == 14
    assert result.severity == "moderate"
    assert result.subscales == {
        "sleep": 3,
        "sad_mood": 2,
        "appetite_weight": 2,
        "concentration": 1,
        "self_view": 2,
        "suicidal_ideation": 0,
        "involvement": 1,
        "energy": 2,
        "psychomotor": 1,
    }


def test_qids_all_items_at_three_totals_27_not_48():
    result = instruments.score("qids_sr16", [3] * 16)
    assert result.total == 27
    assert result.severity == "very severe"


def test_qids_a_high_sleep_item_alone_counts_once():
    result = instruments.score("qids_sr16", [3, 3, 3, 3] + [0] * 12)
    assert result.total == 3


@pytest.mark.parametrize(
    ("total", "severity"),
    [
        (0, "none"),
        (5, "none"),
        (6, "mild"),
        (10, "mild"),
        (11, "moderate"),
        (15, "moderate"),
        (16, "severe"),
        (20, "severe"),
        (21, "very severe"),
        (27, "very severe"),
    ],
)
def test_qids_band_boundaries(total, severity):
    """ids-qids.org: 0-5 none, 6-10 mild, 11-15 moderate, 16-20 severe, 21-27 very severe.
    One item per domain is filled (1, 5, 6, 10, 11, 13, 14, 15, then 12)."""
    values = [0] * 16
    remaining = total
    for n in (1, 5, 6, 10, 11, 13, 14, 15, 12):
        values[n - 1] = min(3, remaining)
        remaining -= values[n - 1]
    result = instruments.score("qids_sr16", values)
    assert result.total == total
    assert result.severity == severity


def test_qids_item12_above_zero_flags_suicidality():
    values = [0] * 16
    values[11] = 1
    assert instruments.score("qids_sr16", values).flags == frozenset({"suicidality"})


def test_madrs_total_and_band():
    """Montgomery & Asberg 1979: 10 items 0-6 summed; Snaith 1986 bands.
    2+4+2+4+0+2+2+4+2+0 = 22: moderate."""
    result = instruments.score("madrs", [2, 4, 2, 4, 0, 2, 2, 4, 2, 0])
    assert result.total == 22
    assert result.severity == "moderate"
    assert result.flags == frozenset()


def test_madrs_accepts_odd_ratings_between_anchors():
    assert instruments.score("madrs", [1, 3, 5, 0, 0, 0, 0, 0, 0, 0]).total == 9


@pytest.mark.parametrize(
    ("total", "severity"),
    [
        (0, "normal"),
        (6, "normal"),
        (7, "mild"),
        (19, "mild"),
        (20, "moderate"),
        (34, "moderate"),
        (35, "severe"),
        (60, "severe"),
    ],
)
def test_madrs_band_boundaries(total, severity):
    """Snaith 1986: 0-6 normal, 7-19 mild, 20-34 moderate, 35-60 severe (item 10 last)."""
    values = []
    remaining = total
    for _ in range(10):
        values.append(min(6, remaining))
        remaining -= values[-1]
    result = instruments.score("madrs", values)
    assert result.total == total
    assert result.severity == severity


@pytest.mark.parametrize(("item10", "flagged"), [(0, False), (1, True), (2, True), (6, True)])
def test_madrs_item10_above_zero_flags_suicidality(item10, flagged):
    values = [0] * 9 + [item10]
    assert ("suicidality" in instruments.score("madrs", values).flags) is flagged
