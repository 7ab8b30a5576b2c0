"""The bedside monitor bound to a session: the nurse binds it when the session starts,
and the monitor interface asks which session a device's readings belong to."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Invalid
from ketaclinic.sessions.models import InfusionSession, SessionDevice
from ketaclinic.sessions.service.common import CLOSED, RUNNERS, load, load_open, record, require

# What a monitor sends as its id (OBX-18 equipment instance or MSH-3): letters, digits
# and the HL7 component punctuation an EUI-64 id carries; ketaclinic's own rule.
_DEVICE_ID = re.compile(r"^[A-Za-z0-9._:\-^&]{1,120}$")


def check_device_id(raw: str) -> str:
    text = (raw or "").strip()
    if not _DEVICE_ID.match(text):
        raise Invalid(
            "give the monitor's id as it sends it (letters, digits, . _ : - ^ &; up to 120)",
            fields={"device_id": "not a device id"},
        )
    return text


def bind_device(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    device_id: str,
    now: datetime | None = None,
) -> SessionDevice:
    """Bind a monitor to this session; a monitor serves one open session at a time."""
    require(actor, RUNNERS, "binding a monitor")
    row = load_open(db, session_id)
    device = check_device_id(device_id)
    for bound in _bound(db, device):
        session = db.get(InfusionSession, bound.session_id)
        if session is not None and session.status not in CLOSED and session.id != row.id:
            raise Conflict(
                f"monitor {device} is bound to another open session; unbind it there first"
            )
        if bound.session_id == row.id:
            raise Conflict(f"monitor {device} is already bound to this session")
    for mine in db.scalars(
        select(SessionDevice).where(
            SessionDevice.session_id == row.id, SessionDevice.unbound_at.is_(None)
        )
    ):
        _unbind(mine, actor, now)
    binding = SessionDevice(
        session_id=row.id, device_id=device, bound_by=actor.username, bound_at=now or utcnow()
    )
    db.add(binding)
    db.flush()
    record(
        db,
        actor,
        "monitor.bind",
        row,
        object_type="session_device",
        object_id=binding.id,
        detail=device,
    )
    db.flush()
    return binding


def unbind_device(
    db: Session, *, actor: Actor, session_id: int, now: datetime | None = None
) -> None:
    require(actor, RUNNERS, "unbinding a monitor")
    row = load(db, session_id)
    found = list(
        db.scalars(
            select(SessionDevice).where(
                SessionDevice.session_id == row.id, SessionDevice.unbound_at.is_(None)
            )
        )
    )
    if not found:
        raise Conflict("no monitor is bound to this session")
    for binding in found:
        _unbind(binding, actor, now)
        record(
            db,
            actor,
            "monitor.unbind",
            row,
            object_type="session_device",
            object_id=binding.id,
            detail=binding.device_id,
        )
    db.flush()


def _unbind(binding: SessionDevice, actor: Actor, now: datetime | None) -> None:
    binding.unbound_at = now or utcnow()
    binding.unbound_by = actor.username


def _bound(db: Session, device_id: str) -> list[SessionDevice]:
    return list(
        db.scalars(
            select(SessionDevice)
            .where(SessionDevice.device_id == device_id, SessionDevice.unbound_at.is_(None))
            .order_by(SessionDevice.bound_at.desc(), SessionDevice.id.desc())
        )
    )


def bound_device(db: Session, session_id: int) -> SessionDevice | None:
    return db.scalar(
        select(SessionDevice)
        .where(SessionDevice.session_id == session_id, SessionDevice.unbound_at.is_(None))
        .order_by(SessionDevice.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class DeviceSession:
    session_id: int
    patient_id: int
    mrn: str
    status: str
    device_id: str = ""


def monitored_sessions(db: Session) -> list[DeviceSession]:
    """Open sessions with a monitor bound (for the simulator and the charge nurse)."""
    rows = db.execute(
        select(SessionDevice.device_id, InfusionSession)
        .join(InfusionSession, InfusionSession.id == SessionDevice.session_id)
        .where(SessionDevice.unbound_at.is_(None), InfusionSession.status.not_in(CLOSED))
        .order_by(InfusionSession.id)
    ).all()
    out = []
    for device_id, session in rows:
        patient = patients.patient_by_id(db, session.patient_id)
        out.append(
            DeviceSession(session.id, session.patient_id, patient.mrn, session.status, device_id)
        )
    return out


def session_of_device(db: Session, device_id: str) -> DeviceSession | None:
    """The open session a monitor is bound to, with the patient's MRN to match against
    the message; for the monitor interface, whose act audits itself."""
    for bound in _bound(db, device_id):
        session = db.get(InfusionSession, bound.session_id)
        if session is None or session.status in CLOSED:
            continue
        patient = patients.patient_by_id(db, session.patient_id)
        return DeviceSession(
            session.id, session.patient_id, patient.mrn, session.status, bound.device_id
        )
    return None


def sessions_of_devices(db: Session, device_ids: Iterable[str]) -> dict[str, DeviceSession]:
    """``session_of_device`` for several monitors at once (two queries whatever their
    number): what a group of monitor messages is matched against. Read inside the
    group's transaction, so a bind or unbind committed before it is seen."""
    wanted = sorted(set(device_ids))
    if not wanted:
        return {}
    # Whole session rows: the group's charting looks them up again by id (``rows_by_id``),
    # from this unit of work's identity map. Of the patients, only the record numbers.
    rows = db.execute(
        select(SessionDevice.device_id, InfusionSession)
        .join(InfusionSession, InfusionSession.id == SessionDevice.session_id)
        .where(
            SessionDevice.device_id.in_(wanted),
            SessionDevice.unbound_at.is_(None),
            InfusionSession.status.not_in(CLOSED),
        )
        .order_by(SessionDevice.bound_at.desc(), SessionDevice.id.desc())
    ).all()
    numbers = patients.mrns(db, {session.patient_id for _, session in rows})
    found: dict[str, DeviceSession] = {}
    for device_id, session in rows:
        if device_id not in found:  # the latest binding, as ``session_of_device``
            found[device_id] = DeviceSession(
                session.id,
                session.patient_id,
                numbers[session.patient_id],
                session.status,
                device_id,
            )
    return found
