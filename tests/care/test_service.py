"""The plan around a course, through the care service: the care team and the therapist's
wall, alerts to the primary clinician first, medication changes at the next order,
course decisions, boosters from the relapse rule, signed therapy notes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.care import service
from ketaclinic.care.models import BoosterProposal, CourseDecision, TherapyNote
from ketaclinic.orders import service as orders
from ketaclinic.orders.models import PlannedSession
from ketaclinic.outcomes import service as outcomes
from ketaclinic.outcomes.models import SuicidalityAlert
from ketaclinic.patients import service as patients
from ketaclinic.platform.clock import clinic_today
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid, NotFound
from ketaclinic.scheduling.models import Appointment
from tests.candidacy.factories import cleared_patient
from tests.care.factories import a_patient_on_course, a_room, a_user, on_team
from tests.conftest import PASSWORD
from tests.orders.factories import signer
from tests.outcomes.helpers import phq9

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)


def test_a_therapist_cannot_open_a_patient_outside_their_care_teams(db: Session) -> None:
    therapist = a_user(db, "therapist", "therapist.nguyen")
    mine, _ = a_patient_on_course(db, given_name="Ana")
    other, _ = a_patient_on_course(db, given_name="Ben")
    on_team(db, mine, therapist, "therapist")

    assert patients.get_patient(db, actor=therapist, patient_id=mine.id).id == mine.id
    with pytest.raises(NotFound):
        patients.get_patient(db, actor=therapist, patient_id=other.id)
    with pytest.raises(NotFound):
        service.therapy_sessions(db, actor=therapist, patient_id=other.id)
    with pytest.raises(NotFound):
        service.care_team(db, actor=therapist, patient_id=other.id)
    assert [p.id for p in service.my_patients(db, actor=therapist)] == [mine.id]
    assert [p.id for p in patients.search_patients(db, actor=therapist, query="Ben")] == []
    assert [p.id for p in patients.recently_updated(db, actor=therapist)] == [mine.id]


def test_a_therapist_who_leaves_the_team_loses_the_patient(db: Session) -> None:
    therapist = a_user(db, "therapist", "therapist.nguyen")
    patient, _ = a_patient_on_course(db)
    member = on_team(db, patient, therapist, "therapist")
    service.end_member(db, actor=signer(db), member_id=member.id, reason="moved practice")
    with pytest.raises(NotFound):
        patients.get_patient(db, actor=therapist, patient_id=patient.id)


def test_a_therapist_cannot_order_or_give_drugs(db: Session) -> None:
    therapist = a_user(db, "therapist", "therapist.nguyen")
    patient, course = a_patient_on_course(db)
    on_team(db, patient, therapist, "therapist")
    with pytest.raises(Forbidden):
        orders.open_course(
            db,
            actor=therapist,
            patient_id=patient.id,
            protocol_id="iv_ketamine",
            indication="treatment_resistant_depression",
        )
    with pytest.raises(Forbidden):
        orders.titrate(db, actor=therapist, order_id=_current(db, course.id))
    with pytest.raises(Forbidden):
        service.add_medication(
            db,
            actor=therapist,
            patient_id=patient.id,
            name="sertraline",
            kind="psychiatric",
            prescriber="GP",
            started_on=SOON.date(),
        )
    with pytest.raises(Forbidden):
        service.decide(db, actor=therapist, course_id=course.id, choice="stop", reason="no")


def test_the_referring_clinician_is_kept_with_contact_details(db: Session) -> None:
    patient, _ = a_patient_on_course(db)
    with pytest.raises(Invalid) as refused:
        service.add_member(
            db, actor=signer(db), patient_id=patient.id, role="referring", name="Dr. Out"
        )
    assert refused.value.fields == {"phone": "required"}
    row = service.add_member(
        db,
        actor=signer(db),
        patient_id=patient.id,
        role="referring",
        name="Dr. Omar Haddad",
        organisation="Riverside Family Practice",
        phone="+1 555 0100",
    )
    team = service.care_team(db, actor=signer(db), patient_id=patient.id)
    assert [(m.role, m.name, m.phone) for m in team] == [
        ("referring", "Dr. Omar Haddad", "+1 555 0100")
    ]
    assert row.user_id is None


def test_suicidality_alerts_go_to_the_primary_clinician_first(db: Session) -> None:
    primary = a_user(db, "prescriber", "dr.primary")
    a_user(db, "prescriber", "dr.other")
    nurse = a_user(db, "nurse", "nurse.n")
    patient, _ = a_patient_on_course(db)
    on_team(db, patient, primary, "prescriber", primary=True)
    assert service.primary_clinician_username(db, patient_id=patient.id) == "dr.primary"

    outcomes.record_response(
        db, actor=nurse, patient_id=patient.id, instrument_id="phq9", answers=phq9(14, item9=2)
    )
    alert = db.scalar(select(SuicidalityAlert))
    assert alert is not None
    assert alert.primary_clinician == "dr.primary"
    assert alert.notified == ["dr.primary"]
    # Unanswered, it escalates as today: to every prescriber.
    escalated = outcomes.escalate_due(db, now=alert.raised_at + timedelta(hours=6))
    assert [a.id for a in escalated] == [alert.id]
    assert {"dr.other", "dr.primary", "dr.test"} <= set(alert.escalated_to)


def test_without_a_primary_clinician_the_alert_goes_to_the_latest_signer(db: Session) -> None:
    nurse = a_user(db, "nurse", "nurse.n")
    a_user(db, "prescriber", "dr.other")
    patient, _ = a_patient_on_course(db)
    outcomes.record_response(
        db, actor=nurse, patient_id=patient.id, instrument_id="phq9", answers=phq9(14, item9=2)
    )
    alert = db.scalar(select(SuicidalityAlert))
    assert alert is not None and alert.notified == ["dr.test"]


def test_a_benzodiazepine_started_mid_course_shows_at_the_next_order(db: Session) -> None:
    patient, course = a_patient_on_course(db)
    doctor = signer(db)
    assert service.medication_changes_for_order(db, actor=doctor, patient_id=patient.id) == []
    added = service.add_medication(
        db,
        actor=doctor,
        patient_id=patient.id,
        name="Lorazepam 1 mg",
        kind="psychiatric",
        prescriber="Dr. Community Psychiatrist",
        started_on=SOON.date(),
    )
    assert [f.drug_class for f in added.findings] == ["Benzodiazepine"]
    changes = service.medication_changes_for_order(db, actor=doctor, patient_id=patient.id)
    assert [(c.medication, c.change) for c in changes] == [("Lorazepam 1 mg", "started")]
    assert [f.severity for f in changes[0].findings] == ["moderate"]
    assert "blunt the antidepressant response" in changes[0].findings[0].effect

    # Seen at the next order: once that order is signed, the change is no longer new.
    current = orders.current_order(db, actor=doctor, course_id=course.id)
    assert current is not None
    draft = orders.repeat_order(db, actor=doctor, order_id=current.id, reason="reviewed benzo")
    assert service.medication_changes_for_order(db, actor=doctor, patient_id=patient.id)
    orders.sign_order(db, actor=doctor, order_id=draft.id, password=PASSWORD)
    assert service.medication_changes_for_order(db, actor=doctor, patient_id=patient.id) == []
    service.stop_medication(
        db, actor=doctor, entry_id=added.entry.id, stopped_on=SOON.date(), reason="tapered off"
    )
    changes = service.medication_changes_for_order(db, actor=doctor, patient_id=patient.id)
    assert [(c.medication, c.change) for c in changes] == [("Lorazepam 1 mg", "stopped")]


def _current(db: Session, course_id: int) -> int:
    order = orders.current_order(db, actor=signer(db), course_id=course_id)
    assert order is not None
    return order.id


def _planned(db: Session, course_id: int) -> list[PlannedSession]:
    return list(
        db.scalars(
            select(PlannedSession)
            .where(PlannedSession.course_id == course_id)
            .order_by(PlannedSession.number)
        )
    )


def test_extending_the_induction_creates_an_order_draft_and_planned_sessions(
    db: Session,
) -> None:
    patient, course = a_patient_on_course(db)
    doctor = signer(db)
    with pytest.raises(Invalid):
        service.decide(db, actor=doctor, course_id=course.id, choice="extend", reason="partial")
    done = service.decide(
        db,
        actor=doctor,
        course_id=course.id,
        choice="extend",
        reason="response without remission after 6",
        extra_sessions=2,
    )
    assert [(p.number, p.kind) for p in done.planned] == [(7, "induction"), (8, "induction")]
    assert len(_planned(db, course.id)) == 8
    assert course.series_sessions == 8
    assert done.order is not None and done.order.status == "draft"
    current = orders.current_order(db, actor=doctor, course_id=course.id)
    assert current is not None and done.order.supersedes_id == current.id
    assert done.order.dose_mg == current.dose_mg
    assert done.decision.order_id == done.order.id
    assert done.decision.planned_session_ids == [p.id for p in done.planned]
    assert done.decision.reason == "response without remission after 6"
    # A second decision waits for the draft to be signed.
    with pytest.raises(Conflict):
        service.decide(
            db, actor=doctor, course_id=course.id, choice="extend", reason="x" * 5, extra_sessions=1
        )


def test_an_extension_alone_or_with_a_titration_is_of_1_to_12_sessions(db: Session) -> None:
    patient, course = a_patient_on_course(db)
    doctor = signer(db)
    for extra in (0, 13):
        with pytest.raises(Invalid) as refused:
            service.decide(
                db,
                actor=doctor,
                course_id=course.id,
                choice="extend",
                reason="partial response",
                extra_sessions=extra,
            )
        assert refused.value.fields == {"extra_sessions": "1 to 12"}
    assert len(_planned(db, course.id)) == 6  # the induction series, nothing added
    with pytest.raises(Invalid) as refused:
        service.decide(
            db,
            actor=doctor,
            course_id=course.id,
            choice="titrate",
            reason="partial response",
            extra_sessions=13,
        )
    assert refused.value.fields == {"extra_sessions": "1 to 12"}


def test_the_clinic_s_planning_limits_bound_what_one_decision_plans(db: Session) -> None:
    """The medical director lowers the induction extension to 4 sessions and the boosters
    of each spacing to 3: an extension of 5 and 4 weekly boosters are refused with the
    clinic's bounds, 4 sessions are planned, and the decision form offers those bounds."""
    from ketaclinic.configuration import service as configuration
    from ketaclinic.platform.accounts import service as accounts
    from tests.conftest import make_user

    director = accounts.actor_for(make_user(db, ["prescriber", "admin"], username="dr.limits"))
    for target, value in (("induction_extension", "4"), ("boosters_per_spacing", "3")):
        configuration.override(
            db, actor=director, table_key="course.planning_limits", target=target,
            field="most", value=value, reason="one series at a time, then we evaluate",
        )  # fmt: skip
    patient, course = a_patient_on_course(db)
    doctor = signer(db)
    screen = service.decision_screen(db, actor=doctor, course_id=course.id)
    assert screen.limits == {"induction_extension": 4, "boosters_per_spacing": 3}
    with pytest.raises(Invalid) as refused:
        service.decide(
            db, actor=doctor, course_id=course.id, choice="extend", reason="partial response",
            extra_sessions=5,
        )  # fmt: skip
    assert refused.value.fields == {"extra_sessions": "1 to 4"}
    with pytest.raises(Invalid) as refused:
        service.decide(
            db, actor=doctor, course_id=course.id, choice="maintenance", reason="remission",
            schedule_id="iv_taper", weekly=4,
        )  # fmt: skip
    assert refused.value.fields == {"weekly": "0 to 3"}
    done = service.decide(
        db, actor=doctor, course_id=course.id, choice="extend", reason="partial response",
        extra_sessions=4,
    )  # fmt: skip
    assert [p.number for p in done.planned] == [7, 8, 9, 10]


