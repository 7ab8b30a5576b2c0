"""The self-screen in plain words: one question per candidacy rule, keyed by rule id.

The clinical rules (``ketaclinic.clinical.screening``) decide; this table only says each
rule's question and reason the way a prospective patient would understand them. Every
rule is either asked here or listed in ``EXCLUDED`` with the reason it is not asked (a
test checks this, so a new rule cannot be silently skipped).
"""

from __future__ import annotations

from dataclasses import dataclass

from ketaclinic.clinical import screening

SECTIONS = (
    "What you are looking for help with",
    "Your mental health",
    "Ketamine, alcohol and drugs",
    "Your physical health",
)

# Plausibility bound for the number of antidepressants tried, not a clinical limit.
MAX_TRIALS = 30


def _window(rule_id: str) -> str:
    """The default look-back window of a windowed rule, in words ("60 days")."""
    rule = next(r for r in screening.rules() if r.id == rule_id)
    return f"{rule.window:g} {rule.window_unit}".strip()


@dataclass(frozen=True)
class Question:
    rule_id: str
    section: str
    ask: str  # the question, addressed to the person
    why: str  # why it matters, in plain words (shown when the answer bears on the result)
    hint: str = ""


QUESTIONS: tuple[Question, ...] = (
    Question(
        "treatment_resistant_depression",
        SECTIONS[0],
        "Has a doctor or therapist told you that you have depression (a major depressive "
        "episode) that has not got better enough with antidepressant treatment?",
        "Depression that has not improved enough with antidepressants is the reason "
        "ketamine therapy has been studied most.",
    ),
    Question(
        "failed_antidepressant_trials",
        SECTIONS[0],
        "How many antidepressant medicines have you taken during this episode, each for at "
        "least 4 to 6 weeks at the dose your doctor prescribed, without enough improvement?",
        "Clinics usually offer ketamine after at least 2 antidepressants, each taken long "
        "enough at a proper dose, have not helped enough.",
        hint="Leave it empty if you are not sure.",
    ),
    Question(
        "ptsd",
        SECTIONS[0],
        "Has a doctor or therapist told you that you have post-traumatic stress disorder (PTSD)?",
        "Ketamine is being studied for PTSD; the results so far are mixed.",
    ),
    Question(
        "suicidal_ideation",
        SECTIONS[0],
        "Are you depressed and having thoughts of suicide at the moment?",
        "Ketamine has been shown to ease suicidal thoughts for up to about a week. It is "
        "never a replacement for urgent help: please see the crisis resources on this page.",
    ),
    Question(
        "substance_use_disorder",
        SECTIONS[0],
        "Are you looking for ketamine to treat an alcohol or drug use disorder, as part of a "
        "specialist addiction programme?",
        "Ketamine for alcohol or drug use disorders is still experimental and is offered "
        "only within specialist programmes.",
    ),
    Question(
        "active_psychosis",
        SECTIONS[1],
        "Are you at the moment hearing or seeing things that others do not, or holding "
        "beliefs that others find very unusual (psychotic symptoms)?",
        "Ketamine can make hallucinations and unusual beliefs worse, so it is not given "
        "while they are present.",
    ),
    Question(
        "mania_bipolar_unstable",
        SECTIONS[1],
        "Are you at the moment in a manic or hypomanic episode, or do you have bipolar "
        "disorder that is not stable?",
        "Clinics do not give ketamine during mania or while bipolar disorder is unstable.",
    ),
    Question(
        "schizophrenia",
        SECTIONS[1],
        "Have you ever been diagnosed with schizophrenia, even if it is stable now?",
        "Ketamine can bring back or worsen psychotic symptoms, so it is not given to "
        "people with schizophrenia, even when it is well controlled.",
    ),
    Question(
        "psychosis_history",
        SECTIONS[1],
        "Apart from schizophrenia, have you ever had psychosis (for example during severe "
        "depression, mania or drug use), or been diagnosed with schizoaffective disorder?",
        "A past episode of psychosis does not rule ketamine out, but a clinician would "
        "look at that history carefully first.",
    ),
    Question(
        "illicit_ketamine_use",
        SECTIONS[2],
        "Have you ever used ketamine outside of medical care (for example recreationally)?",
        "Ketamine can be misused; past use outside medical care makes clinics unable to "
        "offer it safely.",
    ),
    Question(
        "ketamine_cystitis_history",
        SECTIONS[2],
        "Have you ever had bladder inflammation caused by ketamine (ketamine cystitis)?",
        "Ketamine can damage the bladder; after ketamine cystitis, it is not given again.",
    ),
    Question(
        "previous_adverse_reaction_ketamine",
        SECTIONS[2],
        "Have you ever had a serious or allergic reaction to ketamine or esketamine (Spravato)?",
        "After a serious or allergic reaction, ketamine is not given again.",
    ),
    Question(
        "excipient_hypersensitivity",
        SECTIONS[2],
        "Have you ever had an allergic reaction to any other ingredient of a ketamine or "
        "esketamine product (as listed on its leaflet)?",
        "After an allergic reaction to an ingredient of the product, that product is not given.",
    ),
    Question(
        "active_substance_abuse",
        SECTIONS[2],
        "Are you at the moment drinking alcohol or using drugs in a way that worries you "
        "or others?",
        "Current alcohol or drug use does not always rule ketamine out, but a clinician "
        "would talk it through with you first.",
    ),
    Question(
        "pregnancy",
        SECTIONS[3],
        "Are you pregnant, or could you be?",
        "Ketamine therapy is not given during pregnancy.",
    ),
    Question(
        "breastfeeding",
        SECTIONS[3],
        "Are you breastfeeding?",
        "Ketamine passes into breast milk, so treatment is not recommended while "
        "breastfeeding; a clinician would talk the timing through with you.",
    ),
    Question(
        "uncontrolled_hypertension",
        SECTIONS[3],
        "Is your blood pressure high even though you take medicine for it, or high and not "
        "treated?",
        "Ketamine raises blood pressure for a while during treatment, which is a danger "
        "when blood pressure is already uncontrolled.",
    ),
    Question(
        "hypertension",
        SECTIONS[3],
        "Do you have high blood pressure that is kept under control with treatment?",
        "People with known high blood pressure are more likely to have larger rises "
        "during an infusion, so the clinic watches more closely.",
    ),
    Question(
        "aneurysm_or_avm",
        SECTIONS[3],
        "Have you been told you have an aneurysm (a bulging blood vessel, for example in "
        "the brain or the aorta) or an arteriovenous malformation?",
        "A rise in blood pressure can be dangerous with an aneurysm or a malformed blood "
        "vessel, so ketamine is not given.",
    ),
    Question(
        "intracerebral_haemorrhage_history",
        SECTIONS[3],
        "Have you ever had bleeding inside the brain?",
        "After bleeding inside the brain, a rise in blood pressure is too risky, so "
        "ketamine is not given.",
    ),
    Question(
        "cardiovascular_disease",
        SECTIONS[3],
        "Do you have a heart or blood-vessel condition (for example heart failure, a heart "
        "rhythm problem or a valve problem)?",
        "Ketamine raises heart rate and blood pressure for a while; the clinic would check "
        "your heart first.",
    ),
    Question(
        "ischaemic_heart_disease",
        SECTIONS[3],
        "Do you have angina, or have you had a heart attack or a coronary stent?",
        "A faster heart and higher blood pressure put extra work on the heart; the clinic "
        "would check your heart first.",
    ),
    Question(
        "cerebrovascular_disease",
        SECTIONS[3],
        "Have you had a stroke or a mini-stroke (TIA)?",
        "A rise in blood pressure can be a risk after a stroke; the clinic would review "
        "this first.",
    ),
    Question(
        "recent_myocardial_infarction",
        SECTIONS[3],
        f"Have you had a heart attack in the last {_window('recent_myocardial_infarction')}?",
        "Soon after a heart attack the heart is at its most vulnerable; the rise in heart "
        "rate and blood pressure during treatment is too risky then.",
    ),
    Question(
        "recent_stroke",
        SECTIONS[3],
        f"Have you had a stroke or a mini-stroke (TIA) in the last {_window('recent_stroke')}?",
        "Soon after a stroke, a rise in blood pressure is too risky, so treatment waits.",
    ),
    Question(
        "hypertensive_encephalopathy_history",
        SECTIONS[3],
        "Have you ever had hypertensive encephalopathy (brain swelling or confusion caused "
        "by very high blood pressure)?",
        "After very high blood pressure has affected the brain, the clinic would watch your "
        "blood pressure more closely during treatment.",
    ),
    Question(
        "sleep_apnoea_or_severe_lung_disease",
        SECTIONS[3],
        "Do you have sleep apnoea, or a severe lung condition (for example COPD needing "
        "oxygen, or a recent chest infection)?",
        "Ketamine can make you drowsy and slow your breathing; with sleep apnoea or weak "
        "lungs the clinic would plan the monitoring of your breathing first.",
    ),
    Question(
        "interstitial_cystitis",
        SECTIONS[3],
        "Do you have interstitial cystitis or bladder pain syndrome?",
        "Ketamine can irritate the bladder; with a bladder condition the clinic would check "
        "and watch your urinary symptoms.",
    ),
    Question(
        "hyperthyroidism",
        SECTIONS[3],
        "Do you have an overactive thyroid or another thyroid condition?",
        "An overactive thyroid adds to ketamine's effect on heart rate and blood pressure; "
        "the clinic would check your thyroid first.",
    ),
    Question(
        "severe_liver_disease",
        SECTIONS[3],
        "Do you have severe liver disease (for example cirrhosis)?",
        "The liver clears ketamine from the body; the clinic would check your liver first.",
    ),
    Question(
        "raised_intracranial_pressure",
        SECTIONS[3],
        "Has a doctor told you that you have raised pressure inside your skull (for example "
        "from a brain tumour)?",
        "Ketamine may raise the pressure inside the skull further; a specialist would be "
        "asked first.",
    ),
    Question(
        "raised_intraocular_pressure",
        SECTIONS[3],
        "Do you have raised pressure in the eye (for example glaucoma)?",
        "Ketamine may raise eye pressure further; an eye specialist may be asked first.",
    ),
)

