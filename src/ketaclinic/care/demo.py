"""The demo clinic's plans around its courses: care teams (a prescriber of record as the
primary clinician, an infusion nurse, the therapist ``therapist.nguyen`` for some, a
referring clinician for others), medication plans (one benzodiazepine started
mid-course, waiting for the prescriber at the next order), preparation and integration
notes, and courses in every state of the plan: extended, in maintenance, a booster
proposed by the relapse rule, one accepted, one declined, one course stopped."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.orm import Session

from ketaclinic.care import service
from ketaclinic.care.models import TherapySession
from ketaclinic.demo import PASSWORD, DemoClinic
from ketaclinic.orders import service as orders
from ketaclinic.outcomes import service as outcomes
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import ClinicError
from ketaclinic.scheduling import service as scheduling

REFERRERS = [
    ("Dr. Omar Haddad", "Riverside Family Practice", "+1 555 0140"),
    ("Dr. Priya Raman", "Northside Psychiatry Group", "+1 555 0177"),
]
# PHQ-9 answers (nine items 0-3) adding up to the totals the demo needs.
_PHQ9 = {
    5: [1, 1, 1, 1, 1, 0, 0, 0, 0],
    11: [2, 2, 1, 1, 1, 1, 1, 1, 1],
    13: [2, 2, 2, 2, 1, 1, 1, 1, 1],
}


def build(db: Session, clinic: DemoClinic) -> None:
    courses = [c for c in clinic.extra.get("courses", []) if c.status == "active"]
    if not courses:
        return
    desk = clinic.staff["desk.baker"]
    nurse = clinic.staff["nurse.okafor"]
    therapist = clinic.staff["therapist.nguyen"]
    room = scheduling.add_therapy_room(db, actor=clinic.staff["admin"], name="Therapy room 1")
    scheduling.add_therapy_room(db, actor=clinic.staff["admin"], name="Therapy room 2")
    now = utcnow()
    for index, course in enumerate(courses):
        dr = _prescriber(db, clinic, course)
        _team(db, clinic, course.patient_id, dr, nurse, desk, therapist if index % 2 == 0 else None)
        if index < len(REFERRERS):
            name, practice, phone = REFERRERS[index]
            service.add_member(
                db,
                actor=desk,
                patient_id=course.patient_id,
                role="referring",
                name=name,
                organisation=practice,
                phone=phone,
            )
        _medications(db, dr, course, index)
        if index % 2 == 0:
            _therapy(db, clinic, therapist, course, room.id, now, index)
    _states(db, clinic, courses, now)


def _prescriber(db: Session, clinic: DemoClinic, course: orders.Course) -> Actor:
    signer = orders.latest_signer(db, course.patient_id)
    return clinic.staff.get(signer or "", clinic.staff["dr.rivera"])


def _team(
    db: Session,
    clinic: DemoClinic,
    patient_id: int,
    dr: Actor,
    nurse: Actor,
    desk: Actor,
    therapist: Actor | None,
) -> None:
    for who, role, primary in ((dr, "prescriber", True), (nurse, "nurse", False)):
        service.add_member(
            db, actor=desk, patient_id=patient_id, role=role, user_id=who.user_id, primary=primary
        )
    if therapist is not None:
        service.add_member(
            db, actor=desk, patient_id=patient_id, role="therapist", user_id=therapist.user_id
        )


def _medications(db: Session, dr: Actor, course: orders.Course, index: int) -> None:
    started = (course.started_on or utcnow().date()) - timedelta(days=200)
    service.add_medication(
        db,
        actor=dr,
        patient_id=course.patient_id,
        name="sertraline" if index % 3 else "bupropion",
        dose="100 mg daily" if index % 3 else "150 mg daily",
        kind="psychiatric",
        prescriber="Referring psychiatrist",
        started_on=started,
    )
    if index % 4 == 1:
        service.add_medication(
            db,
            actor=dr,
            patient_id=course.patient_id,
            name="lisinopril",
            dose="10 mg daily",
            kind="other",
            prescriber="Primary care",
            started_on=started,
        )
    if index == 1:
        # Started mid-course: the prescriber sees it at the course's next order.
        service.add_medication(
            db,
            actor=dr,
            patient_id=course.patient_id,
            name="lorazepam",
            dose="0.5 mg at night",
            kind="psychiatric",
            prescriber="Urgent care",
            started_on=utcnow().date() - timedelta(days=3),
        )


def _therapy(
    db: Session,
    clinic: DemoClinic,
    therapist: Actor,
    course: orders.Course,
    room_id: int,
    now: datetime,
    index: int,
) -> None:
    """A preparation before the first session and an integration after the series,
    both held and signed; and one integration still to come."""
    assert therapist.user_id is not None
    first = course.started_on or now.date()
    past = [
        ("preparation", first - timedelta(days=2), "Set intentions for the series", ""),
        ("integration", first + timedelta(days=24), "Keep the gains of the series", "grief"),
    ]
    for phase, day, goals, themes in past:
        at = datetime.combine(day, time(15, 0), tzinfo=UTC) + timedelta(minutes=index)
        if at >= now - timedelta(hours=2):
            continue
        # Held in the past: on the record, not on the calendar's future.
        row = TherapySession(
            patient_id=course.patient_id,
            course_id=course.id,
            phase=phase,
            therapist_user_id=therapist.user_id,
            starts_at=at,
            minutes=60,
            status="booked",
            created_by=therapist.username,
            created_at=at - timedelta(days=3),
        )
        db.add(row)
        db.flush()
        service.sign_therapy_note(
            db,
            actor=therapist,
            therapy_session_id=row.id,
            password=PASSWORD,
            goals=goals,
            themes=themes
            or ("hope and fear about the treatment" if phase == "preparation" else ""),
            homework="a short journal after each infusion",
            risk_review="No current suicidal ideation; safety plan reviewed",
            now=at + timedelta(minutes=55),
        )
    upcoming = datetime.combine(now.date() + timedelta(days=3 + index % 4), time(14, 0), tzinfo=UTC)
    # The patient may already be booked then: the demo skips that one.
    with contextlib.suppress(ClinicError):
        service.schedule_therapy(
            db,
            actor=therapist,
            patient_id=course.patient_id,
            phase="integration",
            therapist_user_id=therapist.user_id,
            starts_at=upcoming + timedelta(minutes=70 * (index // 2)),
            room_id=room_id,
            now=now,
        )


def _states(db: Session, clinic: DemoClinic, courses: list[orders.Course], now: datetime) -> None:
    """Courses in every state of the plan, on the courses with a signed order and no
    open draft, beyond the two portal patients (who keep an ordinary course)."""
    ready = [
        c
        for c in courses[2:]
        if orders.current_order(db, actor=clinic.staff["dr.chen"], course_id=c.id) is not None
    ]
    nurse = clinic.staff["nurse.okafor"]
    for step, course in zip(
        ("extend", "maintenance", "relapse", "accepted", "declined", "stop"), ready, strict=False
    ):
        dr = _prescriber(db, clinic, course)
        try:
            if step == "extend":
                service.decide(
                    db,
                    actor=dr,
                    course_id=course.id,
                    choice="extend",
                    reason="Response without remission after the series: two more infusions",
                    extra_sessions=2,
                )
            elif step == "stop":
                service.decide(
                    db,
                    actor=dr,
                    course_id=course.id,
                    choice="stop",
                    reason="No response after the series; referred back for other options",
                )
            else:
                decided = now - timedelta(days=60 if step != "maintenance" else 10)
                service.decide(
                    db,
                    actor=dr,
                    course_id=course.id,
                    choice="maintenance",
                    reason="Remission at the end of induction: tapering boosters",
                    schedule_id="iv_taper" if _iv(db, dr, course) else "esketamine_label",
                    now=decided,
                )
                if step in ("relapse", "accepted", "declined"):
                    # After every score the outcomes demo made: the last two cross the rule.
                    for at, total in (
                        (decided + timedelta(days=30), 5),
                        (now - timedelta(hours=3), 11),
                        (now - timedelta(hours=1), 13),
                    ):
                        outcomes.record_response(
                            db,
                            actor=nurse,
                            patient_id=course.patient_id,
                            instrument_id="phq9",
                            answers=_PHQ9[total],
                            context="monthly",
                            completed_at=at,
                        )
                for row in service.open_proposals(db, actor=dr):
                    if row.proposal.course_id != course.id:
                        continue
                    if step == "accepted":
                        service.accept_booster(db, actor=dr, proposal_id=row.proposal.id)
                    elif step == "declined":
                        service.decline_booster(
                            db,
                            actor=dr,
                            proposal_id=row.proposal.id,
                            reason="Scores back down at the visit; a booster is already booked",
                        )
        except ClinicError:
            continue  # a course the demo cannot take there (a draft waiting): left as it is


def _iv(db: Session, dr: Actor, course: orders.Course) -> bool:
    order = orders.current_order(db, actor=dr, course_id=course.id)
    return order is None or order.route != "intranasal"