def test_maintenance_plans_boosters_tapering_weekly_to_monthly(db: Session) -> None:
    patient, course = a_patient_on_course(db)
    doctor = signer(db)
    done = service.decide(
        db,
        actor=doctor,
        course_id=course.id,
        choice="maintenance",
        reason="remission after the induction",
        schedule_id="iv_taper",
    )
    start = clinic_today()
    # iv_taper: 2 weekly, 2 fortnightly, 2 monthly: days 7, 14, 28, 42, 70, 98.
    assert [(p.kind, (p.earliest_on - start).days) for p in done.planned if p.earliest_on] == [
        ("booster", 7),
        ("booster", 14),
        ("booster", 28),
        ("booster", 42),
        ("booster", 70),
        ("booster", 98),
    ]
    assert [p.number for p in done.planned] == [7, 8, 9, 10, 11, 12]
    assert course.series_sessions == 6
    assert done.decision.schedule is not None
    assert done.decision.schedule["gaps_days"] == [7, 7, 14, 14, 28, 28]
    assert done.decision.schedule["changed_for_this_course"] == {}


def test_a_maintenance_schedule_changed_for_one_course_is_recorded(db: Session) -> None:
    _, course = a_patient_on_course(db)
    done = service.decide(
        db,
        actor=signer(db),
        course_id=course.id,
        choice="maintenance",
        reason="patient travels: monthly only",
        schedule_id="iv_taper",
        weekly=0,
        fortnightly=0,
        monthly=3,
    )
    start = clinic_today()
    assert [(p.earliest_on - start).days for p in done.planned if p.earliest_on] == [28, 56, 84]
    assert done.decision.schedule is not None
    assert done.decision.schedule["changed_for_this_course"] == {
        "weekly": {"declared": 2, "chosen": 0},
        "fortnightly": {"declared": 2, "chosen": 0},
        "monthly": {"declared": 2, "chosen": 3},
    }


