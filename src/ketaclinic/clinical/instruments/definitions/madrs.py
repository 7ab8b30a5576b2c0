"""MADRS: Montgomery-Asberg Depression Rating Scale (clinician-rated; labels only)."""

from __future__ import annotations

from ..model import Band, Cutoff, FlagRule, Instrument, Item, ResponseRule, Source
from ._common import numeric_options

_SOURCE = Source(
    citation="Montgomery SA, Asberg M. A new depression scale designed to be sensitive to "
    "change. Br J Psychiatry 1979;134:382-389",
    evidence="confirmed",
)
_BANDS = Source(
    citation="Snaith RP, Harrop FM, Newby DA, Teale C. Grade scores of the Montgomery-Asberg "
    "Depression and the Clinical Anxiety Scales. Br J Psychiatry 1986;148:599-601",
    evidence="secondary",
    note="Citation confirmed; the band edges were read only in secondary sources.",
)

_LABELS = (
    "Apparent sadness",
    "Reported sadness",
    "Inner tension",
    "Reduced sleep",
    "Reduced appetite",
    "Concentration difficulties",
    "Lassitude",
    "Inability to feel",
    "Pessimistic thoughts",
    "Suicidal thoughts",
)

MADRS = Instrument(
    id="madrs",
    name="Montgomery-Asberg Depression Rating Scale (MADRS)",
    completed_by="clinician",
    recall_period=None,
    items=tuple(
        Item(id=f"item{n}", label=label, options=numeric_options(0, 6))
        for n, label in enumerate(_LABELS, start=1)
    ),
    scoring="sum",
    scoring_description="Sum of the 10 clinician ratings, each 0-6 with defined anchors at "
    "0, 2, 4 and 6 (total 0-60).",
    source=_SOURCE,
    text_source=Source(
        citation="MADRS item names (Montgomery & Asberg 1979) as listed in public reproductions",
        evidence="secondary",
    ),
    licence="Item texts and anchor descriptions may need permission: only item labels are "
    "stored. A clinic can load the full texts it is licensed for.",
    bands=(
        Band(0, 6, "normal", _BANDS),
        Band(7, 19, "mild", _BANDS),
        Band(20, 34, "moderate", _BANDS),
        Band(35, 60, "severe", _BANDS),
    ),
    flag_rules=(
        FlagRule(
            flag="suicidality",
            on="item10",
            at_least=1,
            description="Any rating above 0 on item 10 (suicidal thoughts) calls for a "
            "suicide risk assessment by a clinician.",
            source=Source(
                citation="ketaclinic safety convention, mirroring PHQ-9 item 9",
                evidence="convention",
                note="Item 10's first anchor mentioning suicidal thoughts is at 2; 1 is "
                "flagged too so that no rating above 'none' passes silently.",
            ),
        ),
    ),
    remission=Cutoff(
        at_most=9,
        description="Remission: MADRS total of 9 or less (a clinic setting: the esketamine "
        "trials used 12 or less, other trials 10 or less).",
        source=Source(
            citation="Hawley CJ et al., Defining remission by cut off score on the MADRS: "
            "selecting the optimal value, J Affect Disord 2002;72:177-184 (optimal cut-off "
            "below 10); Zimmerman M et al., J Clin Psychiatry 2004;65:163 (9 or less, broad "
            "definition; 4 or less, narrow); the esketamine trials defined remission as 12 "
            "or less (clinical-reference section 10)",
            evidence="confirmed",
            note="Read in the abstracts. Override remission_max in course.instruments to "
            "use 10 or 12.",
        ),
    ),
    response=ResponseRule(
        min_reduction=0.5,
        description="Response: total reduced by at least 50% from baseline.",
        source=Source(citation="Clinical reference, section 5 (MADRS)", evidence="secondary"),
    ),
    notes=(
        "No LOINC codes: none confirmed in the clinical reference.",
        "Recall period not stored: not given in the sources read.",
    ),
)
