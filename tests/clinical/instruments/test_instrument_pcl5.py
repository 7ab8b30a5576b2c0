"""PCL-5: total, DSM-5 cluster scores, provisional diagnosis, probable-PTSD cut-point.

Rules from the National Center for PTSD PCL-5 scoring (Weathers 2013; Blevins 2015):
total 0-80; clusters B items 1-5, C 6-7, D 8-14, E 15-20; provisional diagnosis when
items rated 2 or more include at least 1 B, 1 C, 2 D and 2 E.
"""

import pytest

from ketaclinic.clinical import instruments


def pcl5(**ratings):
    """All 20 items at 0 except those given as item<n>=value."""
    answers = {f"item{n}": 0 for n in range(1, 21)}
    answers.update(ratings)
    return answers


def test_pcl5_total_and_cluster_scores():
    values = [1, 2, 3, 4, 0, 1, 2, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2]
    result = instruments.score("pcl5", values)
    # B = 1+2+3+4+0, C = 1+2, D = 0+1+2+3+4+0+1, E = 2+3+4+0+1+2
    assert result.subscales == {"B": 10, "C": 3, "D": 11, "E": 12}
    assert result.total == 36
    assert result.severity is None


def test_pcl5_minimum_endorsement_pattern_gives_a_provisional_diagnosis():
    result = instruments.score("pcl5", pcl5(item1=2, item6=2, item8=2, item9=2, item15=2, item16=2))
    assert result.provisional_diagnosis is True
    assert result.total == 12
    assert "probable_ptsd" not in result.flags


@pytest.mark.parametrize(
    "missing_one",
    [
        {"item6": 2, "item8": 2, "item9": 2, "item15": 2, "item16": 2},  # no B
        {"item1": 2, "item8": 2, "item9": 2, "item15": 2, "item16": 2},  # no C
        {"item1": 2, "item6": 2, "item8": 2, "item15": 2, "item16": 2},  # one D only
        {"item1": 2, "item6": 2, "item8": 2, "item9": 2, "item15": 2},  # one E only
    ],
)
def test_pcl5_a_cluster_short_of_its_count_means_no_provisional_diagnosis(missing_one):
    assert instruments.score("pcl5", pcl5(**missing_one)).provisional_diagnosis is False


def test_pcl5_items_rated_1_do_not_count_as_endorsed():
    result = instruments.score("pcl5", [1] * 20)
    assert result.total == 20
    assert result.provisional_diagnosis is False


def test_pcl5_high_total_without_the_pattern_is_not_a_provisional_diagnosis():
    """All B, D, E items at 4 but C at 0: total 72, still no DSM-5 pattern."""
    values = [4] * 5 + [0, 0] + [4] * 13
    result = instruments.score("pcl5", values)
    assert result.total == 72
    assert result.provisional_diagnosis is False
    assert "probable_ptsd" in result.flags


@pytest.mark.parametrize(("total", "flagged"), [(32, False), (33, True), (80, True)])
def test_pcl5_probable_ptsd_flag_at_the_cut_point_of_33(total, flagged):
    """Bovin 2016: cut-points 31-33; the default is 33."""
    values = []
    remaining = total
    for _ in range(20):
        values.append(min(4, remaining))
        remaining -= values[-1]
    result = instruments.score("pcl5", values)
    assert result.total == total
    assert ("probable_ptsd" in result.flags) is flagged


def test_pcl5_result_explains_the_cluster_counts():
    result = instruments.score("pcl5", pcl5(item1=2, item6=3))
    assert result.notes == ("Endorsed items (rated 2+) per cluster: B 1/1, C 1/1, D 0/2, E 0/2.",)


def test_pcl5_does_not_prorate_a_missing_item():
    answers = pcl5()
    del answers["item20"]
    with pytest.raises(ValueError, match="pcl5: missing answer for item20"):
        instruments.score("pcl5", answers)
