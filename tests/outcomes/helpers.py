"""Building outcome test data through the real services."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from ketaclinic.orders.models import Course
from ketaclinic.outcomes.service import context, summaries
from ketaclinic.outcomes.service.context import SessionGiven
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import SYSTEM, Actor
from tests.conftest import committed, make_user
from tests.patients.factories import a_patient


@committed
def staff(db: Session, role: str | list[str], username: str | None = None) -> Actor:
    return accounts.actor_for(make_user(db, role, username=username))


@committed
def a_course(
    db: Session,
    patient_id: int,
    *,
    created_at: datetime,
    indication: str = "treatment_resistant_depression",
    protocol_id: str = "iv_ketamine",
    series: int = 6,
) -> Course:
    course = Course(
        patient_id=patient_id,
        protocol_id=protocol_id,
        indication=indication,
        status="active",
        series_sessions=series,
        created_by="dr.test",
        created_at=created_at,
    )
    db.add(course)
    db.flush()
    # As opening a course through orders does: outcomes starts keeping where it stands.
    summaries.refresh_course_summaries(db, patient_id=patient_id)
    db.commit()
    return course


def given_sessions(monkeypatch: pytest.MonkeyPatch, times: dict[int, list[datetime]]) -> None:
    """Completed sessions per patient id (the sessions area is tested on its own)."""

    def fake(db: Session, *, actor: Actor, patient_id: int) -> list[SessionGiven]:
        return [SessionGiven(n, at) for n, at in enumerate(times.get(patient_id, []), start=1)]

    def fake_of(db: Session, *, patient_ids: Collection[int]) -> dict[int, list[SessionGiven]]:
        return {pid: fake(db, actor=SYSTEM, patient_id=pid) for pid in patient_ids}

    monkeypatch.setattr(context, "sessions_given", fake)
    monkeypatch.setattr(context, "sessions_given_of", fake_of)


PHQ9_ITEMS = [f"item{n}" for n in range(1, 10)]


def phq9(total: int, item9: int = 0) -> dict[str, int]:
    """PHQ-9 answers adding up to ``total`` with item 9 as given."""
    left = total - item9
    values = []
    for _ in range(8):
        v = min(3, left)
        values.append(v)
        left -= v
    assert left == 0, "total too high for the given item 9"
    return dict(zip(PHQ9_ITEMS, values + [item9], strict=True))


__all__ = ["a_course", "a_patient", "given_sessions", "phq9", "staff"]
