"""Small-cell suppression: a count of 1 to 10 people is never shown (the CMS policy's
minimum cell of 11), zero and 11 or more are."""

from __future__ import annotations

import dataclasses

import pytest

from ketaclinic.clinical import disclosure

RULE = disclosure.SUPPRESSION["research_tables"]


def test_the_default_minimum_cell_is_eleven_and_cites_the_cms_policy() -> None:
    assert RULE.min_cell == 11
    assert "CMS" in RULE.source and RULE.evidence == "secondary"


@pytest.mark.parametrize(
    ("count", "shown"), [(0, "0"), (1, "<11"), (3, "<11"), (10, "<11"), (11, "11"), (250, "250")]
)
def test_counts_under_the_minimum_are_shown_suppressed(count: int, shown: str) -> None:
    assert disclosure.shown(count, RULE) == shown
    assert disclosure.suppressed(count, RULE) is (shown == "<11")


def test_a_clinic_that_hides_zero_too_suppresses_it() -> None:
    strict = dataclasses.replace(RULE, show_zero=False, min_cell=5)
    assert disclosure.shown(0, strict) == "<5"
    assert disclosure.shown(4, strict) == "<5"
    assert disclosure.shown(5, strict) == "5"


def test_a_negative_count_is_an_error() -> None:
    with pytest.raises(ValueError):
        disclosure.suppressed(-1, RULE)