def test_stopping_a_course_cancels_its_planned_sessions(db: Session) -> None:
    _, course = a_patient_on_course(db)
    done = service.decide(
        db, actor=signer(db), course_id=course.id, choice="stop", reason="no response after 6"
    )
    assert done.order is None
    assert course.status == "stopped"
    assert {p.status for p in _planned(db, course.id)} == {"cancelled"}


def test_switching_route_opens_the_next_course_with_a_draft_order_and_its_series(
    db: Session,
) -> None:
    patient, course = a_patient_on_course(db)
    cleared_patient(db, patient.id, route="intranasal")
    doctor = signer(db)
    done = service.decide(
        db,
        actor=doctor,
        course_id=course.id,
        choice="switch_route",
        reason="IV infusions not tolerated: try esketamine",
        protocol_id="in_esketamine",
    )
    assert course.status == "stopped" and course.end_reason is not None
    assert "switching route to in_esketamine" in course.end_reason
    assert {p.status for p in _planned(db, course.id)} == {"cancelled"}
    new = done.next_course
    assert new is not None and new.status == "active" and new.protocol_id == "in_esketamine"
    assert new.indication == course.indication
    # SPRAVATO weeks 1-4 twice a week: 8 induction sessions; 56 mg on day 1 under 65
    # (the patient was born in 1980).
    assert [(p.number, p.kind, p.status) for p in done.planned] == [
        (n, "induction", "planned") for n in range(1, 9)
    ]
    assert done.order is not None and done.order.status == "draft"
    assert done.order.course_id == new.id and done.order.dose_mg == 56
    assert done.order.signed_at is None
    assert done.decision.order_id == done.order.id
    assert done.decision.planned_session_ids == [p.id for p in done.planned]
    assert orders.active_course(db, actor=doctor, patient_id=patient.id) is new


