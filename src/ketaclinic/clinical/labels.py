"""The clinic's words for ketaclinic's codes: every protocol, indication, route, state
and phase id a page or a note shows is shown by its name here ("IV ketamine", never
``iv_ketamine``). Names only: no clinical claim lives here, so nothing to source.

A code with no name here is shown with its underscores as spaces, so a new code never
shows raw; add its name here when it is added to its table.
"""

from __future__ import annotations

NAMES: dict[str, str] = {
    # Protocols (``clinical.dosing`` protocol table; its ``name`` is the long form).
    "iv_ketamine": "IV ketamine",
    "im_ketamine": "IM ketamine",
    "oral_ketamine": "oral ketamine",
    "sublingual_ketamine": "sublingual ketamine",
    "in_esketamine": "nasal esketamine",
    "in_esketamine_suicidal": "nasal esketamine (suicidal ideation)",
    # Indications (the candidacy table's indication rules).
    "treatment_resistant_depression": "treatment-resistant depression",
    "ptsd": "post-traumatic stress disorder",
    "suicidal_ideation": "depression with suicidal ideation",
    "substance_use_disorder": "substance use disorder",
    # Session routes.
    "iv": "IV infusion",
    "esketamine_nasal": "nasal esketamine",
    # Infusion states and reading phases.
    "not_started": "not started",
    "pre_infusion": "before dosing",
    "infusion": "infusion",
    "recovery": "recovery",
    # Where a reading came from.
    "manual": "typed",
    "monitor": "monitor",
    "device": "monitor",
}


def name(code: str | None) -> str:
    """The clinic's name for ``code`` (empty for none)."""
    if not code:
        return ""
    return NAMES.get(code, code.replace("_", " "))
