"""PHQ-9: Patient Health Questionnaire, depression module (free to reproduce)."""

from __future__ import annotations

from ..model import Band, Cutoff, FlagRule, Instrument, Item, Source
from ._common import PHQ_FREQUENCY, RESPONSE_50_PERCENT

_BANDS = Source(
    citation="Kroenke K, Spitzer RL. Psychiatr Ann 2002;32(9):509-515; "
    "Kroenke K, Spitzer RL, Williams JBW. J Gen Intern Med 2001;16:606-613",
    evidence="confirmed",
)

_TEXTS = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself - or that you are a failure or have let yourself "
    "or your family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite - "
    "being so fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
)
# LOINC codes of the PHQ-9 items in form order (panel 44249-1), as in the HL7 US Core
# PHQ-9 QuestionnaireResponse example (clinical-reference section 10).
_ITEM_LOINC = (
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
)
_LABELS = (
    "Anhedonia",
    "Depressed mood",
    "Sleep",
    "Tiredness",
    "Appetite",
    "Feeling bad about yourself",
    "Concentration",
    "Psychomotor change",
    "Thoughts of death or self-harm",
)

PHQ9 = Instrument(
    id="phq9",
    name="Patient Health Questionnaire-9 (PHQ-9)",
    completed_by="patient",
    recall_period="Over the last 2 weeks",
    items=tuple(
        Item(id=f"item{n}", label=label, text=text, options=PHQ_FREQUENCY, loinc=code)
        for n, (label, text, code) in enumerate(
            zip(_LABELS, _TEXTS, _ITEM_LOINC, strict=True), start=1
        )
    ),
    scoring="sum",
    scoring_description="Sum of the 9 items, each 0-3 (total 0-27).",
    source=Source(
        citation="Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief "
        "depression severity measure. J Gen Intern Med 2001;16:606-613",
        evidence="confirmed",
    ),
    text_source=Source(
        citation="PHQ-9 form (Pfizer, free to reproduce), as reproduced in HL7 US Core "
        "QuestionnaireResponse PHQ-9 example and public clinic forms",
        evidence="secondary",
        note="Item labels are ketaclinic's short names; texts are the form's wording.",
    ),
    licence="Free to reproduce, translate, display or distribute; no permission needed "
    "(developed by Drs Spitzer, Williams, Kroenke et al. with an educational grant from Pfizer).",
    bands=(
        Band(0, 4, "minimal", _BANDS),
        Band(5, 9, "mild", _BANDS),
        Band(10, 14, "moderate", _BANDS),
        Band(15, 19, "moderately severe", _BANDS),
        Band(20, 27, "severe", _BANDS),
    ),
    flag_rules=(
        FlagRule(
            flag="suicidality",
            on="item9",
            at_least=1,
            description="Any answer above 'Not at all' to item 9 (thoughts of death or "
            "self-harm) calls for a suicide risk assessment by a clinician.",
            source=Source(
                citation="Common practice with the PHQ-9; item 9 asks about thoughts of "
                "death or self-harm (Kroenke 2001)",
                evidence="convention",
                note="Threshold > 0 chosen for safety: the tool warns, the clinician decides.",
            ),
        ),
    ),
    remission=Cutoff(
        at_most=4,
        description="Remission: PHQ-9 total below 5 (the top of the 'minimal' band).",
        source=Source(
            citation="Commonly used definition (PHQ-9 < 5); band edge from Kroenke & Spitzer 2002",
            evidence="secondary",
            note="No single primary text for the remission definition was read.",
        ),
    ),
    response=RESPONSE_50_PERCENT,
    loinc_panel="44249-1",
    loinc_total="44261-6",
    loinc_source=Source(
        citation="LOINC 44249-1 (PHQ-9 quick depression assessment panel), 44261-6 (PHQ-9 "
        "total score); item codes 44250-9, 44255-8, 44259-0, 44254-1, 44251-7, 44258-2, "
        "44252-5, 44253-3 (items 1-8) and 44260-8 (item 9) as in the HL7 US Core PHQ-9 "
        "QuestionnaireResponse example",
        evidence="confirmed",
        note="Items 1-8 confirmed in the US Core example; item 9 (44260-8) secondary.",
    ),
    notes=(
        "The optional 10th question (functional difficulty) is not scored and is not "
        "modelled here.",
        "Per-item LOINC codes: items 1-8 confirmed, item 9 (44260-8) secondary "
        "(clinical-reference section 10).",
    ),
)