def test_a_switch_the_candidacy_decision_does_not_cover_changes_nothing(db: Session) -> None:
    patient, course = a_patient_on_course(db)
    doctor = signer(db)
    screen = service.decision_screen(db, actor=doctor, course_id=course.id)
    esketamine = next(o for o in screen.switch_options if o.protocol_id == "in_esketamine")
    assert not esketamine.covered
    assert esketamine.evaluate_path == f"/patients/{patient.id}/intake/new?route=intranasal"
    with pytest.raises(Conflict) as refused:
        service.decide(
            db,
            actor=doctor,
            course_id=course.id,
            choice="switch_route",
            reason="IV infusions not tolerated",
            protocol_id="in_esketamine",
        )
    assert "covers the intravenous route, not intranasal" in refused.value.detail
    assert f"/patients/{patient.id}/intake/new?route=intranasal" in refused.value.detail
    assert course.status == "active"
    assert [c.id for c in orders.courses(db, actor=doctor, patient_id=patient.id)] == [course.id]
    assert not db.scalars(select(CourseDecision)).all()


def test_a_switch_names_a_protocol_on_another_route(db: Session) -> None:
    patient, course = a_patient_on_course(db)
    doctor = signer(db)
    for protocol_id, field in ((None, "protocol_id"), ("iv_ketamine", "protocol_id")):
        with pytest.raises(Invalid) as refused:
            service.decide(
                db,
                actor=doctor,
                course_id=course.id,
                choice="switch_route",
                reason="switch",
                protocol_id=protocol_id,
            )
        assert field in refused.value.fields
    assert course.status == "active"


