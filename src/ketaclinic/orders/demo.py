"""The demo clinic's courses: a signed order for every patient cleared at candidacy,
started weeks after the intake, some titrated. Courses go to ``clinic.extra["courses"]``
for scheduling and sessions."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from ketaclinic.candidacy import service as candidacy
from ketaclinic.demo import PASSWORD, DemoClinic
from ketaclinic.orders import service
from ketaclinic.orders.models import Course
from ketaclinic.orders.schemas import OrderIn, OverrideIn
from ketaclinic.platform.errors import Invalid

# Demo stock: ketamine 10 mg/mL vials diluted in 100 mL bags (the clinic's own choice,
# entered on each order; not a default of the clinical core).
DEMO_CONCENTRATION_MG_PER_ML = 10.0


def build(db: Session, clinic: DemoClinic) -> None:
    rng = clinic.rng
    courses: list[Course] = []
    prescribers = [clinic.staff["dr.rivera"], clinic.staff["dr.chen"]]
    for index, patient in enumerate(clinic.patients):
        dr = prescribers[index % 2]
        cleared = candidacy.clearance(db, actor=dr, patient_id=patient.id)
        if not cleared.cleared or cleared.decision is None:
            continue
        intake = candidacy.get_intake(db, actor=dr, intake_id=cleared.decision.intake_id)
        started = intake.taken_on + timedelta(days=rng.randint(7, 21))
        if cleared.decision.route == "intranasal":
            course = service.open_course(
                db,
                actor=dr,
                patient_id=patient.id,
                protocol_id="in_esketamine",
                indication="treatment_resistant_depression",
                started_on=started,
            )
            order = service.draft_order(db, actor=dr, course_id=course.id, data=OrderIn(dose_mg=56))
            service.sign_order(db, actor=dr, order_id=order.id, password=PASSWORD)
        else:
            indication = "ptsd" if intake.findings.get("ptsd") else "treatment_resistant_depression"
            course = service.open_course(
                db,
                actor=dr,
                patient_id=patient.id,
                protocol_id="iv_ketamine",
                indication=indication,
                started_on=started,
            )
            order = service.draft_order(
                db,
                actor=dr,
                course_id=course.id,
                data=OrderIn(
                    dose_mg_per_kg=0.5,
                    concentration_mg_per_ml=DEMO_CONCENTRATION_MG_PER_ML,
                    bag_volume_ml=100,
                ),
            )
            service.sign_order(db, actor=dr, order_id=order.id, password=PASSWORD)
            if rng.random() < 0.35:
                _titrate(db, clinic, order.id)
        courses.append(course)
    clinic.extra["courses"] = courses


def _titrate(db: Session, clinic: DemoClinic, order_id: int) -> None:
    """One step up; where the step would pass the cap, the prescriber raises the cap with
    a reason on a superseding order instead."""
    actor = clinic.staff["dr.rivera"]
    try:
        with db.begin_nested():
            draft = service.titrate(db, actor=actor, order_id=order_id)
    except Invalid:
        draft = service.supersede_order(
            db,
            actor=actor,
            order_id=order_id,
            data=OrderIn(
                dose_mg_per_kg=0.75,
                concentration_mg_per_ml=DEMO_CONCENTRATION_MG_PER_ML,
                bag_volume_ml=100,
                overrides=[
                    OverrideIn(
                        target="iv_ketamine",
                        field="max_dose_mg",
                        value=120,
                        reason="partial response at 0.5 mg/kg; tolerated well, BP stable",
                    )
                ],
            ),
            reason="titration with the cap raised",
        )
    service.sign_order(db, actor=actor, order_id=draft.id, password=PASSWORD)
