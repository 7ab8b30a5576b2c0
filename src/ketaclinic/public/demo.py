"""Intake leads of the demo clinic: months of self-screens sent by strangers, some new,
some contacted or closed, one registered as a patient."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.orm import Session

from ketaclinic.clinical import screening
from ketaclinic.demo import DemoClinic
from ketaclinic.patients.service import PatientIn
from ketaclinic.public import service
from ketaclinic.public.questions import QUESTIONS
from ketaclinic.public.schemas import Answer, ContactIn, LeadIn


@dataclass(frozen=True)
class DemoLead:
    given: str
    family: str
    sex: str
    days_ago: int
    answers: dict[str, Answer] = field(default_factory=dict)
    route: str = "intravenous"
    message: str | None = None
    # (days after arrival, status, note) handled by the front desk
    handling: tuple[tuple[int, str, str], ...] = ()
    convert_after_days: int | None = None
    age_years: int = 40


# Everything else answered "no" (or 0 antidepressants tried), as most visitors do.
NO_PROBLEMS: dict[str, Answer] = {
    q.rule_id: 0 if q.rule_id == "failed_antidepressant_trials" else False for q in QUESTIONS
}

LEADS = (
    DemoLead(
        "Rowan",
        "Whitfield",
        "female",
        130,
        {
            "treatment_resistant_depression": True,
            "failed_antidepressant_trials": 3,
            "hypertension": True,
        },
        message="My psychiatrist suggested I ask about ketamine.",
        handling=((2, "contacted", "Phoned; consultation booked with Dr. Rivera."),),
        convert_after_days=9,
        age_years=47,
    ),
    DemoLead(
        "Theo",
        "Marchetti",
        "male",
        75,
        {
            "treatment_resistant_depression": True,
            "failed_antidepressant_trials": 2,
            "uncontrolled_hypertension": True,
        },
        handling=(
            (1, "contacted", "Phoned; explained that blood pressure must be controlled first."),
            (6, "closed", "Will see his GP about blood pressure and may come back."),
        ),
    ),
    DemoLead(
        "Imani",
        "Okoye",
        "female",
        12,
        {
            "treatment_resistant_depression": None,
            "failed_antidepressant_trials": None,
            "cardiovascular_disease": None,
            "pregnancy": None,
        },
        message="Not sure what my diagnosis is called.",
        handling=((1, "contacted", "Left a voicemail; will email the intake forms."),),
    ),
    DemoLead(
        "Jonas",
        "Halvorsen",
        "male",
        5,
        {"treatment_resistant_depression": True, "failed_antidepressant_trials": 4},
        route="intranasal",
    ),
    DemoLead(
        "Priya",
        "Raman",
        "female",
        2,
        {"treatment_resistant_depression": True, "failed_antidepressant_trials": 2},
    ),
    DemoLead(
        "Casey",
        "Dunmore",
        "other",
        1,
        {
            "treatment_resistant_depression": True,
            "failed_antidepressant_trials": 2,
            "suicidal_ideation": True,
        },
        message="Things have been very hard lately.",
    ),
)


def _moment(clinic: DemoClinic, days_ago: int, hour: int) -> datetime:
    day = clinic.today - timedelta(days=days_ago)
    return datetime.combine(day, time(hour, clinic.rng.randint(0, 59)), tzinfo=UTC)


def build(db: Session, clinic: DemoClinic) -> None:
    desk = clinic.staff["desk.baker"]
    asked = {rule.id for rule in screening.rules()}
    for demo in LEADS:
        answers = {k: v for k, v in {**NO_PROBLEMS, **demo.answers}.items() if k in asked}
        phone = f"+1 555 {clinic.rng.randint(200, 999)} {clinic.rng.randint(1000, 9999)}"
        arrived = _moment(clinic, demo.days_ago, 14)
        lead = service.create_lead(
            db,
            actor=service.public_actor(None),
            data=LeadIn(
                route=demo.route,  # type: ignore[arg-type]
                answers=answers,
                contact=ContactIn(
                    name=f"{demo.given} {demo.family}",
                    phone=phone,
                    email=f"{demo.given}.{demo.family}@example.org".lower(),
                    preferred_contact="phone",
                    message=demo.message,
                    consent=True,
                ),
            ),
            at=arrived,
        )
        for after, status, note in demo.handling:
            service.mark_lead(
                db,
                actor=desk,
                lead_id=lead.id,
                status=status,
                note=note,
                at=arrived + timedelta(days=after, hours=1),
            )
        if demo.convert_after_days is not None:
            converted = service.convert_lead(
                db,
                actor=desk,
                lead_id=lead.id,
                data=PatientIn(
                    given_name=demo.given,
                    family_name=demo.family,
                    date_of_birth=clinic.today - timedelta(days=demo.age_years * 365 + 40),
                    sex=demo.sex,  # type: ignore[arg-type]
                    phone=phone,
                    email=lead.email,
                ),
                note="Consultation done; registered for the candidacy evaluation.",
                at=arrived + timedelta(days=demo.convert_after_days),
            )
            clinic.extra["public_converted_patient_id"] = converted.patient_id
