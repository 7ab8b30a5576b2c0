"""Confirmation, cancellation (kept), rescheduling, check-in, completion, no-show and
the reads other areas make."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid, NotFound
from ketaclinic.scheduling import service
from ketaclinic.scheduling.schemas import RescheduleIn
from tests.conftest import make_user
from tests.patients.factories import a_patient
from tests.scheduling.factories import (
    NOW,
    ZONE,
    a_chair,
    a_course,
    a_team,
    book,
    booking,
    on_duty,
    planned,
)

DAY = "2030-03-04"


@pytest.fixture
def clinic(db: Session):
    team = a_team(db)
    team.chair1 = a_chair(db, team.desk, "Chair 1")
    team.chair2 = a_chair(db, team.desk, "Chair 2")
    on_duty(db, team.desk, team.nurse, DAY, "08:00", "17:00")
    team.maria = a_patient(db)
    team.course = a_course(db, team.maria.id)
    team.visit = book(
        db, team.desk, booking(team.maria.id, f"{DAY}T09:00", team.chair1, team.nurse)
    )
    return team


def test_the_day_before_call_is_recorded_on_the_appointment(db: Session, clinic) -> None:
    row = service.confirm(
        db,
        actor=clinic.desk,
        appointment_id=clinic.visit.id,
        fasting=True,
        ride_home=False,
        no_nasal_decongestant=True,
        note="sister may drive",
        now=NOW,
    )
    # the decongestant question does not apply to an IV infusion
    assert row.confirmation == {
        "fasting": True,
        "ride_home": False,
        "no_nasal_decongestant": None,
        "note": "sister may drive",
    }
    assert (row.confirmed_by, row.confirmed_at) == ("frontdesk", NOW)
    assert service.confirmation_concerns(row) == ["no ride home"]


def test_esketamine_needs_the_decongestant_answer(db: Session, clinic) -> None:
    patient = a_patient(db, given_name="Ana", family_name="Diaz")
    a_course(db, patient.id, protocol_id="in_esketamine")
    on_duty(db, clinic.desk, clinic.nurse2, DAY, "08:00", "17:00")
    row = book(
        db,
        clinic.desk,
        booking(patient.id, f"{DAY}T09:00", clinic.chair2, clinic.nurse2, kind="esketamine"),
    )
    with pytest.raises(Invalid, match="nasal decongestants"):
        service.confirm(
            db,
            actor=clinic.desk,
            appointment_id=row.id,
            fasting=True,
            ride_home=True,
            no_nasal_decongestant=None,
        )
    db.rollback()
    done = service.confirm(
        db,
        actor=clinic.nurse2,
        appointment_id=row.id,
        fasting=True,
        ride_home=True,
        no_nasal_decongestant=False,
    )
    assert (done.confirmation or {})["no_nasal_decongestant"] is False
    assert service.confirmation_concerns(done) == ["may use a nasal decongestant or corticosteroid"]


def test_a_second_call_keeps_the_first_answers(db: Session, clinic) -> None:
    service.confirm(
        db,
        actor=clinic.desk,
        appointment_id=clinic.visit.id,
        fasting=True,
        ride_home=False,
        no_nasal_decongestant=None,
        now=NOW,
    )
    row = service.confirm(
        db,
        actor=clinic.nurse,
        appointment_id=clinic.visit.id,
        fasting=True,
        ride_home=True,
        no_nasal_decongestant=None,
    )
    assert (row.confirmation or {})["ride_home"] is True
    assert (row.confirmation or {})["earlier"][0]["ride_home"] is False
    assert (row.confirmation or {})["earlier"][0]["by"] == "frontdesk"


def test_tomorrows_unconfirmed_visits_are_listed_until_confirmed(db: Session, clinic) -> None:
    day = date(2030, 3, 4)
    assert [r.id for r in service.to_confirm(db, actor=clinic.desk, day=day, zone=ZONE)] == [
        clinic.visit.id
    ]
    service.confirm(
        db,
        actor=clinic.desk,
        appointment_id=clinic.visit.id,
        fasting=True,
        ride_home=True,
        no_nasal_decongestant=None,
    )
    assert service.to_confirm(db, actor=clinic.desk, day=day, zone=ZONE) == []


def test_a_cancelled_appointment_is_kept_with_its_reason_and_frees_the_chair(
    db: Session, clinic
) -> None:
    row = service.cancel(
        db, actor=clinic.desk, appointment_id=clinic.visit.id, reason="patient has flu"
    )
    assert (row.status, row.cancel_reason, row.cancelled_by) == (
        "cancelled",
        "patient has flu",
        "frontdesk",
    )
    assert planned(db, clinic.course)[0].status == "planned"
    day = service.appointments_for_day(db, actor=clinic.desk, day=date(2030, 3, 4), zone=ZONE)
    assert [(r.id, r.status) for r in day] == [(clinic.visit.id, "cancelled")]
    again = book(
        db, clinic.desk, booking(clinic.maria.id, f"{DAY}T09:00", clinic.chair1, clinic.nurse)
    )
    assert again.planned_session_id == row.planned_session_id


def test_a_cancellation_needs_a_reason(db: Session, clinic) -> None:
    with pytest.raises(Invalid, match="say why"):
        service.cancel(db, actor=clinic.desk, appointment_id=clinic.visit.id, reason=" ")


def test_rescheduling_cancels_and_books_in_one_go(db: Session, clinic) -> None:
    on_duty(db, clinic.desk, clinic.nurse, "2030-03-05", "08:00", "17:00")
    new = service.reschedule(
        db,
        actor=clinic.desk,
        appointment_id=clinic.visit.id,
        data=RescheduleIn(reason="patient asked", starts_at=datetime(2030, 3, 5, 10, 0)),
        now=NOW,
        zone=ZONE,
    )
    old = service.get_appointment(db, actor=clinic.desk, appointment_id=clinic.visit.id)
    assert old.status == "cancelled" and old.cancel_reason == "rescheduled: patient asked"
    assert new.starts_at == datetime(2030, 3, 5, 15, 0, tzinfo=UTC)
    assert (new.chair_id, new.planned_session_id) == (old.chair_id, old.planned_session_id)
    assert planned(db, clinic.course)[0].status == "booked"


def test_a_refused_reschedule_keeps_the_old_booking(db: Session, clinic) -> None:
    with pytest.raises(Conflict, match="not on duty"):
        service.reschedule(
            db,
            actor=clinic.desk,
            appointment_id=clinic.visit.id,
            data=RescheduleIn(reason="patient asked", starts_at=datetime(2030, 3, 6, 10, 0)),
            now=NOW,
            zone=ZONE,
        )
    db.rollback()
    assert (
        service.get_appointment(db, actor=clinic.desk, appointment_id=clinic.visit.id).status
        == "booked"
    )


def test_a_moved_visit_may_overlap_its_own_old_slot(db: Session, clinic) -> None:
    new = service.reschedule(
        db,
        actor=clinic.desk,
        appointment_id=clinic.visit.id,
        data=RescheduleIn(reason="later start", starts_at=datetime(2030, 3, 4, 9, 30)),
        now=NOW,
        zone=ZONE,
    )
    assert new.starts_at == datetime(2030, 3, 4, 14, 30, tzinfo=UTC)


def test_check_in_then_completion_completes_the_planned_session(db: Session, clinic) -> None:
    service.mark_appointment(
        db, actor=clinic.desk, appointment_id=clinic.visit.id, status="checked_in"
    )
    with pytest.raises(Forbidden):
        service.mark_appointment(
            db, actor=clinic.desk, appointment_id=clinic.visit.id, status="completed"
        )
    row = service.mark_appointment(
        db, actor=clinic.nurse, appointment_id=clinic.visit.id, status="completed"
    )
    assert row.status == "completed"
    assert planned(db, clinic.course)[0].status == "completed"
    with pytest.raises(Conflict, match="cannot be cancelled"):
        service.cancel(db, actor=clinic.desk, appointment_id=row.id, reason="too late")


def test_no_show_only_after_the_start_and_frees_the_planned_session(db: Session, clinic) -> None:
    with pytest.raises(Conflict, match="once the visit has started"):
        service.mark_appointment(
            db, actor=clinic.desk, appointment_id=clinic.visit.id, status="no_show", now=NOW
        )
    row = service.mark_appointment(
        db,
        actor=clinic.desk,
        appointment_id=clinic.visit.id,
        status="no_show",
        now=datetime(2030, 3, 4, 14, 20, tzinfo=UTC),
    )
    assert row.status == "no_show"
    assert planned(db, clinic.course)[0].status == "planned"


def test_a_nurse_sees_her_day_and_not_anothers(db: Session, clinic) -> None:
    mine = service.appointments_for_day(
        db, actor=clinic.nurse, day=date(2030, 3, 4), nurse_user_id=clinic.nurse.user_id, zone=ZONE
    )
    theirs = service.appointments_for_day(
        db, actor=clinic.nurse, day=date(2030, 3, 4), nurse_user_id=clinic.nurse2.user_id, zone=ZONE
    )
    assert [r.id for r in mine] == [clinic.visit.id] and theirs == []


def test_reading_the_day_is_audited_per_patient(db: Session, clinic) -> None:
    service.appointments_for_day(db, actor=clinic.prescriber, day=date(2030, 3, 4), zone=ZONE)
    audit.flush_reads(db)  # as the unit of work does when the act ends
    events = db.scalars(
        select(AuditEvent).where(
            AuditEvent.actor == "prescriber", AuditEvent.action == "appointment.read"
        )
    ).all()
    assert [(e.patient_id, e.detail) for e in events] == [
        (clinic.maria.id, "day 2030-03-04: 1 appointment(s)")
    ]


def test_a_patient_sees_only_their_own_upcoming_visits(db: Session, clinic) -> None:
    other = a_patient(db, given_name="John", family_name="Park", sex="male")
    maria = accounts.actor_for(
        make_user(db, "patient", username="maria", patient_id=clinic.maria.id)
    )
    rows = service.upcoming_for_patient(db, actor=maria, patient_id=clinic.maria.id, now=NOW)
    assert [r.id for r in rows] == [clinic.visit.id]
    with pytest.raises(NotFound):
        service.upcoming_for_patient(db, actor=maria, patient_id=other.id, now=NOW)
    with pytest.raises(NotFound):
        john = accounts.actor_for(make_user(db, "patient", username="john", patient_id=other.id))
        service.get_appointment(db, actor=john, appointment_id=clinic.visit.id)
    after = service.upcoming_for_patient(
        db,
        actor=clinic.desk,
        patient_id=clinic.maria.id,
        now=datetime(2030, 3, 4, 15, 10, tzinfo=UTC),
    )
    assert after == []


def test_a_researcher_cannot_read_the_calendar(db: Session, clinic) -> None:
    with pytest.raises(Forbidden):
        service.appointments_for_day(db, actor=clinic.researcher, day=date(2030, 3, 4), zone=ZONE)


def test_the_front_desks_day_counts_arrivals_check_ins_and_tomorrows_unconfirmed(
    db: Session, clinic
) -> None:
    day = date(2030, 3, 4)
    john = a_patient(db, given_name="John", family_name="Park")
    a_course(db, john.id)
    later = book(db, clinic.desk, booking(john.id, f"{DAY}T12:00", clinic.chair2, clinic.nurse))
    before = service.desk_day(db, actor=clinic.desk, day=date(2030, 3, 3), zone=ZONE)
    assert (before.arrivals, before.next_day, before.unconfirmed) == ([], day, 2)
    service.confirm(
        db,
        actor=clinic.desk,
        appointment_id=later.id,
        fasting=True,
        ride_home=True,
        no_nasal_decongestant=None,
    )
    eve = service.desk_day(db, actor=clinic.desk, day=date(2030, 3, 3), zone=ZONE)
    assert eve.unconfirmed == 1
    service.mark_appointment(
        db,
        actor=clinic.desk,
        appointment_id=clinic.visit.id,
        status="checked_in",
        now=datetime(2030, 3, 4, 13, 50, tzinfo=UTC),
    )
    found = service.desk_day(db, actor=clinic.desk, day=day, zone=ZONE)
    assert [a.id for a in found.arrivals] == [clinic.visit.id, later.id]
    assert (found.checked_in, found.expected) == (1, 1)
    assert found.names[john.id] == john.display_name
    service.cancel(db, actor=clinic.desk, appointment_id=later.id, reason="flu")
    assert [a.id for a in service.desk_day(db, actor=clinic.desk, day=day, zone=ZONE).arrivals] == [
        clinic.visit.id
    ]
