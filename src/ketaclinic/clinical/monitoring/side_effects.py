"""Side-effect vocabulary for charting: labels, severity grades and usual interventions.

No incidence figures: per-symptom incidences for 0.5 mg/kg IV ketamine were not found
(clinical-reference section 4), so none are given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ketaclinic.clinical.monitoring.vitals import Evidence
from ketaclinic.clinical.overrides import Override, apply


@dataclass(frozen=True)
class SideEffect:
    """One chartable side effect with plain grade definitions and usual interventions."""

    id: str
    label: str
    mild: str
    moderate: str
    severe: str
    grading_source: str
    grading_evidence: Evidence
    interventions: tuple[str, ...]
    interventions_source: str
    interventions_evidence: Evidence
    source: str
    evidence: Evidence


_CTCAE_GENERAL = (
    "Modelled on the NCI Common Terminology Criteria for Adverse Events (CTCAE) general "
    "grades (1 mild: intervention not indicated; 2 moderate: minimal, local or "
    "non-invasive intervention indicated; 3 severe or medically significant), adapted to "
    "a single session: convention"
)
_CTCAE_NV = (
    "NCI CTCAE v4.03 grades for nausea and vomiting (grade 1-3 wording), as reproduced in "
    "published tables"
)
_LIMIT_GRADES = (
    "Grades tied to the levels of the ketaclinic limit table (warn, pause, stop), whose "
    "rows carry their own sources: convention"
)
_SHORT_2018 = (
    "Short B et al., Lancet Psychiatry 2018;5(1):65-78: among the most common acute "
    "effects of IV ketamine for depression"
)
_SPRAVATO_AR = "SPRAVATO US prescribing information: a common adverse reaction in trials"
_SEED = "Listed by the seed clinic (clinical-reference section 4); no published source checked"
_USUAL = "Usual clinic practice; no single authoritative source: convention"


def _effect(
    id: str,
    label: str,
    grades: tuple[str, str, str],
    grading: tuple[str, Evidence],
    interventions: tuple[str, ...],
    source: tuple[str, Evidence],
    interventions_source: tuple[str, Evidence] = (_USUAL, "convention"),
) -> tuple[str, SideEffect]:
    return id, SideEffect(
        id=id,
        label=label,
        mild=grades[0],
        moderate=grades[1],
        severe=grades[2],
        grading_source=grading[0],
        grading_evidence=grading[1],
        interventions=interventions,
        interventions_source=interventions_source[0],
        interventions_evidence=interventions_source[1],
        source=source[0],
        evidence=source[1],
    )


SIDE_EFFECTS: dict[str, SideEffect] = dict(
    [
        _effect(
            "elevated_heart_rate",
            "Raised heart rate",
            (
                "Above the usual rate, below any alarm level; no action needed",
                "At a warn or pause level of the limit table; recheck or pause",
                "At a stop level, or with chest pain, palpitations or an irregular rhythm",
            ),
            (_LIMIT_GRADES, "convention"),
            (
                "Recheck; look for pain, anxiety or a probe artefact",
                "Pause the infusion if sustained (see limit table)",
                "Notify the prescriber",
            ),
            (
                _SEED + "; heart rate rises and returns to baseline within about 1.5 h "
                "(Szarmach J et al., Neuropsychiatr Dis Treat 2020;16:2539-2551)",
                "secondary",
            ),
        ),
        _effect(
            "increased_blood_pressure",
            "Raised blood pressure",
            (
                "Above baseline, below any alarm level; no action needed",
                "At a warn or pause level of the limit table; recheck in 5 minutes or pause",
                "At a stop level, or with headache, chest pain, breathlessness or confusion",
            ),
            (_LIMIT_GRADES, "convention"),
            (
                "Recheck BP in 5 minutes",
                "Pause or stop the infusion per the limit table",
                "Antihypertensive only as the prescriber orders",
                "Notify the prescriber",
            ),
            (_SHORT_2018, "confirmed"),
        ),
        _effect(
            "nausea",
            "Nausea",
            (
                "Loss of appetite without change in eating habits",
                "Oral intake decreased without significant weight loss, dehydration or "
                "malnutrition",
                "Inadequate oral calorie or fluid intake; tube feeding, parenteral "
                "nutrition or hospital admission indicated",
            ),
            (_CTCAE_NV, "secondary"),
            (
                "Antiemetic such as ondansetron as the prescriber orders",
                "Slow or pause the infusion",
                "Emesis bag within reach; sips of water after the session",
                "Esketamine: no food for 2 hours and no liquids for 30 minutes before "
                "dosing (label)",
            ),
            (_SPRAVATO_AR, "secondary"),
        ),
        _effect(
            "vomiting",
            "Vomiting",
            (
                "1-2 episodes (separated by 5 minutes) in 24 hours",
                "3-5 episodes (separated by 5 minutes) in 24 hours",
                "6 or more episodes (separated by 5 minutes) in 24 hours; tube feeding, "
                "parenteral nutrition or hospital admission indicated",
            ),
            (_CTCAE_NV, "secondary"),
            (
                "Turn the patient to the side, suction ready; protect the airway if sedated",
                "Pause the infusion",
                "Antiemetic as the prescriber orders",
            ),
            (_SPRAVATO_AR, "secondary"),
        ),
        _effect(
            "dizziness",
            "Dizziness",
            (
                "Noticed, no intervention needed",
                "Needs the patient to stay seated or lying, or help to stand",
                "Falls or near-falls, or unable to stand; delays discharge",
            ),
            (_CTCAE_GENERAL, "convention"),
            (
                "Stay seated or lying; help when standing",
                "Fall precautions; check BP lying and standing",
            ),
            (_SHORT_2018, "confirmed"),
        ),
        _effect(
            "headache",
            "Headache",
            (
                "Mild pain, no intervention needed",
                "Pain needing an analgesic or a pause",
                "Severe pain, or any headache with high BP, confusion or vision loss",
            ),
            (_CTCAE_GENERAL, "convention"),
            (
                "Check BP",
                "Analgesic as the prescriber orders",
                "Quiet room, dim lights",
                "Severe or with high BP: notify the prescriber now",
            ),
            (_SHORT_2018, "confirmed"),
        ),
        _effect(
            "vision_changes",
            "Vision changes (blurred vision)",
            (
                "Noticed, not troubling",
                "Troubling the patient; needs reassurance or a pause",
                "Loss of vision, double vision, or with high BP or headache",
            ),
            (_CTCAE_GENERAL, "convention"),
            (
                "Reassure; eyes closed, dim lights",
                "Check BP",
                "Severe: notify the prescriber now",
            ),
            (_SHORT_2018, "confirmed"),
        ),
        _effect(
            "mood_changes",
            "Mood changes",
            (
                "Noticed, not distressing",
                "Distressing; needs support or a pause",
                "Severe distress, agitation, or thoughts of self-harm",
            ),
            (_CTCAE_GENERAL, "convention"),
            (
                "Supportive presence and reassurance",
                "Notify the prescriber",
                "Thoughts of self-harm: follow the clinic's suicide-risk protocol",
            ),
            (_SEED, "convention"),
        ),
        _effect(
            "dissociation",
            "Dissociation (perceptual changes)",
            (
                "Perceptual changes the patient finds tolerable",
                "Distressing changes that need coaching, reassurance or a pause",
                "Unmanageable distress or agitation; patient cannot cooperate",
            ),
            (
                "Convention: CADSS has no cut-offs, only change from the pre-dose value "
                "(Bremner et al., J Trauma Stress 1998;11:125-136)",
                "convention",
            ),
            (
                "Reassurance; dim lights, quiet room, eye mask or music as the patient prefers",
                "Pause the infusion if distressing",
                "Notify the prescriber if severe",
            ),
            (_SHORT_2018, "confirmed"),
        ),
        _effect(
            "anxiety",
            "Anxiety",
            (
                "Noticed, settles with reassurance",
                "Needs coaching, grounding or a pause",
                "Panic or agitation that does not settle",
            ),
            (_CTCAE_GENERAL, "convention"),
            (
                "Reassurance, breathing and grounding coaching",
                "Pause the infusion",
                "Medication only as the prescriber orders (a benzodiazepine may blunt the "
                "antidepressant response: see the medication interactions)",
            ),
            (_SHORT_2018 + " (the most common acute psychiatric effect)", "confirmed"),
        ),
        _effect(
            "sedation",
            "Sedation",
            (
                "MOAA/S 4: lethargic response to name in normal tone",
                "MOAA/S 3 or 2: responds only to loud or repeated name, or to mild prodding",
                "MOAA/S 1 or 0: responds only to trapezius squeeze, or not at all",
            ),
            (
                "Grades mapped onto the MOAA/S scale (Chernik DA et al., J Clin "
                "Psychopharmacol 1990;10:244-251): convention",
                "convention",
            ),
            (
                "Check MOAA/S, SpO2 and respiratory rate",
                "Stimulate; support the airway; oxygen as needed",
                "Pause or stop the infusion; MOAA/S 1 or 0: call the prescriber now",
            ),
            (_SPRAVATO_AR + " (sedation on MOAA/S; boxed warning)", "secondary"),
        ),
    ]
)


def side_effects(overrides: Iterable[Override] = ()) -> list[SideEffect]:
    """The side-effect vocabulary with the clinic's overrides applied."""
    return list(apply(SIDE_EFFECTS, overrides).values())
