"""CADSS (23 items) and its 6-item short form CADSS-6 (labels only)."""

from __future__ import annotations

from ..model import Instrument, Item, Source
from ._common import numeric_options

_SOURCE = Source(
    citation="Bremner JD, Krystal JH, Putnam FW, et al. Measurement of dissociative states "
    "with the Clinician-Administered Dissociative States Scale (CADSS). J Trauma Stress "
    "1998;11:125-136",
    evidence="secondary",
    note="The 23-item, 0-4 form used in ketamine research (total 0-92) is secondary.",
)

_LABEL_SOURCE = Source(
    citation="Bremner 1998, table 1 (subjective items 1-19), as reproduced publicly",
    evidence="secondary",
    note="Labels of items 20-23 of the 23-item form were not found and are placeholders; "
    "the order of items 1-19 is assumed to follow Bremner 1998.",
)

_LABELS: dict[int, str] = {
    1: "Things seem to move in slow motion",
    2: "Things seem unreal, as in a dream",
    3: "Separated from what is happening (as in a movie or play, or like a robot)",
    4: "Looking at things from outside the body",
    5: "Watching the situation as an observer or spectator",
    6: "Disconnected from own body",
    7: "Sense of own body changed (unusually large or small)",
    8: "People seem motionless, dead or mechanical",
    9: "Objects look different than expected",
    10: "Colours seem diminished in intensity",
    11: "Seeing things as through a tunnel or wide-angle lens",
    12: "The experience seems to take much longer than expected",
    13: "Things seem to happen very quickly (a lifetime in a moment)",
    14: "Things happen that cannot later be accounted for",
    15: "Spacing out or losing track of what is going on",
    16: "Sounds almost disappear or become much stronger",
    17: "Things seem very real, with a special sense of clarity",
    18: "Looking at the world through a fog",
    19: "Colours seem much brighter than expected",
}

_LICENCE = (
    "Item texts need permission from the authors: only short item labels are stored. A "
    "clinic can load the full texts it is licensed for."
)


def _item(number: int) -> Item:
    label = _LABELS.get(number, f"CADSS item {number} (label to load from the licensed form)")
    return Item(id=f"item{number}", label=label, options=numeric_options(0, 4))


CADSS = Instrument(
    id="cadss",
    name="Clinician-Administered Dissociative States Scale (CADSS), 23 items",
    completed_by="clinician",
    recall_period="At this time (during or just after dosing)",
    items=tuple(_item(n) for n in range(1, 24)),
    scoring="sum",
    scoring_description="Sum of the 23 items, each 0-4 (total 0-92). No cut-offs: read as "
    "the change from the pre-dose value.",
    source=_SOURCE,
    text_source=_LABEL_SOURCE,
    licence=_LICENCE,
    notes=("No LOINC codes: none confirmed in the clinical reference.",),
)

#: Items of the full CADSS kept in the short form (original numbering kept as item ids).
CADSS6_ITEMS = (1, 2, 6, 7, 15, 22)

CADSS6 = Instrument(
    id="cadss6",
    name="Clinician-Administered Dissociative States Scale, 6-item short form (CADSS-6)",
    completed_by="clinician",
    recall_period="At this time (during or just after dosing)",
    items=tuple(_item(n) for n in CADSS6_ITEMS),
    scoring="sum",
    scoring_description="Sum of CADSS items 1, 2, 6, 7, 15 and 22, each 0-4 (total 0-24). "
    "No cut-offs: read as the change from the pre-dose value.",
    source=Source(
        citation="Rodrigues NB, McIntyre RS, Lipsitz O, et al. A simplified 6-item "
        "clinician administered dissociative symptom scale (CADSS-6) for monitoring "
        "dissociative effects of sub-anesthetic ketamine infusions. J Affect Disord "
        "2021;282:160-164",
        evidence="confirmed",
        note="Item selection read in the abstract; the 0-4 item range is inherited from the "
        "23-item CADSS (secondary). Not yet validated prospectively (authors' limitation).",
    ),
    text_source=_LABEL_SOURCE,
    licence=_LICENCE,
    notes=(
        "Item ids keep the full CADSS numbering (item1, item2, item6, item7, item15, item22).",
        "No LOINC codes: none confirmed in the clinical reference.",
    ),
)
