"""Each demo role lands on its own home page, and the figures on it are the clinic's."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ketaclinic import demo
from ketaclinic.demo import scale
from ketaclinic.platform.db import utcnow
from tests.conftest import login
from tests.demo.test_scale import _statements as statements


def figures(page: str) -> dict[str, str]:
    """The figures a home page shows, by name (``data-figure``)."""
    return dict(re.findall(r'data-figure="([^"]+)">([^<]*)<', page))


@pytest.mark.parametrize(
    ("username", "headings"),
    [
        ("nurse.okafor", ["At the chairs today"]),
        ("dr.rivera", ["To sign and decide"]),
        ("desk.baker", ["The front desk today"]),
        ("dr.chen", ["To sign and decide", "Safety and outcomes"]),
        ("therapist.nguyen", ["My therapy patients"]),
        ("admin", ["Safety and outcomes"]),
    ],
)
def test_each_demo_role_lands_on_its_home(
    client: TestClient, db: Session, username: str, headings: list[str]
) -> None:
    db.rollback()
    login(client, username, demo.PASSWORD)
    page = client.get("/")
    assert page.status_code == 200
    shown = re.findall(r'<h2 id="home-[a-z_]+-title">([^<]+)</h2>', page.text)
    assert shown == headings


def _seeded(db: Session, *, patients: int, sessions: int) -> None:
    """Recent history: ``patients`` patients of ``sessions`` sessions each. The seeder's
    courses open about 240 days before ``before`` and give 10 sessions over some 140 days,
    so ending it 110 days ahead puts their last sessions in the homes' last 30 days."""
    scale.seed(
        db,
        clinic_years=0.01,
        before=utcnow() + timedelta(days=110),
        patients=patients,
        sessions_per_patient=sessions,
        vitals_per_session=10,
        seed=patients * 1000 + sessions,
    )
    db.commit()


@pytest.mark.real_commits
def test_every_home_runs_as_many_statements_for_100_sessions_as_for_10(
    client: TestClient, db: Session
) -> None:
    homes = ("nurse.okafor", "dr.rivera", "desk.baker", "dr.chen", "therapist.nguyen")
    _seeded(db, patients=1, sessions=10)
    db.rollback()
    clients = {name: TestClient(client.app) for name in homes}
    small = {}
    for username, each in clients.items():
        login(each, username, demo.PASSWORD)
        statements(each, "/")  # warm: the first request reads the clinic's settings
        small[username] = statements(each, "/")
    before = figures(clients["dr.chen"].get("/").text)
    _seeded(db, patients=9, sessions=10)
    db.rollback()
    after = figures(clients["dr.chen"].get("/").text)
    # The history is the homes' own: more sessions dosed in the last 30 days.
    assert int(after["safety-sessions"]) > int(before["safety-sessions"])
    for username, each in clients.items():
        large = statements(each, "/")
        assert large <= small[username], (
            f"{username}: {small[username]} statements for 10 sessions, {large} for 100"
        )
