"""MOAA/S: Modified Observer's Assessment of Alertness/Sedation (single rating 0-5)."""

from __future__ import annotations

from ..model import AnswerOption, FlagRule, Instrument, Item, Source

_SOURCE = Source(
    citation="Chernik DA, Gillings D, Laine H, et al. Validity and reliability of the "
    "Observer's Assessment of Alertness/Sedation Scale: study with intravenous midazolam. "
    "J Clin Psychopharmacol 1990;10:244-251",
    evidence="confirmed",
)

MOAAS = Instrument(
    id="moaas",
    name="Modified Observer's Assessment of Alertness/Sedation (MOAA/S)",
    completed_by="clinician",
    recall_period="At the time of assessment",
    items=(
        Item(
            id="rating",
            label="Responsiveness",
            options=(
                AnswerOption(0, "Does not respond to painful trapezius squeeze"),
                AnswerOption(1, "Responds only after painful trapezius squeeze"),
                AnswerOption(2, "Responds only after mild prodding or shaking"),
                AnswerOption(3, "Responds only after name is called loudly and/or repeatedly"),
                AnswerOption(4, "Lethargic response to name spoken in normal tone"),
                AnswerOption(5, "Responds readily to name spoken in normal tone"),
            ),
        ),
    ),
    scoring="sum",
    scoring_description="A single rating, 5 (alert) to 0 (no response); the total is the "
    "rating. Lower is deeper sedation.",
    source=_SOURCE,
    text_source=Source(
        citation="MOAA/S level descriptions as tabulated with Chernik 1990 in published "
        "trials (e.g. BMC Anesthesiol 2022)",
        evidence="secondary",
    ),
    licence="Published scale; level descriptions reproduced as in the literature.",
    flag_rules=(
        FlagRule(
            flag="loss_of_consciousness",
            on="rating",
            at_most=0,
            description="MOAA/S 0: no response, counted as loss of consciousness in the "
            "esketamine trials.",
            source=Source(
                citation="Spravato (esketamine) prescribing information: loss of "
                "consciousness (MOAA/S 0) in 0.3-0.4% of patients",
                evidence="confirmed",
            ),
        ),
    ),
    notes=("No LOINC codes: none confirmed in the clinical reference.",),
)
