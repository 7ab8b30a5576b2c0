"""C-SSRS screener: skip logic and risk tiers.

Risk rule (Columbia triage guidelines; Posner 2011): high = yes to 4 or 5 (past month)
or any suicidal behaviour in the past 3 months; moderate = yes to 3, or behaviour longer
ago; low = highest yes is 1 or 2; none = all no.
"""

import pytest

from ketaclinic.clinical import instruments


def cssrs(**answers):
    base = {"item1": 0, "item2": 0, "item6": 0}
    base.update(answers)
    return base


@pytest.mark.parametrize(
    ("answers", "risk"),
    [
        (cssrs(), "none"),
        (cssrs(item1=1), "low"),
        (cssrs(item1=1, item2=1, item3=0, item4=0, item5=0), "low"),
        (cssrs(item2=1, item3=0, item4=0, item5=0), "low"),
        (cssrs(item2=1, item3=1, item4=0, item5=0), "moderate"),
        (cssrs(item6=1, item6_recent=0), "moderate"),
        (cssrs(item1=1, item2=1, item3=1, item4=1, item5=0), "high"),
        (cssrs(item2=1, item3=0, item4=0, item5=1), "high"),
        (cssrs(item6=1, item6_recent=1), "high"),
        (cssrs(item1=1, item6=1, item6_recent=1), "high"),
    ],
)
def test_cssrs_risk_tiers(answers, risk):
    result = instruments.score("cssrs_screen", answers)
    assert result.risk == risk
    assert result.total is None
    assert result.severity is None


def test_cssrs_no_risk_raises_no_flag():
    assert instruments.score("cssrs_screen", cssrs()).flags == frozenset()


def test_cssrs_any_risk_flags_suicidality():
    assert instruments.score("cssrs_screen", cssrs(item1=1)).flags == frozenset({"suicidality"})


def test_cssrs_high_risk_adds_the_high_risk_flag():
    result = instruments.score("cssrs_screen", cssrs(item6=1, item6_recent=1))
    assert result.flags == frozenset({"suicidality", "suicide_risk_high"})


def test_cssrs_items_3_to_5_are_not_asked_when_item2_is_no():
    result = instruments.score("cssrs_screen", cssrs(item1=1))
    assert result.item_values == {"item1": 1, "item2": 0, "item6": 0}
    assert result.notes == ("Not asked (skip logic): item3, item4, item5, item6_recent.",)


def test_cssrs_zeros_for_unasked_items_are_accepted_and_dropped():
    result = instruments.score("cssrs_screen", [1, 0, 0, 0, 0, 0, 0])
    assert result.item_values == {"item1": 1, "item2": 0, "item6": 0}
    assert result.risk == "low"


@pytest.mark.parametrize("item", ["item3", "item4", "item5"])
def test_cssrs_a_yes_to_items_3_to_5_when_item2_is_no_is_rejected(item):
    with pytest.raises(ValueError, match=f"cssrs_screen {item}: asked only when item2 is 1"):
        instruments.score("cssrs_screen", cssrs(**{item: 1}))


def test_cssrs_items_3_to_5_are_required_when_item2_is_yes():
    with pytest.raises(ValueError, match="missing answer for item3"):
        instruments.score("cssrs_screen", cssrs(item2=1))


def test_cssrs_recent_behaviour_is_required_when_behaviour_is_yes():
    with pytest.raises(ValueError, match="missing answer for item6_recent"):
        instruments.score("cssrs_screen", cssrs(item6=1))


def test_cssrs_recent_behaviour_yes_without_lifetime_behaviour_is_rejected():
    with pytest.raises(ValueError, match="item6_recent: asked only when item6 is 1"):
        instruments.score("cssrs_screen", cssrs(item6_recent=1))


def test_cssrs_answers_other_than_0_or_1_are_rejected():
    with pytest.raises(ValueError, match="cssrs_screen item1: value 2 is outside 0-1"):
        instruments.score("cssrs_screen", cssrs(item1=2))


def test_cssrs_risk_function_treats_absent_items_as_no():
    assert instruments.cssrs_risk({}) == "none"
    assert instruments.cssrs_risk({"item5": 1}) == "high"
