"""The vitals service's batch charting of monitor readings against a raw insert of the
same readings: issue-12's "vitals ingest in-process within 5x of the raw baseline".

Run on any migrated clinic (prints figures, never fails), e.g. one grown by
``ketaclinic demo --scale 10`` (``benchmarks/web.py`` runs it on its clinic):

    .venv/bin/python benchmarks/ingest.py --url sqlite:////path/ketaclinic.db \\
        --data-dir /path/data --repeat 9

Each repeat: ``--chairs`` IV sessions 3 minutes into their infusion, each with a monitor
bound (made through the services, sealed before the clock); then ``--per-chair``
readings a chair (BP, pulse, SpO2, breathing rate), interleaved as monitors send them,
charted by ``sessions.chart_device_groups`` (the sessions' dosing context, the prior
windows, the alarm rules, the kept figures, one audit row a session) in groups of the
listener's ``MAX_GROUP`` readings, one transaction and commit each, with the cyclic
garbage collector held off during a group as the listener's writer holds it (the
product's only caller of this path); beside it, the same number of readings inserted
into ``vital_signs`` with one ``executemany`` and one commit. The interface's part
(decoding HL7, matching, control ids, ACKs) is ``benchmarks/hl7.py``'s.

Times depend on the machine and on whoever else uses it: the ratio of each repeat is of
figures taken a moment apart, and the median of the ratios is the figure.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from ketaclinic.controlled import service as controlled
from ketaclinic.controlled.demo import SUPPLIER_DEA
from ketaclinic.orders.models import Course, Order
from ketaclinic.outcomes import service as outcomes
from ketaclinic.patients import service as patients
from ketaclinic.patients.schemas import PatientIn
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import chain
from ketaclinic.platform.db import transaction, utcnow
from ketaclinic.platform.roles import Role
from ketaclinic.sessions import service
from ketaclinic.sessions.demo import DEMO_PRE_DOSE, infusion_under_way
from ketaclinic.sessions.models import VitalSign

SETUP = Actor(user_id=None, username="benchmarks", roles=frozenset({Role.admin}))
PASSWORD = "bench-password-not-used"  # noqa: S105 - a benchmark clinic's own users


def chairs(factory: sessionmaker[Session], n: int, tag: str) -> list[tuple[int, str, str]]:
    """``n`` IV sessions 3 minutes into their infusion, each with a monitor bound."""
    start = utcnow() - timedelta(minutes=4)
    out = []
    with transaction(factory) as db:
        user = accounts.create_user(
            db,
            actor=SETUP,
            username=f"bench.nurse.{tag}",
            full_name="Bench Nurse",
            password=PASSWORD,
            roles=["nurse"],
        )
        db.flush()
        nurse = accounts.actor_for(user)
        # A clinic that keeps a controlled-substance ledger (the demo's) draws each dose
        # from stock: a lot received for the chairs.
        if controlled.ledger_configured(db):
            vials = [p for p in controlled.products(db) if p.substance == "ketamine"]
            controlled.receive(
                db,
                actor=nurse,
                location_id=controlled.locations(db)[0].id,
                product_id=vials[0].id,
                lot_number=f"BENCH-{tag}",
                expires_on=start.date() + timedelta(days=365),
                quantity=n,
                supplier="Benchmark supply",
                supplier_dea_number=SUPPLIER_DEA,
                reference=f"BENCH-{tag}",
            )
        # A clinic whose checklist asks more than the set-up answers (the demo's: signed
        # consents, a ledger entry) has a prescriber let each dose start.
        prescriber = accounts.actor_for(
            accounts.create_user(
                db,
                actor=SETUP,
                username=f"bench.prescriber.{tag}",
                full_name="Bench Prescriber",
                password=PASSWORD,
                roles=["prescriber"],
            )
        )
        for i in range(n):
            patient = patients.create_patient(
                db,
                actor=SETUP,
                data=PatientIn(
                    given_name="Bench",
                    family_name=f"Chair{i}",
                    sex="male",
                    date_of_birth=date(1975, 1, 1 + i % 28),
                ),
            )
            course = Course(
                patient_id=patient.id,
                protocol_id="iv_ketamine",
                indication="trd",
                status="active",
                series_sessions=6,
                created_by="bench",
            )
            db.add(course)
            db.flush()
            # Kept as the orders service keeps a course, so that the course dashboard
            # reads where it stands instead of deriving it (as for a course it lacks).
            outcomes.refresh_course_summaries(db, patient_id=patient.id)
            db.add(
                Order(
                    course_id=course.id,
                    patient_id=patient.id,
                    protocol_id="iv_ketamine",
                    route="intravenous",
                    status="signed",
                    dose_mg=35.0,
                    dose_mg_per_kg=0.5,
                    weight_kg=70.0,
                    concentration_mg_per_ml=50.0,
                    bag_volume_ml=100.0,
                    drug_volume_ml=0.7,
                    total_volume_ml=100.7,
                    rate_ml_per_h=151.1,
                    duration_min=40.0,
                    plan_steps=[],
                    overrides=[],
                    created_by="bench",
                    signed_by="bench",
                    signed_at=start - timedelta(days=1),
                )
            )
            db.flush()
            row = infusion_under_way(
                db,
                nurse=nurse,
                patient_id=patient.id,
                start=start,
                dose_at=start + timedelta(minutes=1),
                pre_dose=DEMO_PRE_DOSE,
                override_by=prescriber,
            )
            device = f"BENCH-{tag}-{i:03d}"
            service.bind_device(db, actor=nurse, session_id=row.id, device_id=device)
            out.append((row.id, patient.mrn, device))
        # The setting-up's own audit rows sealed now, not by the first timed commit (the
        # ingest seals at most once a second what it wrote itself).
        chain.seal(db, wait=True)
    return out


def chart_alone(
    factory: sessionmaker[Session], chairs: list[tuple[int, str, str]], per_chair: int
) -> float:
    """Seconds to chart the same readings through the vitals service's batch path
    (``sessions.chart_device_groups``: the sessions' context, the prior windows, the
    alarm rules, the kept figures, one audit row a session) without the interface's
    part (decoding, matching, control ids, ACKs): in groups of ``MAX_GROUP`` readings
    that arrived together, one transaction and commit each, the clinic's alarm limits
    read each group, and the cyclic garbage collector held off while a group is
    written, as the listener's writer does (its only caller in the product)."""
    from ketaclinic.configuration import service as configuration
    from ketaclinic.interop.hl7.listener import MAX_GROUP, _collector

    base = utcnow() - timedelta(seconds=per_chair)
    readings = [
        (
            session_id,
            service.DeviceMessage(
                f"alone-{index}-{k}",
                [
                    service.Measured(
                        taken_at=base + timedelta(seconds=k),
                        systolic_bp=124 + k % 7,
                        diastolic_bp=78,
                        heart_rate=70 + k % 5,
                        spo2=97,
                        respiratory_rate=14,
                    )
                ],
            ),
        )
        for k in range(per_chair)
        for index, (session_id, _, _) in enumerate(chairs)
    ]
    devices = {session_id: device for session_id, _, device in chairs}
    began = time.perf_counter()
    for start in range(0, len(readings), MAX_GROUP):
        by_session: dict[int, list[service.DeviceMessage]] = {}
        for session_id, message in readings[start : start + MAX_GROUP]:
            by_session.setdefault(session_id, []).append(message)
        with _collector.held(), transaction(factory) as db:
            limits = configuration.overrides_for(db, "monitoring.limits")
            service.chart_device_groups(
                db,
                groups=[
                    service.SessionMessages(
                        session_id,
                        Actor(user_id=None, username=f"device:{devices[session_id]}"),
                        devices[session_id],
                        messages,
                    )
                    for session_id, messages in by_session.items()
                ],
                limit_overrides=limits,
            )
    return time.perf_counter() - began


