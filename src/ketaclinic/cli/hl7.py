"""Bedside monitors from the command line.

- ``ketaclinic hl7 listen --port 2575``: the MLLP listener for ORU^R01 (IHE PCD-01).
- ``ketaclinic hl7 simulate --chairs 4``: simulated monitors for the sessions in progress
  that have a monitor bound.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Annotated

import typer

from ketaclinic.cli.common import database, fail, settings
from ketaclinic.cli.jobs import session_factory
from ketaclinic.cli.main import app

hl7_app = typer.Typer(help="Bedside monitors: HL7 v2 over MLLP.", no_args_is_help=True)
app.add_typer(hl7_app, name="hl7")


@hl7_app.command("listen")
def listen(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 2575,
) -> None:
    """Receive ORU^R01 vital signs from bedside monitors until stopped (Ctrl-C)."""
    from ketaclinic.interop.hl7.listener import Listener

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    zone = settings().zone
    with session_factory() as factory:
        listener = Listener(factory, zone=zone)

        async def main() -> None:
            bound = await listener.start(host, port)
            typer.echo(f"ketaclinic hl7: listening for MLLP on {host}:{bound}")
            try:
                await asyncio.Event().wait()
            finally:
                await listener.stop()

        try:
            asyncio.run(main())
        except KeyboardInterrupt:
            typer.echo("ketaclinic hl7: stopped")


@hl7_app.command("simulate")
def simulate(
    chairs: Annotated[int, typer.Option(min=1, max=200, help="monitors to simulate")] = 4,
    host: Annotated[str, typer.Option(help="the listener's address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 2575,
    every: Annotated[float, typer.Option(min=0.0, help="seconds between rounds")] = 5.0,
    count: Annotated[int, typer.Option(min=1, help="messages per monitor")] = 12,
    surge_at: Annotated[
        int | None, typer.Option(help="send a 205/115 reading in this round (an alarm)")
    ] = None,
    seed: Annotated[int, typer.Option(help="random seed of the readings")] = 1,
) -> None:
    """Send PCD-01 messages for the sessions in progress that have a monitor bound."""
    from ketaclinic.interop import service
    from ketaclinic.interop.hl7 import simulator

    with database() as db:
        found = service.monitored_chairs(db)[:chairs]
    if not found:
        raise fail("no session in progress has a monitor bound; bind one on the session page")
    rng = random.Random(seed)  # noqa: S311 - simulated readings, not secrets
    monitors = [
        simulator.Monitor(c.device_id, c.mrn, random.Random(rng.random()))  # noqa: S311
        for c in found
    ]
    typer.echo(f"simulating {len(monitors)} monitor(s) against {host}:{port}")
    try:
        codes = simulator.run(
            monitors, host=host, port=port, every=every, count=count, surge_at=surge_at
        )
    except OSError as exc:
        raise fail(f"cannot reach the listener at {host}:{port}: {exc}") from None
    typer.echo("acknowledgements: " + ", ".join(f"{k} {v}" for k, v in sorted(codes.items())))
