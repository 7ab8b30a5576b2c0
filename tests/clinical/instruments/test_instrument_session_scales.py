"""Scales used during a session: CADSS, CADSS-6, MOAA/S, modified Aldrete."""

import pytest

from ketaclinic.clinical import instruments


def test_cadss_total_is_the_sum_of_23_items():
    """Bremner 1998 (23-item form, 0-4): 0-92, no bands."""
    values = [1] * 10 + [2] * 10 + [4, 4, 4]
    result = instruments.score("cadss", values)
    assert result.total == 42
    assert result.severity is None
    assert result.flags == frozenset()


def test_cadss_extremes():
    assert instruments.score("cadss", [0] * 23).total == 0
    assert instruments.score("cadss", [4] * 23).total == 92


def test_cadss6_uses_items_1_2_6_7_15_and_22_of_the_full_scale():
    """Rodrigues 2021: CADSS-6 = full CADSS questions 1, 2, 6, 7, 15 and 22."""
    answers = {"item1": 1, "item2": 2, "item6": 3, "item7": 4, "item15": 0, "item22": 2}
    result = instruments.score("cadss6", answers)
    assert result.total == 12
    assert result.item_values == answers


def test_cadss6_rejects_a_full_scale_item_it_does_not_contain():
    with pytest.raises(ValueError, match="cadss6: unknown item 'item3'"):
        instruments.score("cadss6", {"item3": 1})


@pytest.mark.parametrize(
    ("rating", "label"),
    [
        (5, "Responds readily to name spoken in normal tone"),
        (4, "Lethargic response to name spoken in normal tone"),
        (3, "Responds only after name is called loudly and/or repeatedly"),
        (2, "Responds only after mild prodding or shaking"),
        (1, "Responds only after painful trapezius squeeze"),
        (0, "Does not respond to painful trapezius squeeze"),
    ],
)
def test_moaas_levels_follow_chernik(rating, label):
    """Chernik 1990, MOAA/S responsiveness levels 5 (alert) to 0 (no response)."""
    item = instruments.get("moaas").item("rating")
    assert {o.value: o.label for o in item.options}[rating] == label
    assert instruments.score("moaas", {"rating": rating}).total == rating


def test_moaas_zero_flags_loss_of_consciousness():
    assert instruments.score("moaas", [0]).flags == frozenset({"loss_of_consciousness"})
    assert instruments.score("moaas", [1]).flags == frozenset()


def test_moaas_rejects_six():
    with pytest.raises(ValueError, match="moaas rating: value 6 is outside 0-5"):
        instruments.score("moaas", [6])


ALDRETE_FULL = {
    "activity": 2,
    "respiration": 2,
    "circulation": 2,
    "consciousness": 2,
    "oxygen_saturation": 2,
}


def test_aldrete_nine_is_discharge_ready():
    """Aldrete 1995: a score of 9 or more allows discharge. 2+2+2+2+1 = 9."""
    result = instruments.score("aldrete", {**ALDRETE_FULL, "oxygen_saturation": 1})
    assert result.total == 9
    assert "discharge_ready" in result.flags
    assert result.severity == "meets discharge score"


def test_aldrete_eight_is_not_discharge_ready():
    result = instruments.score("aldrete", {**ALDRETE_FULL, "consciousness": 1, "activity": 1})
    assert result.total == 8
    assert result.flags == frozenset()
    assert result.severity == "not ready for discharge"


def test_aldrete_ten_and_zero():
    assert instruments.score("aldrete", ALDRETE_FULL).total == 10
    assert instruments.score("aldrete", [0, 0, 0, 0, 0]).severity == "not ready for discharge"


def test_aldrete_oxygen_saturation_options_follow_the_1995_criteria():
    """Aldrete 1995: SpO2 > 92% on air 2; needs O2 to stay > 90% 1; < 90% with O2 0."""
    item = instruments.get("aldrete").item("oxygen_saturation")
    labels = {o.value: o.label for o in item.options}
    assert labels == {
        2: "Able to maintain SpO2 above 92% on room air",
        1: "Needs oxygen to maintain SpO2 above 90%",
        0: "SpO2 below 90% even with oxygen",
    }


def test_aldrete_circulation_options_use_mmhg_from_baseline():
    item = instruments.get("aldrete").item("circulation")
    labels = {o.value: o.label for o in item.options}
    assert "within 20 mmHg" in labels[2]
    assert "20-50 mmHg" in labels[1]
    assert "more than 50 mmHg" in labels[0]