def _monthly_phq9(db: Session, patient_id: int, total: int, at: datetime) -> None:
    nurse = a_user(db, "nurse", "nurse.n") if not hasattr(_monthly_phq9, "nurse") else None
    actor = nurse or _monthly_phq9.nurse  # type: ignore[attr-defined]
    _monthly_phq9.nurse = actor  # type: ignore[attr-defined]
    outcomes.record_response(
        db,
        actor=actor,
        patient_id=patient_id,
        instrument_id="phq9",
        answers=phq9(total),
        context="monthly",
        completed_at=at,
    )


def test_two_phq9_scores_back_at_10_propose_a_booster_that_the_prescriber_accepts(
    db: Session,
) -> None:
    if hasattr(_monthly_phq9, "nurse"):
        del _monthly_phq9.nurse
    patient, course = a_patient_on_course(db)
    doctor = signer(db)
    primary = a_user(db, "prescriber", "dr.primary")
    on_team(db, patient, primary, "prescriber", primary=True)
    decided = service.decide(
        db,
        actor=doctor,
        course_id=course.id,
        choice="maintenance",
        reason="remission",
        schedule_id="iv_taper",
    ).decision
    at = decided.decided_at + timedelta(minutes=1)
    _monthly_phq9(db, patient.id, 6, at)
    _monthly_phq9(db, patient.id, 10, at + timedelta(seconds=1))
    assert db.scalar(select(BoosterProposal)) is None  # one score at 10 is not two
    _monthly_phq9(db, patient.id, 12, at + timedelta(seconds=2))
    proposal = db.scalar(select(BoosterProposal))
    assert proposal is not None
    assert proposal.source == "relapse_rule" and proposal.status == "proposed"
    assert "10, 12" in proposal.signal
    assert proposal.notified == ["dr.primary"]
    # A third high score does not propose a second booster while one waits.
    _monthly_phq9(db, patient.id, 13, at + timedelta(seconds=3))
    assert len(db.scalars(select(BoosterProposal)).all()) == 1

    accepted = service.accept_booster(db, actor=doctor, proposal_id=proposal.id)
    assert accepted.status == "accepted"
    booster = db.get(PlannedSession, accepted.planned_session_id)
    assert booster is not None
    assert (booster.kind, booster.status, booster.number) == ("booster", "planned", 13)
    with pytest.raises(Conflict):
        service.decline_booster(db, actor=doctor, proposal_id=proposal.id, reason="too late")


def test_scores_before_maintenance_propose_nothing(db: Session) -> None:
    if hasattr(_monthly_phq9, "nurse"):
        del _monthly_phq9.nurse
    patient, _ = a_patient_on_course(db)
    now = datetime.now(UTC)
    _monthly_phq9(db, patient.id, 15, now - timedelta(minutes=2))
    _monthly_phq9(db, patient.id, 16, now - timedelta(minutes=1))
    assert db.scalar(select(BoosterProposal)) is None


