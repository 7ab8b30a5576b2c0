"""GAD-7: Generalized Anxiety Disorder 7-item scale (free to reproduce)."""

from __future__ import annotations

from ..model import Band, Cutoff, Instrument, Item, Source
from ._common import PHQ_FREQUENCY, RESPONSE_50_PERCENT

_SOURCE = Source(
    citation="Spitzer RL, Kroenke K, Williams JBW, Lowe B. A brief measure for assessing "
    "generalized anxiety disorder: the GAD-7. Arch Intern Med 2006;166:1092-1097",
    evidence="confirmed",
)

_ITEMS = (
    ("Nervousness", "Feeling nervous, anxious, or on edge"),
    ("Uncontrolled worry", "Not being able to stop or control worrying"),
    ("Worrying too much", "Worrying too much about different things"),
    ("Trouble relaxing", "Trouble relaxing"),
    ("Restlessness", "Being so restless that it is hard to sit still"),
    ("Irritability", "Becoming easily annoyed or irritable"),
    ("Feeling afraid", "Feeling afraid, as if something awful might happen"),
)

GAD7 = Instrument(
    id="gad7",
    name="Generalized Anxiety Disorder 7-item scale (GAD-7)",
    completed_by="patient",
    recall_period="Over the last 2 weeks",
    items=tuple(
        Item(id=f"item{n}", label=label, text=text, options=PHQ_FREQUENCY)
        for n, (label, text) in enumerate(_ITEMS, start=1)
    ),
    scoring="sum",
    scoring_description="Sum of the 7 items, each 0-3 (total 0-21).",
    source=_SOURCE,
    text_source=Source(
        citation="GAD-7 form (free to reproduce), as reproduced in HL7 FHIR sample "
        "Questionnaires and public clinic forms",
        evidence="secondary",
    ),
    licence="Free to reproduce, translate, display or distribute; no permission needed.",
    bands=(
        Band(0, 4, "minimal", _SOURCE),
        Band(5, 9, "mild", _SOURCE),
        Band(10, 14, "moderate", _SOURCE),
        Band(15, 21, "severe", _SOURCE),
    ),
    remission=Cutoff(
        at_most=4,
        description="Remission: GAD-7 total below 5 (the 'minimal' band).",
        source=Source(
            citation="Band edge from Spitzer 2006; use as a remission cut-off is practice",
            evidence="convention",
        ),
    ),
    response=RESPONSE_50_PERCENT,
    loinc_panel="69737-5",
    loinc_total="70274-6",
    loinc_source=Source(
        citation="LOINC 69737-5 (GAD-7 panel), 70274-6 (GAD-7 total score); the panel code "
        "is not used for the total",
        evidence="confirmed",
    ),
    notes=(
        "The optional functional-difficulty question is not scored and is not modelled here.",
        "Per-item LOINC codes are left empty: not confirmed in the clinical reference.",
    ),
)
