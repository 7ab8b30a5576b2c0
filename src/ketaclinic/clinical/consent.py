"""Which signed consents a protocol needs, and how long before a session a patient goes
without food and liquids: declared tables a clinic reviews and overrides (Clinical
defaults), each row naming its source and how firm it is. No database, no clock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from ketaclinic.clinical.overrides import Override, apply

Evidence = Literal["confirmed", "secondary", "convention"]

# The documents a clinic writes (their text is the clinic's own; ketaclinic ships none).
DOCUMENT_KINDS: dict[str, str] = {
    "off_label_ketamine": "Off-label use of ketamine",
    "esketamine_rems": "Esketamine (SPRAVATO) REMS patient enrolment",
    "financial_policy": "Financial policy",
    "kap": "Ketamine-assisted psychotherapy",
    "photography_research": "Photography and research use",
}

SPRAVATO_PI = "SPRAVATO (esketamine) nasal spray, US prescribing information"
SPRAVATO_REMS = (
    "SPRAVATO REMS (FDA-approved Risk Evaluation and Mitigation Strategy): each outpatient "
    "is enrolled, with a signed Patient Enrollment Form, before the first dose "
    "(clinical-reference section 2)"
)
KETALAR_LABEL = (
    "KETALAR (ketamine hydrochloride) US label: indicated as an anaesthetic agent; its use "
    "for depression is off-label (Sanacora G et al., JAMA Psychiatry 2017;74(4):399-405 "
    "lists informed consent in the pre-treatment work-up)"
)
ASA_FASTING = (
    "ASA Practice Guidelines for Preoperative Fasting (Anesthesiology 2017;126(3):376-393; "
    "2023 update, Joshi GP et al., Anesthesiology 2023;138(2):132-151): light meal 6 h, "
    "clear liquids 2 h before procedures under sedation or anaesthesia in healthy patients "
    "[the numbers as widely reproduced, not re-read here; applying procedural-sedation "
    "fasting to a subanaesthetic ketamine infusion is clinic convention]"
)


@dataclass(frozen=True)
class ConsentRequirement:
    """A protocol needs a current signed consent of ``document`` when ``required``."""

    id: str
    protocol_id: str
    document: str
    required: bool
    source: str
    evidence: Evidence


REQUIREMENTS: dict[str, ConsentRequirement] = {
    r.id: r
    for r in (
        ConsentRequirement(
            "iv_ketamine.off_label",
            "iv_ketamine",
            "off_label_ketamine",
            True,
            KETALAR_LABEL,
            "secondary",
        ),
        ConsentRequirement(
            "im_ketamine.off_label",
            "im_ketamine",
            "off_label_ketamine",
            True,
            KETALAR_LABEL,
            "secondary",
        ),
        ConsentRequirement(
            "oral_ketamine.off_label",
            "oral_ketamine",
            "off_label_ketamine",
            True,
            KETALAR_LABEL,
            "secondary",
        ),
        ConsentRequirement(
            "sublingual_ketamine.off_label",
            "sublingual_ketamine",
            "off_label_ketamine",
            True,
            KETALAR_LABEL,
            "secondary",
        ),
        ConsentRequirement(
            "in_esketamine.rems",
            "in_esketamine",
            "esketamine_rems",
            True,
            SPRAVATO_REMS,
            "confirmed",
        ),
        ConsentRequirement(
            "in_esketamine_suicidal.rems",
            "in_esketamine_suicidal",
            "esketamine_rems",
            True,
            SPRAVATO_REMS,
            "confirmed",
        ),
        # The financial policy before any treatment: clinic practice, no clinical source.
        *(
            ConsentRequirement(
                f"{p}.financial",
                p,
                "financial_policy",
                True,
                "Clinic practice: the financial policy is signed before treatment",
                "convention",
            )
            for p in (
                "iv_ketamine",
                "im_ketamine",
                "oral_ketamine",
                "sublingual_ketamine",
                "in_esketamine",
                "in_esketamine_suicidal",
            )
        ),
    )
}


def required_documents(protocol_id: str, overrides: Iterable[Override] = ()) -> list[str]:
    """The document kinds a session of ``protocol_id`` needs signed, in table order."""
    rows = apply(REQUIREMENTS, overrides)
    return [r.document for r in rows.values() if r.protocol_id == protocol_id and r.required]


@dataclass(frozen=True)
class ReadinessWindow:
    """What the patient confirms the day before: nothing of ``what`` for ``hours`` before
    the session (``hours`` 0 leaves the question out)."""

    id: str
    route: str  # iv | esketamine_nasal, as sessions name them
    what: str
    hours: float
    source: str
    evidence: Evidence


WINDOWS: dict[str, ReadinessWindow] = {
    w.id: w
    for w in (
        ReadinessWindow("iv.food", "iv", "food", 6.0, ASA_FASTING, "secondary"),
        ReadinessWindow("iv.liquids", "iv", "liquids", 2.0, ASA_FASTING, "secondary"),
        ReadinessWindow(
            "esketamine.food",
            "esketamine_nasal",
            "food",
            2.0,
            SPRAVATO_PI + ", section 2 (avoid food for at least 2 hours before administration; "
            "clinical-reference section 2)",
            "confirmed",
        ),
        ReadinessWindow(
            "esketamine.liquids",
            "esketamine_nasal",
            "liquids",
            0.5,
            SPRAVATO_PI + ", section 2 (avoid liquids for at least 30 minutes before "
            "administration; clinical-reference section 2)",
            "confirmed",
        ),
        ReadinessWindow(
            "esketamine.nasal",
            "esketamine_nasal",
            "nasal decongestant or nasal corticosteroid",
            1.0,
            SPRAVATO_PI + " (a nasal corticosteroid or decongestant needed on a dosing day is "
            "taken at least 1 hour before SPRAVATO; clinical-reference section 2 marks this "
            "from practice policies)",
            "secondary",
        ),
    )
}


@dataclass(frozen=True)
class Question:
    """One readiness question the patient answers yes or no; ``yes`` is ready."""

    id: str
    text: str
    source: str
    evidence: Evidence


RIDE_SOURCE = (
    SPRAVATO_PI + ": no driving until the next day after restful sleep [secondary for the "
    "wording]; IV ketamine: clinic convention"
)


def questions(route: str, overrides: Iterable[Override] = ()) -> list[Question]:
    """The day-before questions for a session on ``route``, windows with the clinic's
    overrides applied."""
    asked = [
        Question(
            "ride_home",
            "Someone will take you home after the session (you may not drive until the next day).",
            RIDE_SOURCE,
            "convention",
        )
    ]
    for row in apply(WINDOWS, overrides).values():
        if row.route != route or row.hours <= 0:
            continue
        asked.append(
            Question(
                row.id,
                f"No {row.what} for {_hours(row.hours)} before the session.",
                row.source,
                row.evidence,
            )
        )
    return asked


def _hours(hours: float) -> str:
    if hours < 1:
        return f"{round(hours * 60)} minutes"
    return "1 hour" if hours == 1 else f"{hours:g} hours"


def windows_of(route: str, overrides: Iterable[Override] = ()) -> Mapping[str, ReadinessWindow]:
    return {k: w for k, w in apply(WINDOWS, overrides).items() if w.route == route}