# Rules deliberately not asked in the public self-screen, each with the reason.
EXCLUDED: dict[str, str] = {
    "age_outside_clinic_range": "checked at intake from the date of birth",
    "esketamine_under_18": "checked at intake from the date of birth",
    "measured_systolic_bp": "measured at the clinic: not something a person measures for a "
    "self-screen",
    "measured_diastolic_bp": "measured at the clinic: not something a person measures for a "
    "self-screen",
}

BY_RULE = {q.rule_id: q for q in QUESTIONS}

# The clinic's work-up items (from the rules) in plain words.
WORKUP_WORDS = {
    "psychiatric diagnostic assessment": "a full assessment by a psychiatrist or other "
    "mental health clinician",
    "baseline depression rating scale": "a depression questionnaire, to measure change later",
    "baseline PTSD rating scale": "a PTSD questionnaire, to measure change later",
    "antidepressant treatment history": "which antidepressants you have taken, at what dose "
    "and for how long",
    "suicide risk assessment": "a careful conversation about suicidal thoughts and safety",
    "safety plan": "a written safety plan for difficult moments",
    "addiction medicine review": "a review with an addiction medicine specialist",
    "urinalysis": "a urine test",
    "review of the previous reaction": "the records of your earlier reaction to ketamine",
    "cardiology clearance": "a heart specialist's opinion",
    "neurology review": "a neurologist's opinion",
    "respiratory review": "a review of your breathing and lungs (for example a sleep or "
    "lung specialist's opinion)",
    "ophthalmology review": "an eye specialist's opinion",
    "blood pressure check": "your blood pressure",
    "pregnancy test": "a pregnancy test",
    "ECG": "a heart tracing (ECG)",
    "thyroid function tests": "thyroid blood tests",
    "liver function tests": "liver blood tests",
}

ROUTES = {
    "intravenous": "Ketamine infusions into a vein (IV)",
    "intranasal": "Esketamine nasal spray (Spravato)",
}


def plain_workup(item: str) -> str:
    return WORKUP_WORDS.get(item, item)


def asked_rules(route: str) -> list[screening.Rule]:
    """The rules the self-screen asks for ``route``, in the table's order."""
    return [r for r in screening.rules() if r.id in BY_RULE and r.applies_to(route)]
