"""``ketaclinic hl7 simulate`` sends PCD-01 messages for the sessions in progress."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ketaclinic.cli import app
from ketaclinic.interop.hl7.listener import running
from ketaclinic.platform.db import make_session_factory
from ketaclinic.sessions.models import VitalSign
from tests.interop.factories import infusing_chair
from tests.sessions.factories import staff


def test_the_simulator_charts_readings_for_each_monitored_chair(
    cli: CliRunner, db: Session, engine: Engine
) -> None:
    team = staff(db)
    chairs = [infusing_chair(db, team, device_id=f"SIM-{i}") for i in range(2)]
    with running(make_session_factory(engine), zone=ZoneInfo("UTC")) as (_, port):
        result = cli.invoke(
            app,
            [
                "hl7",
                "simulate",
                "--chairs",
                "4",
                "--port",
                str(port),
                "--every",
                "0",
                "--count",
                "3",
            ],
        )
    assert result.exit_code == 0, result.output
    assert "simulating 2 monitor(s)" in result.output
    assert "acknowledgements: AA 6" in result.output
    db.rollback()
    for chair in chairs:
        charted = db.scalars(
            select(VitalSign).where(
                VitalSign.session_id == chair.session_id, VitalSign.source == "device"
            )
        ).all()
        assert len(charted) == 3


def test_the_simulator_says_when_no_monitor_is_bound(cli: CliRunner) -> None:
    result = cli.invoke(app, ["hl7", "simulate", "--port", "1"])
    assert result.exit_code == 1
    assert "no session in progress has a monitor bound" in result.output
