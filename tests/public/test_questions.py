from __future__ import annotations

from ketaclinic.clinical import screening
from ketaclinic.public.questions import BY_RULE, EXCLUDED, QUESTIONS, SECTIONS


def test_every_candidacy_rule_is_asked_or_excluded_with_a_reason() -> None:
    for rule in screening.rules():
        assert rule.id in BY_RULE or EXCLUDED.get(rule.id, "").strip(), rule.id


def test_no_question_names_a_rule_that_does_not_exist() -> None:
    ids = {rule.id for rule in screening.rules()}
    assert {q.rule_id for q in QUESTIONS} <= ids
    assert set(EXCLUDED) <= ids


def test_each_question_has_plain_words_and_a_known_section() -> None:
    for q in QUESTIONS:
        assert q.section in SECTIONS
        assert q.ask.endswith("?") and len(q.why) > 20
