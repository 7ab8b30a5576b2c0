"""Preparation before the first dose, for a protocol whose row in the clinic's
``course.preparation`` table asks for it (ketamine-assisted psychotherapy): a checklist
item of the course's first dosing session, met by a signed preparation therapy note,
lifted otherwise only by a prescriber's override with a reason."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ketaclinic.care import service as care
from ketaclinic.configuration import service as configuration
from ketaclinic.patients.models import Patient
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.errors import Conflict
from ketaclinic.sessions import service
from ketaclinic.sessions.models import InfusionSession
from tests.care.factories import a_room, a_user, on_team
from tests.conftest import PASSWORD, committed, make_user
from tests.sessions.conftest import at, ready_iv_session
from tests.sessions.factories import T0, Staff
from tests.sessions.test_pages import open_session
from tests.sessions.test_service import second_session


@committed
def _iv_as_kap(db: Session) -> None:
    """The medical director's override: IV ketamine here is given as KAP."""
    director = accounts.actor_for(make_user(db, ["prescriber", "admin"], username="dr.director"))
    configuration.override(
        db,
        actor=director,
        table_key="course.preparation",
        target="iv_ketamine",
        field="required",
        value="true",
        reason="our IV course is ketamine-assisted psychotherapy",
    )


def _item(db: Session, team: Staff, row: InfusionSession, minute: float = 1) -> object:
    state = service.get_session(db, actor=team.nurse, session_id=row.id, now=at(minute))
    found = [i for i in state.checklist if i.rule.id == "preparation"]
    return found[0] if found else None


@committed
def _signed_preparation(db: Session, row: InfusionSession) -> None:
    therapist = a_user(db, "therapist", "therapist.prep")
    on_team(db, db.get_one(Patient, row.patient_id), therapist, "therapist")
    assert therapist.user_id is not None
    booked = care.schedule_therapy(
        db,
        actor=therapist,
        patient_id=row.patient_id,
        phase="preparation",
        therapist_user_id=therapist.user_id,
        starts_at=T0 - timedelta(days=2),
        room_id=a_room(db).id,
        now=T0 - timedelta(days=3),
    )
    care.sign_therapy_note(
        db,
        actor=therapist,
        therapy_session_id=booked.id,
        password=PASSWORD,
        goals="set and setting, expectations",
        risk_review="no current suicidal ideation",
    )


def test_without_the_clinics_requirement_an_iv_course_has_no_preparation_item(
    db: Session, team: Staff
) -> None:
    row = ready_iv_session(db, team)
    assert _item(db, team, row) is None


def test_the_first_dose_waits_for_a_signed_preparation_note(db: Session, team: Staff) -> None:
    _iv_as_kap(db)
    row = ready_iv_session(db, team)
    item = _item(db, team, row)
    assert item is not None and not item.met  # type: ignore[attr-defined]
    assert "0 of 1 signed preparation note(s)" in item.text  # type: ignore[attr-defined]
    assert "ASKP3" in item.rule.basis  # type: ignore[attr-defined]
    with pytest.raises(Conflict, match="Preparation therapy note signed before the first dose"):
        service.chart_pump(db, actor=team.nurse, session_id=row.id, kind="start", now=at(1))

    _signed_preparation(db, row)
    item = _item(db, team, row)
    assert item is not None and item.met  # type: ignore[attr-defined]
    assert item.text == "1 signed preparation note(s) on file"  # type: ignore[attr-defined]
    service.chart_pump(db, actor=team.nurse, session_id=row.id, kind="start", now=at(1))


def test_a_prescriber_override_lifts_the_preparation_item(db: Session, team: Staff) -> None:
    _iv_as_kap(db)
    row = ready_iv_session(db, team)
    event = service.override_checklist(
        db,
        actor=team.prescriber,
        session_id=row.id,
        reason="preparation done at the referring therapist's practice",
        now=at(1),
    )
    assert event.detail["unmet"] == ["preparation"]
    service.chart_pump(db, actor=team.nurse, session_id=row.id, kind="start", now=at(1))


def test_the_second_session_of_the_course_asks_for_no_preparation(db: Session, team: Staff) -> None:
    sid = second_session(db, team, 48 * 60 + 2)  # the first dose was given before
    _iv_as_kap(db)
    state = service.get_session(db, actor=team.nurse, session_id=sid, now=at(48 * 60 + 3))
    assert "preparation" not in {i.rule.id for i in state.checklist}


def test_the_session_page_shows_the_preparation_item_unmet(client: TestClient, db: Session) -> None:
    _iv_as_kap(db)
    url, _, _ = open_session(client, db)
    page = client.get(url).text
    item = re.search(r'<li class="(\w+)" data-item="preparation">(.*?)</li>', page, re.S)
    assert item is not None and item.group(1) == "unmet"
    assert "Preparation therapy note signed before the first dose" in item.group(2)
    assert "0 of 1 signed preparation note(s)" in item.group(2)
