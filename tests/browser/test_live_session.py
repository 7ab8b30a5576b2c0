"""A reading sent by a bedside monitor over MLLP appears on the nurse's open session
screen without a reload, with the next reading due moved on; the alarm it raises beeps
(sound turned on) and is acknowledged from that screen, and a reading that arrived live
is marked entered in error from its row."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from hl7.client import MLLPClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.interop.hl7 import simulator
from ketaclinic.interop.hl7.listener import running
from ketaclinic.interop.hl7.messages import oru_r01
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.db import make_engine, make_session_factory, transaction, utcnow
from ketaclinic.platform.settings import Settings
from ketaclinic.sessions import service
from ketaclinic.sessions.demo import infusion_under_way
from ketaclinic.sessions.models import SessionAlarm, VitalSign
from tests.browser.conftest import log_in
from tests.browser.test_sessions import _iv_patient

pytestmark = [pytest.mark.browser, pytest.mark.real_commits]


def _infusing(db: Session, settings: Settings, start: datetime) -> tuple[Actor, int, str]:
    """A demo IV patient's infusion: its pre-dose reading at ``start``, the pump started a
    minute later. The nurse, the session and the MRN."""
    user = db.scalars(select(User).where(User.username == "nurse.okafor")).one()
    nurse = accounts.actor_for(user)
    row = infusion_under_way(
        db,
        nurse=nurse,
        patient_id=_iv_patient(settings),
        start=start,
        dose_at=start + timedelta(minutes=1),
        pre_dose={
            "heart_rate": 74,
            "systolic_bp": 126,
            "diastolic_bp": 80,
            "spo2": 98,
            "respiratory_rate": 14,
        },
    )
    return nurse, row.id, service.get_session(db, actor=nurse, session_id=row.id).patient.mrn


def test_a_monitor_reading_appears_live_and_its_alarm_is_acknowledged_there(
    live_server: str,
    page,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    engine = make_engine(settings.effective_database_url)
    factory = make_session_factory(engine)
    with transaction(factory) as db:
        nurse, session_id, mrn = _infusing(db, settings, utcnow() - timedelta(minutes=8))
        service.bind_device(db, actor=nurse, session_id=session_id, device_id="CHAIR3-MON")

    log_in(page, live_server, "nurse.okafor")
    page.goto(f"{live_server}/sessions/{session_id}#vitals")
    page.wait_for_selector("#live-state:text('(live)')")
    # Sound is the nurse's choice, made with a click (browsers allow sound after one).
    page.get_by_role("button", name="Sound on").click()
    page.wait_for_selector("#sound-toggle[aria-pressed='true']")
    beeps = int(page.get_attribute("#sound-toggle", "data-beeps") or 0)
    # Seven minutes in, the pre-dose reading standing for minute 0: minute 10 is next.
    assert "(10 min into the infusion)" in page.inner_text("#next-reading-line")
    page.evaluate("window.stillThisPage = true")
    with running(factory, zone=settings.zone) as (_, port), MLLPClient("127.0.0.1", port) as client:
        message = oru_r01(
            control_id="LIVE-1",
            mrn=mrn,
            device_id="CHAIR3-MON",
            at=utcnow(),
            values={"systolic_bp": 204, "diastolic_bp": 112, "heart_rate": 88, "spo2": 97},
        )
        sent = time.monotonic()
        assert simulator.ack_code(client.send_message(message)) == "AA"
        page.wait_for_selector("#latest-bp:text('204/112')", timeout=2000)
        page.wait_for_selector("#alarm-list [data-alarm]", timeout=2000)
        assert time.monotonic() - sent < 2.0
        # The monitor's reading stands for minute 10: the line moves on to minute 20,
        # redrawn from the stream without a reload.
        page.wait_for_selector("#next-reading-line:has-text('(20 min into the infusion)')")
        assert page.get_attribute("#next-reading-line", "class") == "next-upcoming"
        assert page.evaluate("window.stillThisPage === true")
        assert page.is_visible("#alarm-list")
        # A stop-level alarm arrived: three beeps, one cue for the update.
        assert int(page.get_attribute("#sound-toggle", "data-beeps") or 0) == beeps + 3
        # The trend chart drew the pre-dose reading and the monitor's: BP, pulse and SpO2.
        assert page.locator("#trend polyline").count() == 4
        assert "204/112" in page.inner_text("#vitals-table tbody tr:first-child")
        # inf_sbp_stop (>= 200 once) is among the alarms; acknowledge the first from here.
        assert "Systolic BP 204 mmHg" in page.inner_text("#alarm-list")
        first = page.locator("#alarm-list [data-alarm]").first
        alarm_id = int(first.get_attribute("data-alarm") or 0)
        first.get_by_label("What was done").fill("infusion stopped, prescriber called")
        first.get_by_role("button", name="Acknowledge").click()
        page.wait_for_url(f"**/sessions/{session_id}**")
        page.wait_for_selector("#live-state:text('(live)')")
        # A reading that arrives live can be marked entered in error from its own row.
        artefact = oru_r01(
            control_id="LIVE-2",
            mrn=mrn,
            device_id="CHAIR3-MON",
            at=utcnow(),
            values={"heart_rate": 161},
        )
        assert simulator.ack_code(client.send_message(artefact)) == "AA"
        row = page.locator("#vitals-table tbody tr.live-new").first
        row.wait_for(timeout=2000)
        assert "161" in row.inner_text()
        row.get_by_label("Why is this reading wrong").fill("probe moved: artefact")
        row.get_by_role("button", name="Mark in error").click()
        page.wait_for_url(f"**/sessions/{session_id}**")
    with factory() as db:
        alarm = db.get(SessionAlarm, alarm_id)
        assert alarm is not None and alarm.acknowledged_by == "nurse.okafor"
        marked = db.scalars(select(VitalSign).where(VitalSign.heart_rate == 161)).one()
        assert marked.session_id == session_id
        assert marked.error_reason == "probe moved: artefact"
        assert marked.entered_in_error_by == "nurse.okafor"
    engine.dispose()


def test_an_alarm_kept_open_without_a_reading_marked_in_error_is_redrawn_live(
    live_server: str,
    page,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    """Systolic 185 at 10 min and 186 at 15 min into the infusion raise the recheck (>= 180
    once, at the 185) and the pause (>= 180 on every reading for 5 min, at the 186). With
    the 185 marked entered in error at another screen, the pause no longer fires and
    leaves the nurse's open screen; the recheck stays, carried by the 186, and its words
    are redrawn there without a reload, keeping the note being typed into it."""
    engine = make_engine(settings.effective_database_url)
    factory = make_session_factory(engine)
    start = utcnow() - timedelta(minutes=20)
    dose = start + timedelta(minutes=1)
    with transaction(factory) as db:
        nurse, session_id, _ = _infusing(db, settings, start)
        charted = []
        for minutes, systolic in ((10, 185), (15, 186)):
            at = dose + timedelta(minutes=minutes)
            service.record_vitals(
                db, actor=nurse, session_id=session_id, taken_at=at, heart_rate=72,
                systolic_bp=systolic, diastolic_bp=90, spo2=98, respiratory_rate=14, now=at,
            )  # fmt: skip
            charted.append(
                db.scalars(
                    select(VitalSign.id).where(
                        VitalSign.session_id == session_id, VitalSign.systolic_bp == systolic
                    )
                ).one()
            )
        raised = {
            a.rule_id: a.id
            for a in db.scalars(select(SessionAlarm).where(SessionAlarm.session_id == session_id))
        }
    assert set(raised) == {"inf_sbp_recheck", "inf_sbp_pause"}

    log_in(page, live_server, "nurse.okafor")
    page.goto(f"{live_server}/sessions/{session_id}#alarms")
    page.wait_for_selector("#live-state:text('(live)')")
    recheck = page.locator(f"#alarm-list [data-alarm='{raised['inf_sbp_recheck']}']")
    assert "Systolic BP 185 mmHg" in recheck.inner_text()
    recheck.get_by_label("What was done").fill("cuff re-sited, rechecking")
    with transaction(factory) as db:
        service.mark_vitals_in_error(
            db, actor=nurse, session_id=session_id, vital_sign_id=charted[0],
            reason="cuff over the sleeve",
        )  # fmt: skip
    page.wait_for_selector(
        f"#alarm-list [data-alarm='{raised['inf_sbp_pause']}']", state="detached", timeout=3000
    )
    page.wait_for_selector(
        f"#alarm-list [data-alarm='{raised['inf_sbp_recheck']}']:has-text('Systolic BP 186 mmHg')",
        timeout=3000,
    )
    assert "185" not in recheck.inner_text()
    assert "15 min into the infusion" in recheck.inner_text()
    assert recheck.get_by_label("What was done").input_value() == "cuff re-sited, rechecking"
    assert page.locator("#alarm-list [data-alarm]").count() == 1
    engine.dispose()