def raw_rows(session_id: int, rows: int) -> list[dict[str, Any]]:
    """``rows`` plain vital_signs rows of one session, a second apart, up to now."""
    now = utcnow()
    return [
        {
            "session_id": session_id,
            "taken_at": now - timedelta(seconds=rows - i),
            "heart_rate": 72,
            "systolic_bp": 125,
            "diastolic_bp": 80,
            "spo2": 97,
            "respiratory_rate": 14,
            "source": "device",
            "recorded_at": now,
        }
        for i in range(rows)
    ]


def raw_readings(factory: sessionmaker[Session], session_id: int, rows: int) -> tuple[float, float]:
    """Seconds and processor seconds to insert ``rows`` vital_signs rows with one
    ``executemany`` and one commit."""
    values = raw_rows(session_id, rows)
    with factory() as db:
        began, cpu = time.perf_counter(), time.process_time()
        db.execute(insert(VitalSign), values)
        db.commit()
        return time.perf_counter() - began, time.process_time() - cpu


def measure(
    factory: sessionmaker[Session], *, repeats: int, n_chairs: int = 20, per_chair: int = 100
) -> dict[str, Any]:
    """``repeats`` runs of ``chart_alone`` beside ``raw_readings`` of as many rows."""
    # What is alive now lives as long as the process, out of the collector's reach, as
    # the listener moves it when it starts (``Listener.start``).
    gc.freeze()
    tag = f"{int(time.time()) % 100000}"
    # Once unmeasured: the first group of a process compiles its statements.
    chart_alone(factory, chairs(factory, n_chairs, f"{tag}w"), 10)
    runs = []
    for repeat in range(repeats):
        found = chairs(factory, n_chairs, f"{tag}i{repeat}")
        alone = chart_alone(factory, found, per_chair)
        raw, _ = raw_readings(factory, found[0][0], n_chairs * per_chair)
        runs.append((alone, raw))
    ratios = [alone / raw for alone, raw in runs]
    return {
        "readings": n_chairs * per_chair,
        "chairs": n_chairs,
        "charted_ms": [round(a * 1000, 1) for a, _ in runs],
        "raw_ms": [round(r * 1000, 1) for _, r in runs],
        "ratios": [round(r, 2) for r in ratios],
        "median_ratio": round(statistics.median(ratios), 2),
    }