def test_a_patient_asks_for_a_booster_and_the_prescriber_declines_with_a_reason(
    db: Session,
) -> None:
    from ketaclinic.platform.accounts import service as accounts
    from tests.conftest import make_user

    patient, course = a_patient_on_course(db)
    me = accounts.actor_for(make_user(db, "patient", username="pat", patient_id=patient.id))
    asked = service.request_booster(db, actor=me, note="low week")
    assert asked.source == "patient_request" and "low week" in asked.signal
    with pytest.raises(Conflict):
        service.request_booster(db, actor=me)
    with pytest.raises(Invalid):
        service.decline_booster(db, actor=signer(db), proposal_id=asked.id, reason="")
    declined = service.decline_booster(
        db, actor=signer(db), proposal_id=asked.id, reason="next booster is in 3 days"
    )
    assert declined.status == "declined" and declined.decline_reason == "next booster is in 3 days"
    plan = service.my_plan(db, actor=me)
    assert plan.has_course and len(plan.planned) == 6 and plan.proposal is None


def test_a_therapist_books_a_preparation_in_a_room_and_signs_a_versioned_note(
    db: Session,
) -> None:
    therapist = a_user(db, "therapist", "therapist.nguyen")
    patient, _ = a_patient_on_course(db)
    on_team(db, patient, therapist, "therapist")
    room = a_room(db)
    assert therapist.user_id is not None
    with pytest.raises(Invalid) as no_room:
        service.schedule_therapy(
            db,
            actor=therapist,
            patient_id=patient.id,
            phase="preparation",
            therapist_user_id=therapist.user_id,
            starts_at=SOON,
        )
    assert no_room.value.fields == {"room_id": "required"}
    session = service.schedule_therapy(
        db,
        actor=therapist,
        patient_id=patient.id,
        phase="preparation",
        therapist_user_id=therapist.user_id,
        starts_at=SOON,
        room_id=room.id,
    )
    appointment = db.get(Appointment, session.appointment_id)
    assert appointment is not None
    assert (appointment.kind, appointment.chair_id, appointment.nurse_user_id) == (
        "therapy",
        room.id,
        None,
    )
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=60)
    with pytest.raises(Conflict):
        service.schedule_therapy(
            db,
            actor=therapist,
            patient_id=patient.id,
            phase="integration",
            therapist_user_id=therapist.user_id,
            starts_at=SOON + timedelta(minutes=30),
            room_id=room.id,
        )
    with pytest.raises(Invalid) as wrong:
        service.sign_therapy_note(
            db,
            actor=therapist,
            therapy_session_id=session.id,
            password="wrong",
            goals="feel less stuck",
            risk_review="no current ideation",
        )
    assert "password" in wrong.value.fields
    note = service.sign_therapy_note(
        db,
        actor=therapist,
        therapy_session_id=session.id,
        password=PASSWORD,
        goals="feel less stuck",
        themes="grief",
        homework="journal after each session",
        risk_review="no current ideation",
    )
    assert (note.kind, note.version, note.signed_by) == ("note", 1, "therapist.nguyen")
    assert note.signature_meaning == service.THERAPY_NOTE_MEANING
    assert session.status == "completed" and appointment.status == "completed"
    with pytest.raises(Conflict):
        service.sign_therapy_note(
            db,
            actor=therapist,
            therapy_session_id=session.id,
            password=PASSWORD,
            goals="again",
            risk_review="again",
        )
    addendum = service.add_therapy_addendum(
        db,
        actor=therapist,
        therapy_session_id=session.id,
        text="patient called: homework changed",
        password=PASSWORD,
    )
    assert (addendum.kind, addendum.version) == ("addendum", 2)
    db.commit()
    note.goals = "rewritten"
    with pytest.raises(ValueError, match="cannot be changed"):
        db.flush()
    db.rollback()
    kept = db.scalar(select(TherapyNote.goals).where(TherapyNote.id == note.id))
    assert kept == "feel less stuck"


