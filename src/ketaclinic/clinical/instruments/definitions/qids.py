"""QIDS-SR16: Quick Inventory of Depressive Symptomatology, self-report, 16 items."""

from __future__ import annotations

from ..model import Band, Cutoff, FlagRule, Instrument, Item, ResponseRule, Source, Subscale
from ._common import numeric_options

_SOURCE = Source(
    citation="Rush AJ, Trivedi MH, Ibrahim HM, et al. The 16-item Quick Inventory of "
    "Depressive Symptomatology (QIDS), clinician rating (QIDS-C), and self-report (QIDS-SR). "
    "Biol Psychiatry 2003;54:573-583",
    evidence="confirmed",
)
_BANDS = Source(
    citation="ids-qids.org score interpretation (QIDS-SR16)",
    evidence="confirmed",
)
_STAR_D = Source(
    citation="Trivedi MH et al. (STAR*D). Am J Psychiatry 2006;163:28-40",
    evidence="confirmed",
    note="Read in the abstract: remission QIDS-SR <= 5, response >= 50% reduction.",
)

_LABELS = (
    "Sleep onset insomnia",
    "Mid-nocturnal insomnia",
    "Early morning insomnia",
    "Hypersomnia",
    "Mood (sad)",
    "Appetite (decreased)",
    "Appetite (increased)",
    "Weight (decrease) within the last two weeks",
    "Weight (increase) within the last two weeks",
    "Concentration/decision making",
    "Outlook (self)",
    "Suicidal ideation",
    "Involvement",
    "Energy/fatiguability",
    "Psychomotor slowing",
    "Psychomotor agitation",
)


def _domain(name: str, *numbers: int) -> Subscale:
    ids = tuple(f"item{n}" for n in numbers)
    return Subscale(name, ids, "max" if len(numbers) > 1 else "sum", _SOURCE)


QIDS_SR16 = Instrument(
    id="qids_sr16",
    name="Quick Inventory of Depressive Symptomatology, Self-Report (QIDS-SR16)",
    completed_by="patient",
    recall_period="Past 7 days",
    items=tuple(
        Item(id=f"item{n}", label=label, options=numeric_options(0, 3))
        for n, label in enumerate(_LABELS, start=1)
    ),
    scoring="sum",
    total_from_subscales=True,
    scoring_description="Nine DSM symptom domains: sleep = highest of items 1-4; sad mood = "
    "item 5; appetite/weight = highest of items 6-9; items 10, 11, 12, 13, 14 as they are; "
    "psychomotor = highest of items 15-16. Total = sum of the nine domains (0-27).",
    source=_SOURCE,
    text_source=Source(
        citation="Item labels as listed with Rush 2003 by the Guideline Central QIDS calculator",
        evidence="secondary",
        note="Answer texts are item-specific and not stored; load them from ids-qids.org.",
    ),
    licence="Free to use (ids-qids.org); only short item labels are stored here, answer "
    "texts can be loaded from the official form.",
    bands=(
        Band(0, 5, "none", _BANDS),
        Band(6, 10, "mild", _BANDS),
        Band(11, 15, "moderate", _BANDS),
        Band(16, 20, "severe", _BANDS),
        Band(21, 27, "very severe", _BANDS),
    ),
    subscales=(
        _domain("sleep", 1, 2, 3, 4),
        _domain("sad_mood", 5),
        _domain("appetite_weight", 6, 7, 8, 9),
        _domain("concentration", 10),
        _domain("self_view", 11),
        _domain("suicidal_ideation", 12),
        _domain("involvement", 13),
        _domain("energy", 14),
        _domain("psychomotor", 15, 16),
    ),
    flag_rules=(
        FlagRule(
            flag="suicidality",
            on="item12",
            at_least=1,
            description="Any answer above 0 to item 12 (thoughts of death or suicide) calls "
            "for a suicide risk assessment by a clinician.",
            source=Source(
                citation="ketaclinic safety convention, mirroring PHQ-9 item 9",
                evidence="convention",
            ),
        ),
    ),
    remission=Cutoff(
        at_most=5,
        description="Remission: QIDS-SR16 total of 5 or less.",
        source=_STAR_D,
    ),
    response=ResponseRule(
        min_reduction=0.5,
        description="Response: total reduced by at least 50% from baseline.",
        source=_STAR_D,
    ),
    notes=("No LOINC codes: none confirmed in the clinical reference.",),
)
