"""Each demo role lands on its own home page, and the figures on it are the clinic's."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ketaclinic import demo
from tests.conftest import login


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
    open(f"/tmp/homes/{username}.html", "w").write(page.text)