def describe(found: dict[str, Any]) -> str:
    return (
        f"vitals ingest in process: {found['readings']} readings from {found['chairs']} "
        f"chairs charted by the vitals service a group at a time, median of "
        f"{len(found['ratios'])}: {found['median_ratio']}x a raw executemany of as many "
        f"rows (each repeat: {', '.join(f'{r}x' for r in found['ratios'])}; charted "
        f"{statistics.median(found['charted_ms'])} ms, raw {statistics.median(found['raw_ms'])} ms)"
    )


def python_hl7_first() -> None:
    """This folder holds a benchmark named like the python-hl7 package that the monitor
    interface imports (``hl7.py``): run from here, the folder comes first on the path and
    would shadow the package. Moved to the end, so ``import hl7`` finds the package."""
    here = Path(__file__).resolve().parent
    kept = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.path[:] = [*kept, str(here)]
    if getattr(sys.modules.get("hl7"), "__file__", None) == str(here / "hl7.py"):
        del sys.modules["hl7"]


def measure_on(url: str, settings: Any, **options: Any) -> dict[str, Any]:
    """``measure`` on the clinic at ``url``, its audit trail keyed and checkpointed by
    ``settings``' data folder as the app's is (``platform/app.py``)."""
    from ketaclinic.platform.db import make_engine, make_session_factory

    engine = make_engine(url)
    factory = make_session_factory(engine)
    factory.configure(info=chain.session_info(settings))
    try:
        return measure(factory, **options)
    finally:
        engine.dispose()


def main() -> None:
    python_hl7_first()
    from ketaclinic.platform import migrate
    from ketaclinic.platform.model_registry import load_all
    from ketaclinic.platform.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the clinic's database URL")
    parser.add_argument("--data-dir", type=Path, required=True, help="the clinic's data folder")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--chairs", type=int, default=20)
    parser.add_argument("--per-chair", type=int, default=100)
    args = parser.parse_args()
    load_all()
    migrate.upgrade(args.url)
    conf = Settings(mode="development", data_dir=args.data_dir, database_url=args.url)
    found = measure_on(
        args.url, conf, repeats=args.repeat, n_chairs=args.chairs, per_chair=args.per_chair
    )
    print(describe(found))


if __name__ == "__main__":
    main()
