"""Vital signs and the alarms they raise.

Each new reading is assessed once against the limit table of its phase (the readings of
that phase so far, so that rules confirmed over minutes can fire); alarms not raised
before are stored, shown until acknowledged, and never raised again for the same rule
and reading on a later page load.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ketaclinic.clinical import monitoring
from ketaclinic.configuration import service as configuration
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Invalid
from ketaclinic.sessions.models import SessionAlarm, VitalSign
from ketaclinic.sessions.service import calls, view
from ketaclinic.sessions.service.common import (
    RUNNERS,
    charted_time,
    load,
    load_open,
    reason_text,
    record,
    require,
)

SOURCES = ("manual", "monitor")


def _check_values(values: dict[str, int | None]) -> None:
    if all(v is None for v in values.values()):
        raise Invalid("chart at least one measurement", fields={"heart_rate": "required"})
    for name, value in values.items():
        if value is None:
            continue
        low, high = monitoring.PLAUSIBLE_RANGES[name]  # type: ignore[index]
        if not low <= value <= high:
            raise Invalid(
                f"{name.replace('_', ' ')} {value} is not a plausible reading "
                f"(accepted {low:g} to {high:g}); check the device or the typing",
                fields={name: "implausible"},
            )
    sbp, dbp = values.get("systolic_bp"), values.get("diastolic_bp")
    if (sbp is None) != (dbp is None):
        raise Invalid(
            "chart systolic and diastolic blood pressure together",
            fields={"diastolic_bp" if dbp is None else "systolic_bp": "required with the other"},
        )
    if sbp is not None and dbp is not None and sbp <= dbp:
        raise Invalid(
            "systolic must be above diastolic", fields={"systolic_bp": "not above diastolic"}
        )


def record_vitals(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    taken_at: datetime | None,
    heart_rate: int | None,
    systolic_bp: int | None,
    diastolic_bp: int | None,
    spo2: int | None,
    respiratory_rate: int | None,
    source: str = "manual",
    now: datetime | None = None,
) -> VitalSign:
    """Chart one set of vital signs (by hand, or later from the bedside monitor feed) and
    store any alarm it raises."""
    require(actor, RUNNERS, "charting vital signs")
    if source not in SOURCES:
        raise Invalid(f"source must be one of {', '.join(SOURCES)}", fields={"source": "unknown"})
    values = {
        "heart_rate": heart_rate,
        "systolic_bp": systolic_bp,
        "diastolic_bp": diastolic_bp,
        "spo2": spo2,
        "respiratory_rate": respiratory_rate,
    }
    _check_values(values)
    row = load_open(db, session_id)
    moment = charted_time(taken_at, field="taken_at", now=now)
    reading = VitalSign(
        session_id=row.id,
        taken_at=moment,
        source=source,
        recorded_by_id=actor.user_id,
        recorded_at=now or utcnow(),
        **values,
    )
    state = view.build(db, actor=actor, row=row, now=now or moment)
    db.add(reading)
    db.flush()
    raised = _raise_alarms(db, state, reading)
    moment_now = now or utcnow()
    if raised:
        calls.call_for_alarms(
            db,
            actor=actor,
            row=row,
            prescriber=state.order.signed_by,
            alarms=raised,
            now=moment_now,
        )
    elif view.phase_at(state, reading.taken_at) == "pre_infusion" or state.dose_start is None:
        calls.call_for_pre_dose_block(
            db,
            actor=actor,
            row=row,
            prescriber=state.order.signed_by,
            reading=reading,
            alarms=_pre_dose_alarms(state, reading),
            now=moment_now,
        )
    shown = ", ".join(f"{k}={v}" for k, v in values.items() if v is not None)
    record(
        db,
        actor,
        "vitals.record",
        row,
        object_type="vital_sign",
        object_id=reading.id,
        detail=f"{source}: {shown}"
        + (f"; alarms: {', '.join(a.rule_id for a in raised)}" if raised else ""),
    )
    db.flush()
    return reading


def _pre_dose_alarms(state: view.SessionView, reading: VitalSign) -> list[monitoring.Alarm]:
    """The go limits a pre-dose reading crosses (the checklist judges the same)."""
    sign = monitoring.VitalSigns(at_min=0.0, **{p: getattr(reading, p) for p in view.PARAMETERS})
    return monitoring.assess([sign], phase="pre_infusion", overrides=state.limit_overrides)


def _raise_alarms(db: Session, state: view.SessionView, new: VitalSign) -> list[SessionAlarm]:
    phase = view.phase_at(state, new.taken_at)
    if phase == "pre_infusion" or state.dose_start is None:
        return []  # before dosing the checklist judges the go limits
    same = [r.row for r in state.readings if r.phase == phase] + [new]
    same.sort(key=lambda v: (v.taken_at, v.id))
    signs = [
        monitoring.VitalSigns(
            at_min=view.minutes(v.taken_at, state.dose_start),
            **{p: getattr(v, p) for p in view.PARAMETERS},
        )
        for v in same
    ]
    base = state.baseline()
    alarms = monitoring.assess(
        signs,
        phase=phase,
        baseline=base.signs(0.0) if base else None,
        overrides=state.limit_overrides,
    )
    known = {(a.vital_sign_id, a.rule_id) for a in state.alarms}
    by_minute = {sign.at_min: v for sign, v in zip(signs, same, strict=True)}
    raised = []
    for alarm in alarms:
        source_row = by_minute[alarm.at_min]
        if (source_row.id, alarm.rule_id) in known:
            continue
        stored = SessionAlarm(
            session_id=state.session.id,
            vital_sign_id=source_row.id,
            rule_id=alarm.rule_id,
            phase=phase,
            level=alarm.level,
            parameter=alarm.parameter,
            value=alarm.value,
            message=alarm.message,
            action=alarm.action,
            source=alarm.source,
            evidence=alarm.evidence,
            raised_at=new.recorded_at,
        )
        db.add(stored)
        known.add((source_row.id, alarm.rule_id))
        raised.append(stored)
    db.flush()
    return raised


def acknowledgement_note_min(db: Session) -> int:
    """The shortest acknowledgement note the clinic accepts."""
    rule = monitoring.acknowledgement_rule(
        configuration.overrides_for(db, "monitoring.acknowledgement")
    )
    return int(rule.note_min_chars)


def acknowledge_alarm(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    alarm_id: int,
    note: str = "",
    now: datetime | None = None,
) -> SessionAlarm:
    """Who saw the alarm, when, and what they did."""
    require(actor, RUNNERS, "acknowledging alarms")
    row = load(db, session_id)
    alarm = db.get(SessionAlarm, alarm_id)
    if alarm is None or alarm.session_id != row.id:
        raise Invalid(f"no alarm {alarm_id} in this session", fields={"alarm_id": "unknown"})
    if alarm.acknowledged_at is not None:
        raise Conflict(f"already acknowledged by {alarm.acknowledged_by}")
    text = note.strip()
    if len(text) > 2000:
        raise Invalid("keep the note under 2000 characters", fields={"note": "too long"})
    # An acknowledgement names the action taken, whatever the alarm's level; how long a
    # note must be is the clinic's (``monitoring.acknowledgement``).
    shortest = acknowledgement_note_min(db)
    if len(text) < shortest:
        raise Invalid(
            f"say what was done about this {alarm.level} alarm (at least {shortest} characters)",
            fields={"note": "required"},
        )
    alarm.acknowledged_at = now or utcnow()
    alarm.acknowledged_by = actor.username
    alarm.acknowledgement_note = text or None
    record(
        db,
        actor,
        "alarm.acknowledge",
        row,
        object_type="session_alarm",
        object_id=alarm.id,
        detail=f"{alarm.rule_id}: {text}",
    )
    try:
        db.flush()
    except IntegrityError as exc:  # pragma: no cover - concurrent acknowledgement
        raise Conflict("someone acknowledged it at the same moment; reload") from exc
    return alarm


def mark_vitals_in_error(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    vital_sign_id: int,
    reason: str,
    now: datetime | None = None,
) -> VitalSign:
    require(actor, RUNNERS, "correcting the chart")
    row = load_open(db, session_id)
    reading = db.get(VitalSign, vital_sign_id)
    if reading is None or reading.session_id != row.id:
        raise Invalid(
            f"no reading {vital_sign_id} in this session", fields={"vital_sign_id": "unknown"}
        )
    if reading.entered_in_error_at is not None:
        raise Conflict("this reading is already marked entered in error")
    reading.entered_in_error_at = now or utcnow()
    reading.entered_in_error_by = actor.username
    reading.error_reason = reason_text(reason)
    record(
        db,
        actor,
        "vitals.entered_in_error",
        row,
        object_type="vital_sign",
        object_id=reading.id,
        detail=reading.error_reason,
    )
    db.flush()
    return reading


def readings_for(db: Session, session_id: int) -> list[VitalSign]:
    """Valid readings of one session in time order (one index range scan)."""
    return list(
        db.scalars(
            select(VitalSign)
            .where(VitalSign.session_id == session_id, VitalSign.entered_in_error_at.is_(None))
            .order_by(VitalSign.taken_at, VitalSign.id)
        )
    )
