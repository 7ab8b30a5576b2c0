"""Each demo role logs in and lands on its own home page, whose figures are the clinic's
own (counted here straight from the tables)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.billing.models import Estimate
from ketaclinic.care.models import CareTeamMember
from ketaclinic.controlled.models import Discrepancy
from ketaclinic.orders.models import Order
from ketaclinic.outcomes.models import SuicidalityAlert
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.settings import Settings
from ketaclinic.public.models import IntakeLead
from ketaclinic.scheduling.service import day_bounds
from ketaclinic.sessions.models import InfusionSession, SessionAlarm
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def _count(db: Session, query: object) -> int:
    return int(db.scalar(query) or 0)  # type: ignore[call-overload]


def _expected(db: Session, settings: Settings) -> dict[str, dict[str, int]]:
    starts, ends = day_bounds(datetime.now(settings.zone).date(), settings.zone)
    todays = select(InfusionSession.id).where(
        InfusionSession.created_at >= starts, InfusionSession.created_at < ends
    )
    therapist = db.scalar(select(User.id).where(User.username == "therapist.nguyen"))
    prescriber = {
        "orders-to-sign": _count(
            db, select(func.count()).select_from(Order).where(Order.status == "draft")
        ),
        "alerts-open": _count(
            db,
            select(func.count())
            .select_from(SuicidalityAlert)
            .where(SuicidalityAlert.status == "open"),
        ),
    }
    discrepancies = {
        "discrepancies-open": _count(
            db, select(func.count()).select_from(Discrepancy).where(Discrepancy.status == "open")
        )
    }
    return {
        "nurse.okafor": {
            "alarms-open": _count(
                db,
                select(func.count())
                .select_from(SessionAlarm)
                .where(SessionAlarm.session_id.in_(todays), SessionAlarm.acknowledged_at.is_(None)),
            ),
        },
        "dr.rivera": prescriber,
        "desk.baker": {
            "leads-new": _count(
                db, select(func.count()).select_from(IntakeLead).where(IntakeLead.status == "new")
            ),
            "estimates-due": _count(
                db, select(func.count()).select_from(Estimate).where(Estimate.status == "due")
            ),
        },
        "dr.chen": prescriber | discrepancies,
        "admin": discrepancies,
        "therapist.nguyen": {
            "care-team-patients": _count(
                db,
                select(func.count(func.distinct(CareTeamMember.patient_id))).where(
                    CareTeamMember.user_id == therapist,
                    CareTeamMember.role == "therapist",
                    CareTeamMember.ended_at.is_(None),
                ),
            ),
        },
    }


HEADINGS = {
    "nurse.okafor": ["At the chairs today"],
    "dr.rivera": ["To sign and decide"],
    "desk.baker": ["The front desk today"],
    "dr.chen": ["To sign and decide", "Safety and outcomes"],
    "admin": ["Safety and outcomes"],
    "therapist.nguyen": ["My therapy patients"],
}


def test_each_role_lands_on_its_home_and_its_figures_match_the_clinic(
    live_server: str, browser: object, db: Session, settings: Settings
) -> None:
    expected = _expected(db, settings)
    db.rollback()
    assert expected["dr.rivera"]["orders-to-sign"] > 0  # the demo drafts orders to sign
    for username, headings in HEADINGS.items():
        context = browser.new_context()  # type: ignore[attr-defined]
        page = context.new_page()
        page.set_default_timeout(10_000)
        log_in(page, live_server, username)
        assert page.url.rstrip("/") == live_server, username
        shown = page.locator("section.home-role > h2").all_inner_texts()
        assert shown == headings, username
        for name, value in expected[username].items():
            figure = page.locator(f'[data-figure="{name}"]').first
            assert figure.inner_text().strip() == str(value), (username, name)
        context.close()
