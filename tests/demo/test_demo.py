from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.patients.models import BodyMeasurement, Patient
from ketaclinic.platform.accounts.models import UserRole
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.roles import Role


def test_the_demo_clinic_has_every_role_and_thirty_patients_with_months_of_history(
    db: Session,
) -> None:
    # db is a copy of the run's demo clinic (tests/demo/conftest.py), built for today.
    roles = set(db.scalars(select(UserRole.role)))
    assert roles == {r.value for r in Role}
    assert db.scalar(select(func.count()).select_from(Patient)) >= 30
    spans = db.execute(
        select(
            func.min(BodyMeasurement.measured_on), func.max(BodyMeasurement.measured_on)
        ).group_by(BodyMeasurement.patient_id)
    ).all()
    assert len(spans) >= 30
    assert all((last - first).days >= 55 for first, last in spans)
    assert audit.verify(db).ok


def test_the_demo_leaves_an_infusion_in_progress_whose_monitor_the_simulator_can_feed(
    db: Session,
) -> None:
    from zoneinfo import ZoneInfo

    from ketaclinic.interop import service as interop
    from ketaclinic.interop.hl7.messages import oru_r01
    from ketaclinic.platform.db import utcnow
    from ketaclinic.sessions.demo import DEMO_MONITOR
    from ketaclinic.sessions.models import InfusionSession, VitalSign

    chairs = interop.monitored_chairs(db)
    assert [c.device_id for c in chairs] == [DEMO_MONITOR]
    row = db.get(InfusionSession, chairs[0].session_id)
    assert row is not None and row.route == "iv" and row.status == "open"
    # What ``ketaclinic hl7 simulate --chairs 1`` sends for it is charted.
    message = oru_r01(
        control_id="DEMO-TEST-1",
        mrn=chairs[0].mrn,
        device_id=DEMO_MONITOR,
        at=utcnow(),
        values={"systolic_bp": 128, "diastolic_bp": 80, "heart_rate": 76, "spo2": 98},
    )
    answer = interop.receive(db, raw=message, zone=ZoneInfo("America/New_York"))
    assert (answer.code, answer.charted) == ("AA", 1)
    assert (
        db.scalar(
            select(func.count())
            .select_from(VitalSign)
            .where(VitalSign.session_id == row.id, VitalSign.source == "device")
        )
        == 1
    )
