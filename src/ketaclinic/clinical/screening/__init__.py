"""Candidacy screening: indications, contraindications and precautions as declared rules.

The rules are a table (``screening.table.RULES``) of frozen rows keyed by id, each carrying
its source and how firm that source is; :func:`rules` returns them with a clinic's
overrides applied, and :func:`evaluate` turns a patient's answers into a verdict with
every reason, the work-up still needed and the questions still unanswered.

Verdict semantics (decision support, never a guess):

1. An *absolute* contraindication answered yes gives ``not_eligible``, whatever else is
   known or unknown.
2. Otherwise any contraindication or precaution left unanswered (``None`` or missing)
   gives ``needs_information``.
3. Otherwise, if no indication is answered yes: ``needs_information`` while some
   indication is still unanswered (it might yet be present), else ``not_eligible`` with
   the reason ``no_indication``. Once one indication is present, unanswered indications
   no longer block; they are still listed in ``unknown``.
4. Otherwise a relative contraindication or precaution answered yes gives
   ``eligible_with_precautions``; with none, ``eligible``.
"""

from ketaclinic.clinical.screening.evaluate import (
    VERDICTS,
    Evaluation,
    Reason,
    evaluate,
    rules,
)
from ketaclinic.clinical.screening.table import (
    ANSWER_TYPES,
    DEFAULT_ROUTE,
    EVIDENCE,
    KINDS,
    ROUTES,
    RULES,
    RouteVariant,
    Rule,
)

__all__ = [
    "ANSWER_TYPES",
    "DEFAULT_ROUTE",
    "EVIDENCE",
    "KINDS",
    "ROUTES",
    "RULES",
    "VERDICTS",
    "Evaluation",
    "Reason",
    "RouteVariant",
    "Rule",
    "evaluate",
    "rules",
]
