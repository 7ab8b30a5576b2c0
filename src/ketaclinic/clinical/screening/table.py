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

Number rules compare the answer with ``threshold`` by ``comparison`` (``">="`` by
default; ``"<"`` for an age below a minimum; ``"outside"`` for an age outside
``threshold``-``threshold_high``); at or above ``absolute_threshold`` a relative rule
counts as absolute (a measured blood pressure). A yes/no rule with a ``window`` asks about
an event within that time ("in the last 60 days"); its question and message carry the
window as ``{window}``, filled in by ``rules()`` so that an override of the window changes
the words too. An indication rule with ``part_of`` is part of another indication's
definition and never counts on its own (the number of failed antidepressant trials is
part of treatment-resistant depression).

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
COMPARISONS = (">=", ">", "<", "<=", "outside")
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
PSYCHIATR_ANN_2018 = (
    "Psychiatr Ann 2018;48(4):170-174 (review of ketamine in psychiatry; citation "
    "incomplete: authors and title not confirmed)"
)
KETALAR_LABEL = "Ketalar (ketamine) US label, as summarised in a payer policy"
KETALAR_HYPERSENSITIVITY = (
    "Ketalar (ketamine) US label, section 4: contraindicated in patients with known "
    "hypersensitivity to ketamine or to any excipient"
)
SPRAVATO_BP_ICP = (
    SPRAVATO_PI + ", sections 4 and 5.6: contraindicated in patients for whom an increase "
    "in blood pressure or intracranial pressure poses a serious risk"
)
TRD_DEFINITION = (
    SPRAVATO_PI + ", section 14 (trial population: inadequate response to at least two "
    "different antidepressants of adequate dose and duration in the current episode); EMA "
    "CHMP Guideline on clinical investigation of medicinal products in the treatment of "
    "depression (EMA/CHMP/185423/2010 Rev. 2): treatment resistance is failure of at least "
    "two antidepressants of adequate dose and duration in the current episode"
)
ESH_ESC_2018 = (
    "Williams B, Mancia G et al., 2018 ESC/ESH Guidelines for the management of arterial "
    "hypertension, Eur Heart J 2018;39:3021-3104: grade 3 hypertension is systolic 180 "
    "mmHg or more and/or diastolic 110 or more"
)
ACC_AHA_2014_PERIOP = (
    "Fleisher LA et al., 2014 ACC/AHA guideline on perioperative cardiovascular evaluation "
    "and management of patients undergoing noncardiac surgery, Circulation "
    "2014;130:e278-e333: at least 60 days should elapse after a myocardial infarction "
    "before elective noncardiac surgery (without coronary intervention)"
)
JORGENSEN_2014 = (
    "Jorgensen ME et al., Time elapsed after ischemic stroke and risk of adverse "
    "cardiovascular events and mortality following elective noncardiac surgery, JAMA "
    "2014;312(3):269-277: risk highest within 3 months of the stroke and levelling off "
    "after about 9 months"
)
REFERENCE_CONVENTION = "clinic convention (clinical-reference.md section 1)"
# One source for both measured-pressure gates at screening.
MEASURED_BP_SOURCE = (
    SPRAVATO_PI + ", section 2 (assess BP before dosing; above 140/90 weigh the "
    "rise against the benefit), used for every route; " + ESH_ESC_2018 + "; the "
    "grade 3 level as an absolute gate is clinic convention"
)


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
    when it compares with ``threshold`` by ``comparison`` (default: greater than or equal).
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
    comparison: str = ">="
    threshold_high: float | None = None
    absolute_threshold: float | None = None
    part_of: str | None = None
    window: float | None = None
    window_unit: str = ""

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
        message=(
            "Treatment-resistant depression: the indication with the most evidence. It needs "
            "the diagnosis and at least 2 failed adequate antidepressant trials in this "
            "episode."
        ),
        source=FAVA_2020 + "; " + SANACORA_2017 + "; definition: " + TRD_DEFINITION,
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
        message=(
            "At least 2 failed adequate antidepressant trials in this episode: part of the "
            "definition of treatment-resistant depression, not an indication on its own."
        ),
        source=TRD_DEFINITION + " (read from the label's trial description and the EMA "
        "guideline as summarised; 4 to 6 weeks each is clinic convention)",
        evidence="secondary",
        answer_type="number",
        threshold=2,
        unit="trials",
        workup=("antidepressant treatment history",),
        evidence_level="definition of treatment resistance used by most trials",
        part_of="treatment_resistant_depression",
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
        id="schizophrenia",
        kind="contraindication",
        absolute=True,
        question="Has schizophrenia ever been diagnosed, even if it is stable now?",
        message="Schizophrenia, even if currently stable: ketamine can worsen psychosis.",
        source=ACEP_2011 + " (known or suspected schizophrenia, even if currently stable: "
        "absolute contraindication)",
        evidence="secondary",
        workup=("psychiatric diagnostic assessment",),
        route_variants=(
            RouteVariant(
                route="intranasal",
                source=(
                    SPRAVATO_PI + " lists psychosis under warnings, not contraindications; "
                    "held absolute as for racemic ketamine (" + ACEP_2011 + ") by clinic "
                    "convention"
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
        source=KETALAR_HYPERSENSITIVITY + "; a serious non-allergic reaction is added by "
        "clinic convention",
        evidence="secondary",
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
                    SPRAVATO_BP_ICP + " [confirmed]; reading uncontrolled hypertension as such "
                    "a case is ketaclinic's default (the label names aneurysmal vascular "
                    "disease, arteriovenous malformation and intracerebral haemorrhage)"
                ),
                evidence="convention",
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
    Rule(
        id="age_outside_clinic_range",
        kind="contraindication",
        absolute=True,
        question="How old is the patient, in years?",
        message="Age outside the clinic's treatment range (adults, 18 or over, by default).",
        source=(
            "clinic convention: racemic ketamine for mood disorders is offered to adults "
            "(the trials behind the standard dose enrolled adults, e.g. " + FAVA_2020 + "); "
            "no upper age by default: a clinic sets threshold_high"
        ),
        evidence="convention",
        answer_type="number",
        threshold=18,
        unit="years",
        comparison="outside",
        routes=RACEMIC_ROUTES,
    ),
    Rule(
        id="esketamine_under_18",
        kind="contraindication",
        absolute=True,
        question="How old is the patient, in years?",
        message="Under 18: esketamine is indicated in adults only.",
        source=(
            SPRAVATO_PI + ", section 1 (indicated in adults) and 8.4 (safety and "
            "effectiveness in paediatric patients not established)"
        ),
        evidence="confirmed",
        answer_type="number",
        threshold=18,
        unit="years",
        comparison="<",
        routes=("intranasal",),
    ),
    Rule(
        id="excipient_hypersensitivity",
        kind="contraindication",
        absolute=True,
        question=(
            "Has there been an allergic reaction to any other ingredient of the product "
            "(as listed on its label)?"
        ),
        message="Hypersensitivity to an ingredient (excipient) of the product.",
        source=KETALAR_HYPERSENSITIVITY,
        evidence="secondary",
        workup=("review of the previous reaction",),
        route_variants=(
            RouteVariant(
                route="intranasal",
                source=SPRAVATO_PI + ", section 4 (hypersensitivity to any of the excipients)",
                evidence="confirmed",
            ),
        ),
    ),
    Rule(
        id="recent_myocardial_infarction",
        kind="contraindication",
        absolute=True,
        question="Has there been a heart attack (myocardial infarction) in the last {window}?",
        message=(
            "Heart attack within the last {window}: a rise in heart rate and blood pressure "
            "adds cardiac load while the risk is highest."
        ),
        source=ACC_AHA_2014_PERIOP + "; the window applied to ketamine by clinic convention",
        evidence="convention",
        workup=("ECG", "cardiology clearance"),
        window=60,
        window_unit="days",
    ),
    Rule(
        id="recent_stroke",
        kind="contraindication",
        absolute=True,
        question=(
            "Has there been a stroke or a transient ischaemic attack (mini-stroke) in the "
            "last {window}?"
        ),
        message=(
            "Stroke within the last {window}: a rise in blood pressure is a hazard while the "
            "risk is highest."
        ),
        source=JORGENSEN_2014 + "; the window applied to ketamine by clinic convention",
        evidence="convention",
        workup=("blood pressure check", "neurology review"),
        window=9,
        window_unit="months",
    ),
    # ---------------------------------------------------- relative contraindications
    Rule(
        id="psychosis_history",
        kind="contraindication",
        absolute=False,
        question=(
            "Apart from schizophrenia, has there ever been psychosis (for example during "
            "severe depression, mania or drug use) or schizoaffective disorder?"
        ),
        message="Past psychosis: assess the psychosis history before treating.",
        source=SANACORA_2017 + " (attention to the history of psychosis)",
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
    Rule(
        id="measured_systolic_bp",
        kind="contraindication",
        absolute=False,
        question="What is the systolic blood pressure measured at this assessment?",
        message=(
            "Measured systolic blood pressure above 140 mmHg: weigh the short-term rise "
            "against the benefit; 180 or more is grade 3 hypertension (absolute until it is "
            "controlled)."
        ),
        source=MEASURED_BP_SOURCE,
        evidence="convention",
        answer_type="number",
        threshold=140,
        unit="mmHg",
        comparison=">",
        absolute_threshold=180,
        workup=("blood pressure check",),
    ),
    Rule(
        id="measured_diastolic_bp",
        kind="contraindication",
        absolute=False,
        question="What is the diastolic blood pressure measured at this assessment?",
        message=(
            "Measured diastolic blood pressure above 90 mmHg: weigh the short-term rise "
            "against the benefit; 110 or more is grade 3 hypertension (absolute until it is "
            "controlled)."
        ),
        source=MEASURED_BP_SOURCE,
        evidence="convention",
        answer_type="number",
        threshold=90,
        unit="mmHg",
        comparison=">",
        absolute_threshold=110,
        workup=("blood pressure check",),
    ),
    Rule(
        id="breastfeeding",
        kind="contraindication",
        absolute=False,
        question="Is the patient breastfeeding?",
        message="Breastfeeding: ketamine passes into breast milk; treatment is not recommended.",
        source=(
            "esketamine label advice (" + SPRAVATO_PI + ", section 8.2: breastfeeding not "
            "recommended) applied to racemic ketamine by clinic convention"
        ),
        evidence="convention",
        route_variants=(
            RouteVariant(
                route="intranasal",
                source=SPRAVATO_PI + ", section 8.2 (breastfeeding not recommended)",
                evidence="confirmed",
            ),
        ),
    ),
    Rule(
        id="interstitial_cystitis",
        kind="contraindication",
        absolute=False,
        question="Is there interstitial cystitis or ulcerative cystitis (bladder pain syndrome)?",
        message=(
            "Interstitial or ulcerative cystitis: ketamine can cause bladder inflammation; "
            "watch urinary symptoms."
        ),
        source=(
            "esketamine label warning (" + SPRAVATO_PI + ": ulcerative or interstitial "
            "cystitis) applied to racemic ketamine by clinic convention"
        ),
        evidence="convention",
        workup=("urinalysis",),
        route_variants=(
            RouteVariant(
                route="intranasal",
                source=SPRAVATO_PI + ", warnings and precautions (ulcerative or interstitial "
                "cystitis)",
                evidence="confirmed",
            ),
        ),
    ),
    Rule(
        id="sleep_apnoea_or_severe_lung_disease",
        kind="contraindication",
        absolute=False,
        question=(
            "Is there sleep apnoea, or severe lung disease (for example COPD needing oxygen "
            "or a recent chest infection)?"
        ),
        message=(
            "Sleep apnoea or severe lung disease: higher risk from sedation and respiratory "
            "depression; continuous SpO2 and a plan for the airway."
        ),
        source=(
            ACEP_2011 + " (active pulmonary infection or disease: relative "
            "contraindication); " + SPRAVATO_PI + ", boxed warning (respiratory depression); "
            "naming sleep apnoea is clinic convention"
        ),
        evidence="secondary",
        workup=("respiratory review",),
    ),
    # ----------------------------------------------------------------- precautions
    Rule(
        id="raised_intracranial_pressure",
        kind="precaution",
        absolute=False,
        question="Is there raised pressure inside the skull (for example from a brain tumour)?",
        message="Raised intracranial pressure: ketamine may raise it further.",
        source=(
            ACEP_2011 + " (central nervous system masses, abnormalities or hydrocephalus: "
            "relative contraindication); " + SANACORA_2017 + " not checked on this point"
        ),
        evidence="secondary",
        workup=("neurology review",),
        route_variants=(
            RouteVariant(
                route="intranasal",
                source=SPRAVATO_BP_ICP,
                evidence="confirmed",
                kind="contraindication",
                absolute=True,
            ),
        ),
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
    Rule(
        id="hypertensive_encephalopathy_history",
        kind="precaution",
        absolute=False,
        question="Has there ever been hypertensive encephalopathy (brain swelling from very high "
        "blood pressure)?",
        message=(
            "History of hypertensive encephalopathy: more intensive blood pressure monitoring "
            "is needed."
        ),
        source=(
            "esketamine label advice (" + SPRAVATO_PI + ", section 5.6: more intensive "
            "monitoring) applied to racemic ketamine by clinic convention"
        ),
        evidence="convention",
        workup=("blood pressure check", "neurology review"),
        route_variants=(
            RouteVariant(
                route="intranasal",
                source=SPRAVATO_PI + ", section 5.6 (history of hypertensive encephalopathy: "
                "more intensive monitoring)",
                evidence="confirmed",
            ),
        ),
    ),
)
