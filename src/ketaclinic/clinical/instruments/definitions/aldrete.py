"""Modified Aldrete score: recovery and discharge readiness after sedation (5 items 0-2)."""

from __future__ import annotations

from ..model import AnswerOption, Band, FlagRule, Instrument, Item, Source

_SOURCE = Source(
    citation="Aldrete JA. The post-anesthesia recovery score revisited. J Clin Anesth 1995;7:89-91",
    evidence="confirmed",
    note="Circulation is sometimes given in percent of the pre-anaesthetic blood pressure "
    "(within 20%, 20-50%, more than 50%) instead of mmHg.",
)


def _item(item_id: str, label: str, two: str, one: str, zero: str) -> Item:
    options = (AnswerOption(0, zero), AnswerOption(1, one), AnswerOption(2, two))
    return Item(id=item_id, label=label, options=options)


ALDRETE = Instrument(
    id="aldrete",
    name="Modified Aldrete score",
    completed_by="clinician",
    recall_period="At the time of assessment",
    items=(
        _item(
            "activity",
            "Activity",
            "Able to move four extremities voluntarily or on command",
            "Able to move two extremities voluntarily or on command",
            "Unable to move extremities voluntarily or on command",
        ),
        _item(
            "respiration",
            "Respiration",
            "Able to breathe deeply and cough freely",
            "Dyspnoea, shallow or limited breathing",
            "Apnoeic",
        ),
        _item(
            "circulation",
            "Circulation",
            "Blood pressure within 20 mmHg of the pre-anaesthetic level",
            "Blood pressure 20-50 mmHg from the pre-anaesthetic level",
            "Blood pressure more than 50 mmHg from the pre-anaesthetic level",
        ),
        _item(
            "consciousness",
            "Consciousness",
            "Fully awake",
            "Arousable on calling",
            "Not responding",
        ),
        _item(
            "oxygen_saturation",
            "Oxygen saturation",
            "Able to maintain SpO2 above 92% on room air",
            "Needs oxygen to maintain SpO2 above 90%",
            "SpO2 below 90% even with oxygen",
        ),
    ),
    scoring="sum",
    scoring_description="Sum of the 5 items, each 0-2 (total 0-10); 9 or more meets the "
    "discharge criterion.",
    source=_SOURCE,
    text_source=Source(
        citation="Modified Aldrete table as reproduced with Aldrete 1995 (e.g. World J "
        "Gastroenterol 2015;21:3671, table 2)",
        evidence="secondary",
    ),
    licence="Published scale; criteria reproduced as in the literature.",
    bands=(
        Band(0, 8, "not ready for discharge", _SOURCE),
        Band(9, 10, "meets discharge score", _SOURCE),
    ),
    flag_rules=(
        FlagRule(
            flag="discharge_ready",
            on="total",
            at_least=9,
            description="Total of 9 or more: meets the Aldrete discharge score (the "
            "clinician still decides).",
            source=_SOURCE,
        ),
    ),
    notes=("No LOINC codes: none confirmed in the clinical reference.",),
)
