"""The demo clinic's intakes and candidacy decisions, months ago: most patients treated
for treatment-resistant depression, a few with precautions, a few not eligible, some on
medications that interact (lamotrigine, a benzodiazepine, an SSRI)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.candidacy import service
from ketaclinic.candidacy.schemas import DecisionIn, IntakeIn, TrialIn
from ketaclinic.demo import DemoClinic

# Everything is a no; each demo profile switches a few rules to yes.
PROFILES: list[dict[str, Any]] = [
    {},
    {},
    {},
    {"hypertension": True},
    {"ptsd": True},
    {"hyperthyroidism": True},
    {"raised_intraocular_pressure": True},
    {"suicidal_ideation": True},
]
NOT_ELIGIBLE = {"active_psychosis": True}
OVERRIDDEN = {"cardiovascular_disease": True}
MEDICATIONS = [
    ["sertraline 100 mg"],
    ["lamotrigine 200 mg", "bupropion XL 300 mg"],
    ["lorazepam 1 mg as needed", "escitalopram 20 mg"],
    ["venlafaxine XR 150 mg"],
    ["fluoxetine 40 mg", "trazodone 50 mg at night"],
    [],
    ["lisinopril 10 mg", "sertraline 150 mg"],
    ["quetiapine 50 mg", "mirtazapine 30 mg"],
]
TRIAL_DRUGS = [
    ("sertraline", "200 mg daily"),
    ("escitalopram", "20 mg daily"),
    ("venlafaxine", "225 mg daily"),
    ("bupropion", "300 mg daily"),
    ("duloxetine", "60 mg daily"),
    ("mirtazapine", "45 mg daily"),
]


def _findings(route: str, yes: dict[str, Any], numbers: dict[str, int]) -> dict[str, Any]:
    """Every rule asked for ``route``: yes/no from the profile, each number rule its own
    value (trial count, age, measured blood pressure)."""
    found: dict[str, Any] = {}
    for rule in service.applicable_rules(route):
        if rule.answer_type == "number":
            if rule.id not in numbers:
                raise ValueError(f"the demo intake has no value for number rule {rule.id!r}")
            found[rule.id] = numbers[rule.id]
        else:
            found[rule.id] = rule.id == "treatment_resistant_depression" or bool(yes.get(rule.id))
    return found


def _intake(
    rng: random.Random,
    route: str,
    yes: dict[str, Any],
    days_ago: int,
    today: Any,
    date_of_birth: date,
) -> IntakeIn:
    count = rng.randint(2, 4)
    picks = rng.sample(TRIAL_DRUGS, count + 1)
    trials = [
        TrialIn(drug=d, dose=dose, duration_weeks=rng.choice([6, 8, 10, 12]), adequate=True)
        for d, dose in picks[:count]
    ]
    trials.append(TrialIn(drug=picks[-1][0], dose="started low", duration_weeks=2, adequate=False))
    taken_on = today - timedelta(days=days_ago)
    # Drawn in the order the demo has always drawn them, so the demo clinic stays the same.
    episodes = rng.randint(1, 5)
    medications = rng.choice(MEDICATIONS)
    allergies = rng.choice([[], [], ["penicillin"], ["latex"]])
    heart_rate = rng.randint(58, 92)
    systolic = rng.randint(112, 138)
    diastolic = rng.randint(68, 86)
    age = service.age_in_years(date_of_birth, taken_on)
    numbers = {
        service.TRIALS_RULE: count,
        service.SYSTOLIC_RULE: systolic,
        service.DIASTOLIC_RULE: diastolic,
        **{rule_id: age for rule_id in service.AGE_RULES},
    }
    return IntakeIn(
        taken_on=taken_on,
        route=route,  # type: ignore[arg-type]
        protocol_id="iv_ketamine" if route == "intravenous" else "in_esketamine",
        episodes=episodes,
        trials=trials,
        findings=_findings(route, yes, numbers),
        medications=medications,
        allergies=allergies,
        heart_rate=heart_rate,
        bp_systolic=systolic,
        bp_diastolic=diastolic,
        spo2=rng.randint(96, 99),
    )


def build(db: Session, clinic: DemoClinic) -> None:
    rng = clinic.rng
    nurse = clinic.staff["nurse.okafor"]
    prescribers = [clinic.staff["dr.rivera"], clinic.staff["dr.chen"]]
    # The last few patients are new: no intake yet.
    for index, patient in enumerate(clinic.patients[:-4]):
        route = "intranasal" if index % 6 == 5 else "intravenous"
        if index == 7:
            yes = NOT_ELIGIBLE
        elif index == 13:
            yes = OVERRIDDEN
        else:
            yes = rng.choice(PROFILES)
        if route == "intranasal":
            yes = {k: v for k, v in yes.items() if k != "ptsd"}
        days_ago = rng.randint(45, 240)
        if index % 8 == 4:
            # A few recent intakes, so that the clinic has courses in induction now, with
            # sessions on today's and next week's calendar.
            days_ago = 9 + index % 5
        data = _intake(rng, route, yes, days_ago, clinic.today, patient.date_of_birth)
        intake = service.create_intake(db, actor=nurse, patient_id=patient.id, data=data)
        if index % 9 == 2:
            fixed = data.model_copy(update={"episodes": (data.episodes or 0) + 1})
            intake = service.correct_intake(
                db,
                actor=clinic.staff["nurse.lind"],
                intake_id=intake.id,
                data=fixed,
                reason="patient recalled an earlier episode at the second visit",
            )
        prescriber = prescribers[index % 2]
        if index == 13:
            decision = DecisionIn(
                intake_id=intake.id,
                decision="override",
                final_verdict="not_eligible",
                reason="recent heart failure admission: defer until cardiology clearance",
            )
        else:
            decision = DecisionIn(intake_id=intake.id, decision="confirm")
        service.decide(db, actor=prescriber, patient_id=patient.id, data=decision)
