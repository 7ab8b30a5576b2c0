"""Every booking rule, with literal clinic times (America/New_York; 2030-03-04 is a
Monday in EST, UTC-5)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from ketaclinic.clinical.overrides import Override
from ketaclinic.orders.models import PlannedSession
from ketaclinic.platform.errors import ClinicError, Conflict, Forbidden, Invalid
from ketaclinic.scheduling import service
from ketaclinic.scheduling.rules import SchedulingRules
from tests.patients.factories import a_patient
from tests.scheduling.factories import a_chair, a_course, a_team, book, booking, on_duty, planned

DAY = "2030-03-04"


@pytest.fixture
def clinic(db: Session):
    team = a_team(db)
    team.chair1 = a_chair(db, team.desk, "Chair 1")
    team.chair2 = a_chair(db, team.desk, "Chair 2")
    on_duty(db, team.desk, team.nurse, DAY, "08:00", "17:00")
    on_duty(db, team.desk, team.nurse2, DAY, "08:00", "12:00")
    team.maria = a_patient(db)
    team.john = a_patient(db, given_name="John", family_name="Park", sex="male")
    team.maria_course = a_course(db, team.maria.id)
    team.john_course = a_course(db, team.john.id)
    return team


def test_it_books_an_infusion_for_infusion_time_plus_observation(db: Session, clinic) -> None:
    row = book(
        db, clinic.desk, booking(clinic.maria.id, f"{DAY}T09:00", clinic.chair1, clinic.nurse)
    )
    assert row.starts_at == datetime(2030, 3, 4, 14, 0, tzinfo=UTC)
    # 40 min infusion from the signed order + 30 min observation (IV convention)
    assert (row.treatment_min, row.recovery_min) == (40, 30)
    assert row.ends_at == datetime(2030, 3, 4, 15, 10, tzinfo=UTC)
    assert row.status == "booked" and row.booked_by == "frontdesk"
    sessions = planned(db, clinic.maria_course)
    assert row.planned_session_id == sessions[0].id
    assert [s.status for s in sessions[:2]] == ["booked", "planned"]


def test_it_refuses_a_visit_that_would_last_more_than_a_day(db: Session, clinic) -> None:
    # An order of a 1,411-minute infusion and the 30 minutes' observation: 1,441 minutes,
    # one more than a day (the longest visit, scheduling.service.common.LONGEST_VISIT).
    patient = a_patient(db, given_name="Lea", family_name="Hart")
    a_course(db, patient.id, duration_min=1411.0)
    with pytest.raises(Invalid) as refused:
        book(db, clinic.desk, booking(patient.id, f"{DAY}T09:00", clinic.chair1, clinic.nurse))
    assert refused.value.fields == {"kind": "longer than a day"}
    assert "1441 minutes" in str(refused.value)


def test_it_books_esketamine_for_dosing_time_plus_two_hours(db: Session, clinic) -> None:
    patient = a_patient(db, given_name="Ana", family_name="Diaz")
    a_course(db, patient.id, protocol_id="in_esketamine", devices=3)
    row = book(
        db,
        clinic.desk,
        booking(patient.id, f"{DAY}T09:00", clinic.chair1, clinic.nurse, kind="esketamine"),
    )
    # 3 devices x 5 min apart + 120 min observation (label)
    assert (row.treatment_min, row.recovery_min) == (15, 120)
    assert row.ends_at == datetime(2030, 3, 4, 16, 15, tzinfo=UTC)


def test_a_consultation_lasts_the_clinic_setting_and_needs_no_chair(db: Session, clinic) -> None:
    row = book(db, clinic.prescriber, booking(clinic.maria.id, f"{DAY}T13:00", kind="consultation"))
    assert (row.treatment_min, row.recovery_min) == (60, 0)
    assert row.chair_id is None and row.planned_session_id is None
    longer = book(
        db,
        clinic.desk,
        booking(clinic.john.id, f"{DAY}T13:00", kind="consultation"),
        rules=SchedulingRules(consultation_min=90),
    )
    assert longer.treatment_min == 90


def test_it_refuses_a_second_booking_of_the_same_chair(db: Session, clinic) -> None:
    book(db, clinic.desk, booking(clinic.maria.id, f"{DAY}T09:00", clinic.chair1, clinic.nurse))
    with pytest.raises(Conflict) as refused:
        book(db, clinic.desk, booking(clinic.john.id, f"{DAY}T10:00", clinic.chair1, clinic.nurse2))
    assert "Chair 1 is already booked from 09:00 to 10:10" in refused.value.detail
    db.rollback()
    assert planned(db, clinic.john_course)[0].status == "planned"


def test_the_chair_is_free_again_when_the_first_visit_ends(db: Session, clinic) -> None:
    book(db, clinic.desk, booking(clinic.maria.id, f"{DAY}T09:00", clinic.chair1, clinic.nurse))
    row = book(
        db, clinic.desk, booking(clinic.john.id, f"{DAY}T10:10", clinic.chair1, clinic.nurse)
    )
    assert row.starts_at == datetime(2030, 3, 4, 15, 10, tzinfo=UTC)


def test_it_refuses_a_nurse_who_goes_off_duty_during_the_visit(db: Session, clinic) -> None:
    with pytest.raises(Conflict) as refused:
        book(
            db, clinic.desk, booking(clinic.maria.id, f"{DAY}T11:00", clinic.chair1, clinic.nurse2)
        )
    assert (
        "not on duty for the whole visit (11:00-12:10): off duty from 12:00" in refused.value.detail
    )


def test_it_refuses_a_nurse_with_no_shift_that_day(db: Session, clinic) -> None:
    with pytest.raises(Conflict, match="off duty from 09:00"):
        book(
            db,
            clinic.desk,
            booking(clinic.maria.id, "2030-03-05T09:00", clinic.chair1, clinic.nurse),
        )


def test_back_to_back_shifts_cover_a_visit(db: Session, clinic) -> None:
    on_duty(db, clinic.desk, clinic.nurse2, DAY, "12:00", "14:00")
    row = book(
        db, clinic.desk, booking(clinic.maria.id, f"{DAY}T11:30", clinic.chair1, clinic.nurse2)
    )
    assert row.nurse_user_id == clinic.nurse2.user_id


def test_it_refuses_a_nurse_already_watching_a_patient(db: Session, clinic) -> None:
    book(db, clinic.desk, booking(clinic.maria.id, f"{DAY}T09:00", clinic.chair1, clinic.nurse))
    with pytest.raises(Conflict) as refused:
        book(db, clinic.desk, booking(clinic.john.id, f"{DAY}T10:00", clinic.chair2, clinic.nurse))
    assert (
        "already has 1 patient(s) at 10:00; the clinic allows 1 per nurse" in refused.value.detail
    )


def test_a_clinic_allowing_two_patients_per_nurse_books_the_second(db: Session, clinic) -> None:
    two = SchedulingRules(patients_per_nurse=2)
    book(
        db,
        clinic.desk,
        booking(clinic.maria.id, f"{DAY}T09:00", clinic.chair1, clinic.nurse),
        rules=two,
    )
    row = book(
        db,
        clinic.desk,
        booking(clinic.john.id, f"{DAY}T09:30", clinic.chair2, clinic.nurse),
        rules=two,
    )
    assert row.status == "booked"
    third = a_patient(db, given_name="Lee", family_name="Wong")
    a_course(db, third.id)
    chair3 = a_chair(db, clinic.desk, "Chair 3")
    with pytest.raises(Conflict, match="already has 2 patient"):
        book(db, clinic.desk, booking(third.id, f"{DAY}T10:00", chair3, clinic.nurse), rules=two)


def test_it_refuses_a_patient_booked_twice_at_once(db: Session, clinic) -> None:
    book(db, clinic.desk, booking(clinic.maria.id, f"{DAY}T09:00", clinic.chair1, clinic.nurse))
    with pytest.raises(
        Conflict, match="the patient already has an appointment from 2030-03-04 09:00 to 10:10"
    ):
        book(db, clinic.desk, booking(clinic.maria.id, f"{DAY}T10:00", kind="consultation"))


def test_it_refuses_a_start_in_the_past(db: Session, clinic) -> None:
    with pytest.raises(Invalid, match="2030-02-28 09:00 is in the past") as refused:
        book(
            db,
            clinic.desk,
            booking(clinic.maria.id, "2030-02-28T09:00", clinic.chair1, clinic.nurse),
        )
    assert refused.value.fields == {"starts_at": "in the past"}


def test_it_refuses_the_planned_session_of_another_patient(db: Session, clinic) -> None:
    johns = planned(db, clinic.john_course)[0]
    with pytest.raises(Invalid, match="not part of this patient's active course"):
        book(
            db,
            clinic.desk,
            booking(
                clinic.maria.id,
                f"{DAY}T09:00",
                clinic.chair1,
                clinic.nurse,
                planned_session_id=johns.id,
            ),
        )


def test_it_refuses_a_planned_session_already_booked(db: Session, clinic) -> None:
    first = planned(db, clinic.maria_course)[0]
    book(
        db,
        clinic.desk,
        booking(
            clinic.maria.id,
            f"{DAY}T09:00",
            clinic.chair1,
            clinic.nurse,
            planned_session_id=first.id,
        ),
    )
    with pytest.raises(Conflict, match="planned session 1 is already booked"):
        book(
            db,
            clinic.desk,
            booking(
                clinic.maria.id,
                "2030-03-07T09:00",
                clinic.chair1,
                clinic.nurse,
                planned_session_id=first.id,
            ),
        )


def test_it_refuses_a_treatment_without_an_active_course(db: Session, clinic) -> None:
    patient = a_patient(db, given_name="No", family_name="Course")
    with pytest.raises(Invalid, match="no active treatment course"):
        book(db, clinic.desk, booking(patient.id, f"{DAY}T09:00", clinic.chair1, clinic.nurse))


def test_it_refuses_an_esketamine_visit_on_an_iv_course(db: Session, clinic) -> None:
    with pytest.raises(Invalid, match="not intranasal esketamine"):
        book(
            db,
            clinic.desk,
            booking(
                clinic.maria.id, f"{DAY}T09:00", clinic.chair1, clinic.nurse, kind="esketamine"
            ),
        )


def test_a_treatment_needs_a_chair_and_a_nurse(db: Session, clinic) -> None:
    with pytest.raises(Invalid, match="choose a chair"):
        book(db, clinic.desk, booking(clinic.maria.id, f"{DAY}T09:00", None, clinic.nurse))
    with pytest.raises(Invalid, match="choose a nurse"):
        book(db, clinic.desk, booking(clinic.maria.id, f"{DAY}T09:00", clinic.chair1, None))


def test_it_refuses_an_inactive_chair(db: Session, clinic) -> None:
    from ketaclinic.scheduling.schemas import ChairUpdate

    service.update_chair(
        db, actor=clinic.desk, chair_id=clinic.chair1.id, data=ChairUpdate(active=False)
    )
    with pytest.raises(Invalid, match="no such chair in use"):
        book(db, clinic.desk, booking(clinic.maria.id, f"{DAY}T09:00", clinic.chair1, clinic.nurse))


SPACING = Override(
    target="iv_ketamine",
    field="min_spacing_hours",
    value=48.0,
    by="dr.chen",
    reason="clinic policy",
)


def test_it_refuses_sessions_closer_than_the_protocols_spacing(db: Session, clinic) -> None:
    rules = SchedulingRules(clinical_overrides=(SPACING,))
    on_duty(db, clinic.desk, clinic.nurse, "2030-03-05", "08:00", "17:00")
    on_duty(db, clinic.desk, clinic.nurse, "2030-03-06", "08:00", "17:00")
    book(
        db,
        clinic.desk,
        booking(clinic.maria.id, f"{DAY}T09:00", clinic.chair1, clinic.nurse),
        rules=rules,
    )
    with pytest.raises(Conflict) as refused:
        book(
            db,
            clinic.desk,
            booking(clinic.maria.id, "2030-03-05T15:00", clinic.chair1, clinic.nurse),
            rules=rules,
        )
    assert "at least 48 hours between sessions" in refused.value.detail
    db.rollback()
    row = book(
        db,
        clinic.desk,
        booking(clinic.maria.id, "2030-03-06T09:00", clinic.chair1, clinic.nurse),
        rules=rules,
    )
    assert row.status == "booked"


def test_without_a_spacing_rule_the_length_says_so(db: Session, clinic) -> None:
    # The IV protocol's default is now 48 hours (clinic convention, clinical.dosing); a
    # clinic that removes it sees that no spacing is defined.
    length = service.session_length(
        db, actor=clinic.desk, patient_id=clinic.maria.id, kind="infusion"
    )
    assert length.spacing_note == "at least 48 hours between sessions"
    unspaced = service.session_length(
        db,
        actor=clinic.desk,
        patient_id=clinic.maria.id,
        kind="infusion",
        rules=SchedulingRules(clinical_overrides=(replace(SPACING, value=None),)),
    )
    assert unspaced.spacing_note == "no minimum spacing defined for this protocol"


@pytest.mark.parametrize("role", ["nurse", "admin", "researcher"])
def test_only_front_desk_and_prescribers_book(db: Session, clinic, role: str) -> None:
    with pytest.raises(Forbidden):
        book(
            db,
            getattr(clinic, role),
            booking(clinic.maria.id, f"{DAY}T09:00", clinic.chair1, clinic.nurse),
        )


def test_a_refused_booking_leaves_nothing_behind(db: Session, clinic) -> None:
    with pytest.raises(ClinicError):
        book(db, clinic.desk, booking(clinic.maria.id, f"{DAY}T16:30", clinic.chair1, clinic.nurse))
    db.rollback()
    assert (
        service.appointments_for_day(db, actor=clinic.desk, day=datetime(2030, 3, 4).date()) == []
    )
    first = db.get(PlannedSession, planned(db, clinic.maria_course)[0].id)
    assert first is not None and first.status == "planned"


def test_it_refuses_a_session_before_the_course_starts(db: Session, clinic) -> None:
    clinic.maria_course.started_on = date(2030, 3, 5)
    db.commit()
    with pytest.raises(Invalid, match="the treatment course starts on 2030-03-05") as refused:
        book(db, clinic.desk, booking(clinic.maria.id, f"{DAY}T09:00", clinic.chair1, clinic.nurse))
    assert refused.value.fields == {"starts_at": "before the course starts"}
    on_duty(db, clinic.desk, clinic.nurse, "2030-03-05", "08:00", "17:00")
    row = book(
        db, clinic.desk, booking(clinic.maria.id, "2030-03-05T09:00", clinic.chair1, clinic.nurse)
    )
    assert row.starts_at == datetime(2030, 3, 5, 14, 0, tzinfo=UTC)
