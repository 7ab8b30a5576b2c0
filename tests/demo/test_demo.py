from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.patients.models import BodyMeasurement, Patient
from ketaclinic.platform.accounts.models import UserRole
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import utcnow
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


def test_the_demo_patients_signed_the_consents_their_sessions_need_and_tomorrow_is_asked(
    db: Session,
) -> None:
    from ketaclinic.consent import service as consent
    from ketaclinic.sessions.models import InfusionSession, SessionEvent

    signatures = list(db.scalars(select(consent.ConsentSignature)))
    assert signatures
    assert all(consent.sha256(s.text) == s.text_sha256 for s in signatures)
    witnessed = [s for s in signatures if s.document_kind == "esketamine_rems"]
    assert witnessed and all(s.witness_username == "nurse.lind" for s in witnessed)
    # No demo session needed a checklist override for a missing consent.
    overridden = db.scalars(
        select(SessionEvent.session_id).where(SessionEvent.kind == "checklist_override")
    ).all()
    for session_id in overridden:
        row = db.get(InfusionSession, session_id)
        assert row is not None
        checks = consent.chair_checks(
            db,
            patient_id=row.patient_id,
            protocol_id=row.protocol_id,
            route=row.route,
            appointment_id=None,
        )
        assert all(c.met for c in checks)
    answered = list(db.scalars(select(consent.ReadinessCheck)))
    assert answered, "tomorrow's treatments are asked"
    # Asked and answered before the demo was built, whatever the weekday it was built on.
    built = utcnow()
    assert all(c.created_at <= built for c in answered)
    assert all(c.answered_at is None or c.answered_at <= built for c in answered)
    assert any(c.answers and c.answers.get("ride_home") is False for c in answered)
    if len(answered) > 1:
        assert any(not c.answers for c in answered)
