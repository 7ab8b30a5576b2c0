"""Questionnaires and rating scales as data, their scoring and their LOINC codes.

    from ketaclinic.clinical import instruments

    instruments.get("phq9")                  # the definition (items, bands, sources...)
    instruments.all(); instruments.ids()     # every definition / every id
    instruments.score("phq9", [1, 2, 0, 1, 1, 0, 0, 0, 0])   # -> ScoreResult

Every band, cut-off, item count and LOINC code carries a ``Source`` with an evidence
mark ("confirmed", "secondary", "convention"). Codes not confirmed are None.
"""

from __future__ import annotations

from .catalogue import all, get, ids
from .model import (
    AnswerOption,
    AskedIf,
    Band,
    Cutoff,
    DiagnosticRule,
    Evidence,
    FlagRule,
    Instrument,
    Item,
    ResponseRule,
    Risk,
    Source,
    Subscale,
)
from .scoring import Answers, ScoreResult, cssrs_risk, score, validate

__all__ = [
    "AnswerOption",
    "Answers",
    "AskedIf",
    "Band",
    "Cutoff",
    "DiagnosticRule",
    "Evidence",
    "FlagRule",
    "Instrument",
    "Item",
    "ResponseRule",
    "Risk",
    "ScoreResult",
    "Source",
    "Subscale",
    "all",
    "cssrs_risk",
    "get",
    "ids",
    "score",
    "validate",
]
