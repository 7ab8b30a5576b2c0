"""C-SSRS screener: Columbia-Suicide Severity Rating Scale, screen version (labels only)."""

from __future__ import annotations

from ..model import AskedIf, Instrument, Item, Source
from ._common import NO_YES

_SOURCE = Source(
    citation="Posner K, Brown GK, Stanley B, et al. The Columbia-Suicide Severity Rating "
    "Scale. Am J Psychiatry 2011;168:1266-1277",
    evidence="confirmed",
)

#: The risk tiers computed by ``scoring``; the high-risk rule is confirmed in the Columbia
#: triage guidelines, the tier wording is secondary.
RISK_SOURCE = Source(
    citation="Columbia clinical triage guidelines using the C-SSRS: a yes to question 4 or 5 "
    "(past month) or any suicidal behaviour in the past 3 months indicates severe risk",
    evidence="confirmed",
    note="High-risk rule confirmed; 'moderate' (yes to 3, or behaviour more than 3 months "
    "ago) and 'low' (highest yes is 1 or 2) tier wording is secondary.",
)

_AFTER_2 = AskedIf("item2", 1)

CSSRS_SCREEN = Instrument(
    id="cssrs_screen",
    name="Columbia-Suicide Severity Rating Scale, screener (C-SSRS screen)",
    completed_by="clinician",
    recall_period="Items 1-5: past month; item 6: lifetime, then whether within the past 3 months",
    items=(
        Item("item1", "Wish to be dead", NO_YES),
        Item("item2", "Non-specific active suicidal thoughts", NO_YES),
        Item(
            "item3",
            "Active suicidal ideation with any methods (not plan) without intent to act",
            NO_YES,
            asked_if=_AFTER_2,
        ),
        Item(
            "item4",
            "Active suicidal ideation with some intent to act, without specific plan",
            NO_YES,
            asked_if=_AFTER_2,
        ),
        Item(
            "item5",
            "Active suicidal ideation with specific plan and intent",
            NO_YES,
            asked_if=_AFTER_2,
        ),
        Item("item6", "Suicidal behaviour (lifetime)", NO_YES),
        Item(
            "item6_recent",
            "Suicidal behaviour within the past 3 months",
            NO_YES,
            asked_if=AskedIf("item6", 1),
        ),
    ),
    scoring="cssrs_screen",
    scoring_description="No sum. Answers are 0 (no) or 1 (yes). Items 3-5 are asked only "
    "when item 2 is yes (otherwise they must be absent or 0); item6_recent is asked only "
    "when item 6 is yes. Risk: high = yes to 4 or 5, or behaviour in the past 3 months; "
    "moderate = yes to 3, or behaviour longer ago; low = highest yes is 1 or 2; "
    "none = all no.",
    source=_SOURCE,
    text_source=Source(
        citation="C-SSRS screen version item headings (Columbia Lighthouse Project), as "
        "reproduced in public clinical forms",
        evidence="secondary",
    ),
    licence="Free to use with registration (Columbia Lighthouse Project); only item labels "
    "are stored. A clinic can load the full question wording from its registered copy.",
    notes=(
        "Item 6 is modelled as two items: item6 (ever) and item6_recent (within the past "
        "3 months), which is required when item6 is yes.",
        "No LOINC codes: none confirmed (73831-0 is not a C-SSRS code).",
    ),
)
