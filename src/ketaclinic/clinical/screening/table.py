"""The default candidacy rules: one frozen row per indication, contraindication or precaution.

Every row carries ``source`` (a citation) and ``evidence``:

- ``confirmed``: read in the primary text or an authoritative reproduction (for several
  rows only the abstract or the label section, as the source string says);
- ``secondary``: read only in a review, summary or reputable secondary page;
- ``convention``: common clinic practice with no single authoritative source.

The marks follow ``/work/shared/clinical-reference.md``; where this table adds a citation
that the reference does not hold, the source string says how far it was checked. The
work-up lists are clinic convention unless the source says otherwise. ``absolute`` is a
default a clinic may change through an ``Override`` like any other field.

A rule applies to every route unless ``routes`` names some. Where the same condition has
a different standing for one route (the esketamine label lists only a few
contraindications and treats the rest as warnings), a ``RouteVariant`` replaces kind,
absoluteness, source and evidence for that route.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

KINDS = ("indication", "contraindication", "precaution")
ANSWER_TYPES = ("bool", "number")
EVIDENCE = ("confirmed", "secondary", "convention")
ROUTES = ("intravenous", "intramuscular", "oral", "sublingual", "intranasal")
RACEMIC_ROUTES = ("intravenous", "intramuscular", "oral", "sublingual")
DEFAULT_ROUTE = "intravenous"

# Citations used by several rows (full form once, here).
SANACORA_2017 = (
    "Sanacora G et al., A Consensus Statement on the Use of Ketamine in the Treatment of "
    "Mood Disorders, JAMA Psychiatry 2017;74(4):399-405, doi:10.1001/jamapsychiatry.2017.0080"
)
FAVA_2020 = (
    "Fava M et al., Double-blind, placebo-controlled, dose-ranging trial of intravenous "
    "ketamine as adjunctive therapy in treatment-resistant depression, Mol Psychiatry "
    "2020;25:1592-1603"
)
SPRAVATO_PI = "SPRAVATO (esketamine) nasal spray, US prescribing information (Janssen)"
SEED_CLINIC = "seed clinic's contraindication list (clinical-reference.md section 1)"
ACEP_2011 = (
    "Green SM et al., Clinical practice guideline for emergency department ketamine "
    "dissociative sedation: 2011 update, Ann Emerg Med 2011;57:449-461"
)
PSYCHIATR_ANN_2018 = "Psychiatr Ann 2018;48(4):170-174 (review of ketamine in psychiatry)"
KETALAR_LABEL = "Ketalar (ketamine) US label, as summarised in a payer policy"
REFERENCE_CONVENTION = "clinic convention (clinical-reference.md section 1)"


@dataclass(frozen=True)
class RouteVariant:
    """How a rule stands for one route when that differs from its default row."""

    route: str
    source: str
    evidence: str
    kind: str | None = None
    absolute: bool | None = None


@dataclass(frozen=True)
class Rule:
    """One candidacy rule.

    ``answer_type`` ``"bool"``: the answer is yes/no and yes is positive.
    ``answer_type`` ``"number"``: the answer is a count or measure and it is positive
    when it is greater than or equal to ``threshold``.
    ``evidence_level`` describes, for indications, how strong the evidence of benefit is.
    """

    id: str
    kind: str
    absolute: bool
    question: str
    message: str
    source: str
    evidence: str
    answer_type: str = "bool"
    threshold: float | None = None
    unit: str = ""
    workup: tuple[str, ...] = ()
    evidence_level: str | None = None
    routes: tuple[str, ...] = ()
    route_variants: tuple[RouteVariant, ...] = ()

    def applies_to(self, route: str) -> bool:
        """True when the rule is asked for this route."""
        return not self.routes or route in self.routes

    def for_route(self, route: str) -> Rule:
        """This rule as it stands for ``route`` (its route variant merged in, if any)."""
        for variant in self.route_variants:
            if variant.route == route:
                return dataclasses.replace(
                    self,
                    kind=variant.kind if variant.kind is not None else self.kind,
                    absolute=variant.absolute if variant.absolute is not None else self.absolute,
                    source=variant.source,
                    evidence=variant.evidence,
                    route_variants=(),
                )
        return self


RULES: tuple[Rule, ...] = (
    # ----------------------------------------------------------------- indications
    Rule(
        id="treatment_resistant_depression",
        kind="indication",
        absolute=False,
        question=(
            "Has a clinician diagnosed a major depressive episode that has not improved "
            "enough with antidepressant treatment?"
        ),
        message="Treatment-resistant depression: the indication with the most evidence.",
        source=FAVA_2020 + "; " + SANACORA_2017,
        evidence="confirmed",
        workup=("psychiatric diagnostic assessment", "baseline depression rating scale"),
        evidence_level="strongest: randomised controlled trials of IV ketamine",
        route_variants=(
            RouteVariant(
                route="intranasal",
                source=SPRAVATO_PI + ", section 1 (treatment-resistant depression, adults)",
                evidence="confirmed",
            ),
        ),
    ),
    Rule(
        id="failed_antidepressant_trials",
        kind="indication",
        absolute=False,
        question=(
            "How many antidepressants have been tried at a therapeutic dose for at least "
            "4 to 6 weeks each without enough improvement in this episode?"
        ),
        message="At least 2 failed adequate antidepressant trials (treatment resistance).",
        source="clinic convention (clinical-reference.md section 1: treatment resistance)",
        evidence="convention",
        answer_type="number",
        threshold=2,
        unit="trials",
        workup=("antidepressant treatment history",),
        evidence_level="definition of treatment resistance used by most trials",
    ),
    Rule(
        id="ptsd",
        kind="indication",
        absolute=False,
        question="Has a clinician diagnosed post-traumatic stress disorder (PTSD)?",
        message="PTSD: emerging evidence, with mixed trial results.",
        source=(
            "Feder A et al., A randomized controlled trial of repeated ketamine administration "
            "for chronic PTSD, Am J Psychiatry 2021, doi:10.1176/appi.ajp.2020.20050596 "
            "(positive); Abdallah CG et al., Neuropsychopharmacology 2022, "
            "doi:10.1038/s41386-022-01266-9 (no PTSD benefit in veterans) [abstracts read]"
        ),
        evidence="confirmed",
        workup=("baseline PTSD rating scale",),
        evidence_level="emerging: small randomised trials with mixed results",
        routes=RACEMIC_ROUTES,
    ),
    Rule(
        id="suicidal_ideation",
        kind="indication",
        absolute=False,
        question="Is there depression with current thoughts of suicide?",
        message=(
            "Depression with suicidal ideation: ketamine reduced suicidal thoughts for up to "
            "a week; needs a suicide risk assessment and safety plan."
        ),
        source=(
            "Wilkinson ST et al., The effect of a single dose of intravenous ketamine on "
            "suicidal ideation: individual participant data meta-analysis, Am J Psychiatry "
            "2018;175(2):150-158 [abstract read]"
        ),
        evidence="confirmed",
        workup=("suicide risk assessment", "safety plan"),
        evidence_level="moderate: meta-analysis of single-dose trials, effect up to 1 week",
        route_variants=(
            RouteVariant(
                route="intranasal",
                source=(
                    SPRAVATO_PI + ", section 1 (depressive symptoms in adults with major "
                    "depressive disorder with acute suicidal ideation or behavior)"
                ),
                evidence="confirmed",
            ),
        ),
    ),
    Rule(
        id="substance_use_disorder",
        kind="indication",
        absolute=False,
        question=(
            "Is ketamine being considered to treat a diagnosed substance use disorder "
            "(for example alcohol or cocaine use disorder) in a specialist programme?"
        ),
        message="Substance use disorder: experimental indication, specialist programmes only.",
        source=(
            "trials in alcohol and cocaine use disorder (e.g. Dakwar E et al., Am J "
            "Psychiatry 2019; Grabski M et al., Am J Psychiatry 2022), not checked here"
        ),
        evidence="secondary",
        workup=("addiction medicine review",),
        evidence_level="experimental: small trials",
        routes=RACEMIC_ROUTES,
    ),
    # ---------------------------------------------------- absolute contraindications
    Rule(
        id="active_psychosis",
        kind="contraindication",
        absolute=True,
        question="Are there current psychotic symptoms (hallucinations, delusions)?",
        message="Active psychosis: ketamine can worsen psychotic symptoms.",
        source=PSYCHIATR_ANN_2018 + "; " + ACEP_2011 + " (schizophrenia)",
        evidence="secondary",
        workup=("psychiatric diagnostic assessment",),
        route_variants=(
            RouteVariant(
                route="intranasal",
                source=(
                    SPRAVATO_PI + " lists psychosis under warnings, not contraindications; "
                    "held absolute by clinic convention"
                ),
                evidence="convention",
            ),
        ),
    ),
    Rule(
        id="mania_bipolar_unstable",
        kind="contraindication",
        absolute=True,
        question="Is there current mania or hypomania, or bipolar disorder that is not stable?",
        message="Current mania or unstable bipolar disorder.",
        source=SEED_CLINIC + " (certain psychiatric disorders such as mania)",
        evidence="convention",
        workup=("psychiatric diagnostic assessment",),
    ),
    Rule(
        id="illicit_ketamine_use",
        kind="contraindication",
        absolute=True,
        question="Has ketamine ever been used outside medical care?",
        message="Illicit ketamine use: risk of misuse and dependence.",
        source=PSYCHIATR_ANN_2018,
        evidence="secondary",
        workup=("addiction medicine review",),
    ),
    Rule(
        id="ketamine_cystitis_history",
        kind="contraindication",
        absolute=True,
        question="Has bladder inflammation caused by ketamine (ketamine cystitis) ever occurred?",
        message="History of ketamine cystitis.",
        source=PSYCHIATR_ANN_2018,
        evidence="secondary",
        workup=("urinalysis",),
    ),
    Rule(
        id="previous_adverse_reaction_ketamine",
        kind="contraindication",
        absolute=True,
        question="Has there been a serious or allergic reaction to ketamine or esketamine?",
        message="Previous serious or allergic reaction to ketamine or esketamine.",
        source=REFERENCE_CONVENTION,
        evidence="convention",
        workup=("review of the previous reaction",),
        route_variants=(
            RouteVariant(
                route="intranasal",
                source=SPRAVATO_PI + ", section 4 (hypersensitivity to esketamine or ketamine)",
                evidence="confirmed",
            ),
        ),
    ),
    Rule(
        id="aneurysm_or_avm",
        kind="contraindication",
        absolute=True,
        question=(
            "Is there an aneurysm (of the aorta, in the brain or elsewhere) or an "
            "arteriovenous malformation?"
        ),
        message="Aneurysmal vascular disease or arteriovenous malformation.",
        source=REFERENCE_CONVENTION,
        evidence="convention",
        workup=("cardiology clearance",),
        route_variants=(
            RouteVariant(
                route="intranasal",
                source=SPRAVATO_PI + ", section 4 (aneurysmal vascular disease or AVM)",
                evidence="confirmed",
            ),
        ),
    ),
    Rule(
        id="intracerebral_haemorrhage_history",
        kind="contraindication",
        absolute=True,
        question="Has there ever been bleeding inside the brain (intracerebral haemorrhage)?",
        message="History of intracerebral haemorrhage.",
        source=(
            "esketamine label contraindication applied to racemic ketamine by clinic "
            "convention (" + SPRAVATO_PI + ", section 4)"
        ),
        evidence="convention",
        workup=("neurology review",),
        route_variants=(
            RouteVariant(
                route="intranasal",
                source=SPRAVATO_PI + ", section 4 (history of intracerebral hemorrhage)",
                evidence="confirmed",
            ),
        ),
    ),
    Rule(
        id="uncontrolled_hypertension",
        kind="contraindication",
        absolute=True,
        question="Is blood pressure high despite treatment, or untreated and high?",
        message=(
            "Uncontrolled hypertension: ketamine raises blood pressure, a serious hazard here."
        ),
        source=KETALAR_LABEL + " (contraindicated where a significant rise in blood pressure "
        "would be a serious hazard); " + REFERENCE_CONVENTION,
        evidence="secondary",
        workup=("blood pressure check",),
        route_variants=(
            RouteVariant(
                route="intranasal",
                source=(
                    SPRAVATO_PI + ", section 5 (blood pressure: a warning, not a "
                    "contraindication; weigh the rise against the benefit above 140/90)"
                ),
                evidence="confirmed",
                absolute=False,
            ),
        ),
    ),
    Rule(
        id="pregnancy",
        kind="contraindication",
        absolute=True,
        question="Is there a pregnancy, or could there be one?",
        message="Pregnancy (or possible pregnancy).",
        source=SEED_CLINIC,
        evidence="convention",
        workup=("pregnancy test",),
        route_variants=(
            RouteVariant(
                route="intranasal",
                source=(SPRAVATO_PI + " (pregnancy is a warning, not a label contraindication)"),
                evidence="confirmed",
                absolute=False,
            ),
        ),
    ),
    # ---------------------------------------------------- relative contraindications
    Rule(
        id="psychosis_history",
        kind="contraindication",
        absolute=False,
        question=(
            "Has there ever been psychosis, or a diagnosis of schizophrenia or "
            "schizoaffective disorder?"
        ),
        message="Past psychosis: assess the psychosis history before treating.",
        source=ACEP_2011 + " (schizophrenia); " + SANACORA_2017 + " (psychosis history)",
        evidence="secondary",
        workup=("psychiatric diagnostic assessment",),
    ),
    Rule(
        id="active_substance_abuse",
        kind="contraindication",
        absolute=False,
        question="Is there current misuse of alcohol or drugs?",
        message="Current alcohol or drug misuse: assess substance use before treating.",
        source=SEED_CLINIC + "; " + SANACORA_2017 + " (attention to substance use)",
        evidence="secondary",
        workup=("addiction medicine review",),
    ),
    Rule(
        id="cardiovascular_disease",
        kind="contraindication",
        absolute=False,
        question=(
            "Is there heart or blood-vessel disease (for example heart failure, heart "
            "rhythm problems, valve disease)?"
        ),
        message="Cardiovascular disease: ketamine raises heart rate and blood pressure.",
        source=SEED_CLINIC + "; " + ACEP_2011 + " (precaution)",
        evidence="secondary",
        workup=("blood pressure check", "ECG", "cardiology clearance"),
    ),
    Rule(
        id="ischaemic_heart_disease",
        kind="contraindication",
        absolute=False,
        question="Is there angina, or has there been a heart attack or a coronary stent?",
        message="Ischaemic heart disease: a rise in heart rate and pressure adds cardiac load.",
        source=REFERENCE_CONVENTION,
        evidence="convention",
        workup=("ECG", "cardiology clearance"),
    ),
    Rule(
        id="cerebrovascular_disease",
        kind="contraindication",
        absolute=False,
        question="Has there been a stroke or a transient ischaemic attack (mini-stroke)?",
        message="Cerebrovascular disease: a rise in blood pressure is a hazard.",
        source=REFERENCE_CONVENTION,
        evidence="convention",
        workup=("blood pressure check", "neurology review"),
    ),
    Rule(
        id="hyperthyroidism",
        kind="contraindication",
        absolute=False,
        question="Is there an overactive thyroid (hyperthyroidism) or other thyroid disease?",
        message="Hyperthyroidism: added sympathetic stimulation.",
        source=SEED_CLINIC + "; " + ACEP_2011 + " (thyroid disease as a precaution)",
        evidence="secondary",
        workup=("thyroid function tests",),
    ),
    Rule(
        id="severe_liver_disease",
        kind="contraindication",
        absolute=False,
        question="Is there severe liver disease (for example cirrhosis)?",
        message="Severe liver disease: ketamine is cleared by the liver.",
        source=SEED_CLINIC,
        evidence="convention",
        workup=("liver function tests",),
    ),
    # ----------------------------------------------------------------- precautions
    Rule(
        id="raised_intracranial_pressure",
        kind="precaution",
        absolute=False,
        question="Is there raised pressure inside the skull (for example from a brain tumour)?",
        message="Raised intracranial pressure: ketamine may raise it further.",
        source=ACEP_2011,
        evidence="secondary",
        workup=("neurology review",),
    ),
    Rule(
        id="raised_intraocular_pressure",
        kind="precaution",
        absolute=False,
        question="Is there raised pressure in the eye (for example glaucoma)?",
        message="Raised intraocular pressure: ketamine may raise it further.",
        source=ACEP_2011,
        evidence="secondary",
        workup=("ophthalmology review",),
    ),
    Rule(
        id="hypertension",
        kind="precaution",
        absolute=False,
        question="Is there high blood pressure that is controlled with treatment?",
        message=("Known (controlled) hypertension predicts blood pressure surges during infusion."),
        source=(
            "Yale cohort, 138 patients, 2,342 infusions, Gen Hosp Psychiatry 2024, "
            "doi:10.1016/j.genhosppsych.2024.07.001 [abstract]"
        ),
        evidence="confirmed",
        workup=("blood pressure check",),
    ),
)
