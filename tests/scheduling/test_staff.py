"""Chairs are renamed and deactivated, never deleted; duty spans are typed in local time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from ketaclinic.platform.errors import Conflict, Forbidden, Invalid
from ketaclinic.scheduling import service
from ketaclinic.scheduling.schemas import ChairIn, ChairUpdate
from tests.scheduling.factories import a_chair, a_team, on_duty


def test_front_desk_adds_renames_and_deactivates_a_chair(db: Session) -> None:
    team = a_team(db)
    chair = a_chair(db, team.desk, "Chair 1")
    service.update_chair(
        db, actor=team.admin, chair_id=chair.id, data=ChairUpdate(name="Window chair")
    )
    service.update_chair(db, actor=team.desk, chair_id=chair.id, data=ChairUpdate(active=False))
    rows = service.list_chairs(db, actor=team.nurse)
    assert [(c.name, c.active) for c in rows] == [("Window chair", False)]
    assert service.list_chairs(db, actor=team.desk, include_inactive=False) == []


def test_two_chairs_cannot_share_a_name(db: Session) -> None:
    team = a_team(db)
    a_chair(db, team.desk, "Chair 1")
    with pytest.raises(Conflict, match="already exists"):
        service.add_chair(db, actor=team.desk, data=ChairIn(name="chair 1"))


def test_nurses_and_prescribers_do_not_manage_chairs(db: Session) -> None:
    team = a_team(db)
    for who in (team.nurse, team.prescriber):
        with pytest.raises(Forbidden):
            service.add_chair(db, actor=who, data=ChairIn(name="Chair 9"))


def test_a_duty_span_is_typed_in_local_time_and_stored_in_utc(db: Session) -> None:
    team = a_team(db)
    span = on_duty(db, team.desk, team.nurse, "2030-07-01", "08:00", "16:30")
    # July: New York is on daylight time, UTC-4
    assert span.starts_at == datetime(2030, 7, 1, 12, 0, tzinfo=UTC)
    assert span.ends_at == datetime(2030, 7, 1, 20, 30, tzinfo=UTC)


def test_overlapping_duty_spans_are_refused(db: Session) -> None:
    team = a_team(db)
    on_duty(db, team.desk, team.nurse, "2030-07-01", "08:00", "12:00")
    with pytest.raises(Conflict, match="already has an on-duty span"):
        on_duty(db, team.desk, team.nurse, "2030-07-01", "11:00", "15:00")


def test_only_nurses_and_prescribers_go_on_the_duty_rota(db: Session) -> None:
    team = a_team(db)
    with pytest.raises(Invalid, match="neither a nurse nor a prescriber"):
        on_duty(db, team.desk, team.researcher, "2030-07-01", "08:00", "12:00")


def test_a_nurse_sees_only_her_own_spans(db: Session) -> None:
    team = a_team(db)
    on_duty(db, team.desk, team.nurse, "2030-07-01", "08:00", "12:00")
    on_duty(db, team.desk, team.nurse2, "2030-07-01", "08:00", "12:00")
    window = (datetime(2030, 7, 1, tzinfo=UTC), datetime(2030, 7, 2, tzinfo=UTC))
    mine = service.availability(db, actor=team.nurse, starts=window[0], ends=window[1])
    everyone = service.availability(db, actor=team.desk, starts=window[0], ends=window[1])
    assert [s.user_id for s in mine] == [team.nurse.user_id]
    assert len(everyone) == 2
    with pytest.raises(Forbidden):
        on_duty(db, team.nurse, team.nurse, "2030-07-02", "08:00", "12:00")
