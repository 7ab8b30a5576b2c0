"""PCL-5: PTSD Checklist for DSM-5 (National Center for PTSD; public domain)."""

from __future__ import annotations

from ..model import AnswerOption, DiagnosticRule, FlagRule, Instrument, Item, Source, Subscale
from ._common import RESPONSE_50_PERCENT

_SOURCE = Source(
    citation="Weathers FW, Litz BT, Keane TM, et al. The PTSD Checklist for DSM-5 (PCL-5). "
    "National Center for PTSD, 2013; Blevins CA et al., J Trauma Stress 2015;28:489-498",
    evidence="confirmed",
)

_OPTIONS = (
    AnswerOption(0, "Not at all"),
    AnswerOption(1, "A little bit"),
    AnswerOption(2, "Moderately"),
    AnswerOption(3, "Quite a bit"),
    AnswerOption(4, "Extremely"),
)

_ITEMS = (
    (
        "Intrusive memories",
        "Repeated, disturbing, and unwanted memories of the stressful experience?",
    ),
    ("Disturbing dreams", "Repeated, disturbing dreams of the stressful experience?"),
    (
        "Flashbacks",
        "Suddenly feeling or acting as if the stressful experience were actually "
        "happening again (as if you were actually back there reliving it)?",
    ),
    (
        "Upset at reminders",
        "Feeling very upset when something reminded you of the stressful experience?",
    ),
    (
        "Physical reactions to reminders",
        "Having strong physical reactions when something "
        "reminded you of the stressful experience (for example, heart pounding, trouble "
        "breathing, sweating)?",
    ),
    (
        "Avoiding memories",
        "Avoiding memories, thoughts, or feelings related to the stressful experience?",
    ),
    (
        "Avoiding reminders",
        "Avoiding external reminders of the stressful experience (for "
        "example, people, places, conversations, activities, objects, or situations)?",
    ),
    ("Trouble remembering", "Trouble remembering important parts of the stressful experience?"),
    (
        "Negative beliefs",
        "Having strong negative beliefs about yourself, other people, or the "
        "world (for example, having thoughts such as: I am bad, there is something seriously "
        "wrong with me, no one can be trusted, the world is completely dangerous)?",
    ),
    (
        "Blame",
        "Blaming yourself or someone else for the stressful experience or what happened after it?",
    ),
    (
        "Negative feelings",
        "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
    ),
    ("Loss of interest", "Loss of interest in activities that you used to enjoy?"),
    ("Feeling distant", "Feeling distant or cut off from other people?"),
    (
        "Trouble with positive feelings",
        "Trouble experiencing positive feelings (for example, "
        "being unable to feel happiness or have loving feelings for people close to you)?",
    ),
    ("Irritability or aggression", "Irritable behavior, angry outbursts, or acting aggressively?"),
    ("Risk taking", "Taking too many risks or doing things that could cause you harm?"),
    ("Hypervigilance", 'Being "superalert" or watchful or on guard?'),
    ("Startle", "Feeling jumpy or easily startled?"),
    ("Concentration", "Having difficulty concentrating?"),
    ("Sleep", "Trouble falling or staying asleep?"),
)


def _ids(first: int, last: int) -> tuple[str, ...]:
    return tuple(f"item{n}" for n in range(first, last + 1))


PCL5 = Instrument(
    id="pcl5",
    name="PTSD Checklist for DSM-5 (PCL-5)",
    completed_by="patient",
    recall_period="In the past month",
    items=tuple(
        Item(id=f"item{n}", label=label, text=text, options=_OPTIONS)
        for n, (label, text) in enumerate(_ITEMS, start=1)
    ),
    scoring="sum",
    scoring_description="Sum of the 20 items, each 0-4 (total 0-80). Cluster scores sum "
    "the items of each DSM-5 cluster. No severity bands: none are empirically derived.",
    source=_SOURCE,
    text_source=Source(
        citation="PCL-5 standard form (National Center for PTSD), as reproduced on public "
        "clinical sites",
        evidence="secondary",
    ),
    licence="Public domain (US Department of Veterans Affairs, National Center for PTSD).",
    subscales=(
        Subscale("B", _ids(1, 5), "sum", _SOURCE),
        Subscale("C", _ids(6, 7), "sum", _SOURCE),
        Subscale("D", _ids(8, 14), "sum", _SOURCE),
        Subscale("E", _ids(15, 20), "sum", _SOURCE),
    ),
    flag_rules=(
        FlagRule(
            flag="probable_ptsd",
            on="total",
            at_least=33,
            description="Total of 33 or more suggests probable PTSD; confirm with a "
            "structured interview (e.g. CAPS-5).",
            source=Source(
                citation="Bovin MJ et al., Psychol Assess 2016;28:1379-1391 (cut-points "
                "31-33); National Center for PTSD",
                evidence="convention",
                note="The 31-33 range is confirmed; choosing 33 within it is a default a "
                "clinic may lower to 31 or 32.",
            ),
        ),
    ),
    diagnostic_rule=DiagnosticRule(
        item_at_least=2,
        required=(("B", 1), ("C", 1), ("D", 2), ("E", 2)),
        description="Provisional PTSD diagnosis: items rated 2 ('Moderately') or higher count "
        "as endorsed; at least 1 B item (1-5), 1 C item (6-7), 2 D items (8-14) and 2 E "
        "items (15-20).",
        source=_SOURCE,
    ),
    response=RESPONSE_50_PERCENT,
    notes=(
        "No LOINC codes: none confirmed in the clinical reference.",
        "No prorating of missing items: no prorating rule from the National Center for PTSD "
        "was confirmed, so every item must be answered.",
    ),
)
