"""The plan tables of the clinical core, checked against values computed by hand."""

from __future__ import annotations

from datetime import date

import pytest

from ketaclinic.clinical.course import plan
from ketaclinic.clinical.overrides import Override

RULE = plan.RELAPSE["phq9_back_to_moderate"]


@pytest.mark.parametrize(
    ("scores", "signal"),
    [
        ([], False),
        ([12], False),  # one measurement is not two
        ([6, 10, 12], True),  # 10 and 12 are both at or above 10
        ([6, 10, 10], True),  # at the threshold counts
        ([12, 9], False),  # the last one is back below
        ([11, 9, 12], False),  # not consecutive
        ([4, 9, 9], False),  # mild, not moderate
    ],
)
def test_the_relapse_rule_needs_two_consecutive_phq9_scores_at_10_or_more(
    scores: list[float], signal: bool
) -> None:
    found = plan.relapse_signal(RULE, scores)
    assert (found is not None) is signal
    if found is not None:
        assert found.values == tuple(float(s) for s in scores[-2:])
        assert "Kroenke" in found.reason


def test_a_clinic_can_ask_for_three_measurements() -> None:
    rules = plan.relapse_rules(
        [Override("phq9_back_to_moderate", "consecutive", 3, by="dr.chen", reason="fewer boosters")]
    )
    rule = rules["phq9_back_to_moderate"]
    assert plan.relapse_signal(rule, [6, 10, 12]) is None
    assert plan.relapse_signal(rule, [10, 10, 12]) is not None


def test_the_iv_taper_gives_boosters_on_days_7_14_28_42_70_98() -> None:
    schedule = plan.maintenance("iv_taper")
    assert schedule.gaps_days == (7, 7, 14, 14, 28, 28)
    start = date(2026, 3, 2)
    assert plan.booster_dates(start, schedule.gaps_days) == [
        date(2026, 3, 9),
        date(2026, 3, 16),
        date(2026, 3, 30),
        date(2026, 4, 13),
        date(2026, 5, 11),
        date(2026, 6, 8),
    ]


def test_the_esketamine_schedule_follows_the_label() -> None:
    schedule = plan.maintenance("esketamine_label")
    assert schedule.evidence == "confirmed"
    assert schedule.gaps_days == (7, 7, 7, 7, 14, 14, 14, 14)


def test_every_plan_row_names_its_source_and_firmness() -> None:
    for table in (plan.MAINTENANCE, plan.RELAPSE, plan.THERAPY_PHASES):
        for row in table.values():
            assert row.source and row.evidence in ("confirmed", "secondary", "convention")
    assert "ASKP3" in plan.THERAPY_PHASES["preparation"].source
    with pytest.raises(ValueError, match="unknown maintenance schedule"):
        plan.maintenance("nightly")


def test_a_clinic_gives_booster_proposals_one_business_day() -> None:
    assert plan.escalation_rules()["booster_proposal"].business_days == 2
    rule = plan.escalation_rules(
        [Override("booster_proposal", "business_days", 1, by="dr.chen", reason="clinic policy")]
    )["booster_proposal"]
    assert rule.business_days == 1


def test_kap_protocols_ask_for_a_signed_preparation_note_before_the_first_dose() -> None:
    rules = plan.preparation_requirements()
    assert rules["sublingual_ketamine"].required and rules["im_ketamine"].required
    assert rules["sublingual_ketamine"].evidence == "secondary"
    assert "ASKP3" in rules["sublingual_ketamine"].source
    assert not rules["iv_ketamine"].required and not rules["in_esketamine"].required
    assert plan.preparation_status(rules["sublingual_ketamine"], 0).met is False
    assert plan.preparation_status(rules["sublingual_ketamine"], 1).met is True


def test_a_clinic_asks_for_two_preparation_notes() -> None:
    rule = plan.preparation_requirements(
        [Override("im_ketamine", "notes", 2, by="dr.chen", reason="two preparation visits")]
    )["im_ketamine"]
    status = plan.preparation_status(rule, 1)
    assert not status.met and "1 of 2 signed preparation note(s)" in status.text
    assert plan.preparation_status(rule, 2).met