def test_a_cssrs_screen_in_the_risk_review_raises_an_alert_to_the_primary_clinician(
    db: Session,
) -> None:
    therapist = a_user(db, "therapist", "therapist.nguyen")
    primary = a_user(db, "prescriber", "dr.primary")
    patient, _ = a_patient_on_course(db)
    on_team(db, patient, therapist, "therapist")
    on_team(db, patient, primary, "prescriber", primary=True)
    assert therapist.user_id is not None
    session = service.schedule_therapy(
        db,
        actor=therapist,
        patient_id=patient.id,
        phase="support",
        therapist_user_id=therapist.user_id,
        starts_at=SOON,
    )
    assert session.appointment_id is None
    with pytest.raises(Invalid):
        service.sign_therapy_note(
            db,
            actor=therapist,
            therapy_session_id=session.id,
            password=PASSWORD,
            goals="stay with the experience",
            themes="fear",
            risk_review="passive thoughts of death",
            cssrs_indicated=True,
        )
    note = service.sign_therapy_note(
        db,
        actor=therapist,
        therapy_session_id=session.id,
        password=PASSWORD,
        goals="stay with the experience",
        themes="fear",
        risk_review="passive thoughts of death",
        cssrs_indicated=True,
        cssrs_answers={"item1": 1, "item2": 1, "item3": 0, "item4": 1, "item5": 0, "item6": 0},
    )
    assert note.cssrs_risk == "high"
    alert = db.scalar(select(SuicidalityAlert))
    assert alert is not None and alert.notified == ["dr.primary"]


def test_the_patient_reads_their_scores_in_plain_words() -> None:
    assert service.score_words("phq9", 16, None, "moderately_severe") == (
        "16: moderately severe range; your first score"
    )
    assert service.score_words("phq9", 8, 16, "mild") == (
        "8: mild range; 8 points lower than your first score (16), an improvement"
    )
    assert service.score_words("phq9", 18, 16, "moderately_severe") == (
        "18: moderately severe range; 2 points higher than your first score (16)"
    )


def test_a_finished_induction_waits_for_a_decision_first_with_its_primary_clinician(
    db: Session,
) -> None:
    primary = a_user(db, "prescriber", "dr.primary")
    patient, course = a_patient_on_course(db)
    other, other_course = a_patient_on_course(db, given_name="Ben")
    on_team(db, patient, primary, "prescriber", primary=True)
    for c in (course, other_course):
        for p in _planned(db, c.id)[:5]:
            orders.mark_planned_session(
                db, actor=primary, planned_session_id=p.id, status="completed"
            )
    assert service.decisions_due(db, actor=primary) == []
    for c in (course, other_course):
        last = _planned(db, c.id)[5]
        orders.mark_planned_session(
            db, actor=primary, planned_session_id=last.id, status="completed"
        )
    due = service.decisions_due(db, actor=primary)
    assert [(r.course.id, r.mine) for r in due] == [(course.id, True), (other_course.id, False)]
    service.decide(
        db, actor=primary, course_id=course.id, choice="extend", reason="partial", extra_sessions=2
    )
    assert [r.course.id for r in service.decisions_due(db, actor=primary)] == [other_course.id]


def test_the_therapists_home_splits_sessions_held_and_unwritten_from_those_to_come(
    db: Session,
) -> None:
    therapist = a_user(db, "therapist", "therapist.nguyen")
    patient, _ = a_patient_on_course(db)
    on_team(db, patient, therapist, "therapist")
    room = a_room(db)
    assert therapist.user_id is not None
    booked = [
        service.schedule_therapy(
            db,
            actor=therapist,
            patient_id=patient.id,
            phase=phase,
            therapist_user_id=therapist.user_id,
            starts_at=SOON + timedelta(days=offset),
            room_id=room.id,
        )
        for phase, offset in (("preparation", 0), ("integration", 3))
    ]
    # The preparation was held this morning (moved back, as time would have).
    booked[0].starts_at = datetime.now(UTC) - timedelta(hours=3)
    db.flush()
    home = service.therapist_home(db, actor=therapist)
    assert home is not None
    assert [s.id for s in home.to_write] == [booked[0].id]
    assert [s.id for s in home.next_sessions] == [booked[1].id]
    assert [p.id for p in home.patients] == [patient.id]
    assert home.names[patient.id] == patient.display_name
