"""Pieces shared by several definitions."""

from __future__ import annotations

from ..model import AnswerOption, ResponseRule, Source

REFERENCE = "ketaclinic clinical reference (/work/shared/clinical-reference.md), section 5"

#: PHQ-9 and GAD-7 share this answer set (frequency over the last 2 weeks).
PHQ_FREQUENCY = (
    AnswerOption(0, "Not at all"),
    AnswerOption(1, "Several days"),
    AnswerOption(2, "More than half the days"),
    AnswerOption(3, "Nearly every day"),
)

NO_YES = (AnswerOption(0, "No"), AnswerOption(1, "Yes"))


def numeric_options(low: int, high: int) -> tuple[AnswerOption, ...]:
    """Answer options carrying only their number (texts not stored, e.g. for licence)."""
    return tuple(AnswerOption(value) for value in range(low, high + 1))


RESPONSE_50_PERCENT = ResponseRule(
    min_reduction=0.5,
    description="Response: total reduced by at least 50% from baseline.",
    source=Source(
        citation=f"{REFERENCE}: response and remission",
        evidence="convention",
        note="Widely used in trials; no single authoritative source.",
    ),
)
