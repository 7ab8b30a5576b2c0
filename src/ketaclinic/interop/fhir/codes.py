"""The codes and systems the FHIR interface writes and reads, each with its source.

These are terminology, not clinical thresholds: a clinic does not override them (a
wrong code would make every receiving system misread the record), so they are a fixed
declared table. A code that could not be confirmed is left out (``None``) and the
resource carries the clinic's own words in ``text`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from ketaclinic.clinical.instruments import Source

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
MRN_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
#: The clinic's own identifier system for MRNs (a URN of ketaclinic's, by convention).
MRN_SYSTEM = "urn:ketaclinic:mrn"

_US_CORE_EXAMPLES = Source(
    citation="HL7 US Core 9.0.0 examples input/examples/{blood-pressure,heart-rate,"
    "oxygen-saturation,respiratory-rate,weight,height}.json (github HL7/US-Core, "
    "commit 85bf4af6)",
    evidence="confirmed",
)
_FHIR_SPEC = Source(
    citation="HL7 FHIR R4 (4.0.1) specification: code systems observation-category, "
    "condition-category, condition-clinical, v3-ActCode, v2-0203",
    evidence="confirmed",
)
_ROUTES = Source(
    citation="HL7 FHIR R4 value set SNOMED CT Route Codes "
    "(http://hl7.org/fhir/ValueSet/route-codes)",
    evidence="secondary",
    note="read in the value set's expansion, not in a SNOMED CT release",
)


@dataclass(frozen=True)
class Vital:
    """A US Core vital-signs Observation: its LOINC code(s), unit and profile."""

    key: str
    codes: tuple[tuple[str, str], ...]  # (LOINC code, display), the first is the profile's
    unit: str
    ucum: str
    profile: str
    source: Source


US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
VITALS: dict[str, Vital] = {
    v.key: v
    for v in (
        Vital(
            "blood_pressure",
            (("85354-9", "Blood pressure panel with all children optional"),),
            "mmHg",
            "mm[Hg]",
            US_CORE + "us-core-blood-pressure",
            _US_CORE_EXAMPLES,
        ),
        Vital(
            "heart_rate",
            (("8867-4", "Heart rate"),),
            "beats/min",
            "/min",
            US_CORE + "us-core-heart-rate",
            _US_CORE_EXAMPLES,
        ),
        Vital(
            "spo2",
            (
                ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
                ("2708-6", "Oxygen saturation in Arterial blood"),
            ),
            "%",
            "%",
            US_CORE + "us-core-pulse-oximetry",
            _US_CORE_EXAMPLES,
        ),
        Vital(
            "respiratory_rate",
            (("9279-1", "Respiratory rate"),),
            "breaths/min",
            "/min",
            US_CORE + "us-core-respiratory-rate",
            _US_CORE_EXAMPLES,
        ),
        Vital(
            "weight",
            (("29463-7", "Body weight"),),
            "kg",
            "kg",
            US_CORE + "us-core-body-weight",
            _US_CORE_EXAMPLES,
        ),
        Vital(
            "height",
            (("8302-2", "Body height"),),
            "cm",
            "cm",
            US_CORE + "us-core-body-height",
            _US_CORE_EXAMPLES,
        ),
    )
}
SYSTOLIC = ("8480-6", "Systolic blood pressure")
DIASTOLIC = ("8462-4", "Diastolic blood pressure")
BP_COMPONENT_SOURCE = _US_CORE_EXAMPLES
#: The vital sign a LOINC code names (either of SpO2's two codes).
VITAL_BY_LOINC = {code: v.key for v in VITALS.values() for code, _ in v.codes}
SCREENING_PROFILE = US_CORE + "us-core-observation-screening-assessment"
SCREENING_SOURCE = Source(
    citation="HL7 US Core 9.0.0 example Observation-PHQ9-item-example-44261-6.json: "
    "category survey, derivedFrom the QuestionnaireResponse",
    evidence="confirmed",
)


@dataclass(frozen=True)
class Indication:
    text: str
    icd10cm: tuple[str, str] | None
    source: Source


#: A course's indication as a Condition. Treatment-resistant depression and substance
#: use disorder have no single ICD-10-CM code (the diagnosis behind them does): the
#: clinic's words go in ``code.text`` and no code is guessed.
INDICATIONS: dict[str, Indication] = {
    "treatment_resistant_depression": Indication(
        "Treatment-resistant depression",
        None,
        Source("no single ICD-10-CM code; coded by the underlying diagnosis", "convention"),
    ),
    "ptsd": Indication(
        "Post-traumatic stress disorder",
        ("F43.10", "Post-traumatic stress disorder, unspecified"),
        Source(
            "ICD-10-CM tabular list (CDC/NCHS), F43.1 Post-traumatic stress disorder", "secondary"
        ),
    ),
    "suicidal_ideation": Indication(
        "Suicidal ideation",
        ("R45.851", "Suicidal ideations"),
        Source("ICD-10-CM tabular list (CDC/NCHS), R45.851 Suicidal ideations", "secondary"),
    ),
    "substance_use_disorder": Indication(
        "Substance use disorder",
        None,
        Source("no single ICD-10-CM code; coded by the substance (F10-F19)", "convention"),
    ),
}


@dataclass(frozen=True)
class Route:
    snomed: tuple[str, str]
    text: str
    source: Source


ROUTES: dict[str, Route] = {
    "iv": Route(("47625008", "Intravenous route"), "Intravenous infusion", _ROUTES),
    "esketamine_nasal": Route(("46713006", "Nasal route"), "Intranasal (nasal device)", _ROUTES),
}
#: The drug given on each route; RxNorm codes were not confirmed here, so text only.
DRUGS = {"iv": "Ketamine hydrochloride", "esketamine_nasal": "Esketamine nasal spray"}
ENCOUNTER_CLASS = (ACT_CODE, "AMB", "ambulatory")
ENCOUNTER_SOURCE = _FHIR_SPEC

#: Code systems the importer knows; a coding in any other system is refused by name.
KNOWN_SYSTEMS = frozenset(
    {
        LOINC,
        UCUM,
        SNOMED,
        ICD10CM,
        OBSERVATION_CATEGORY,
        CONDITION_CATEGORY,
        CONDITION_CLINICAL,
        ACT_CODE,
        MRN_TYPE,
        MRN_SYSTEM,
        "http://www.nlm.nih.gov/research/umls/rxnorm",
        "http://hl7.org/fhir/sid/icd-10",
        "http://terminology.hl7.org/CodeSystem/condition-ver-status",
        "http://terminology.hl7.org/CodeSystem/v3-ActReason",  # security labels (HTEST)
        "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
        "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
        "http://hl7.org/fhir/us/core/CodeSystem/condition-category",
        "http://hl7.org/fhir/us/core/CodeSystem/us-core-category",
    }
)
