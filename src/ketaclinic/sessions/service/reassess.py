"""Alarms judged again when readings are entered in error.

A vital sign's alarm may stand for a run of readings (a rule confirmed over minutes), so
an artefact (a cuff moved, a probe off) does not simply close it: every open alarm the
artefact raised or helped confirm is judged again by the same rules and the clinic's
overrides (``monitoring.reassess``) over its phase's readings without the artefact and
without any reading already in error. One the remaining readings still raise stays open,
carried by the reading that now meets the rule; one they no longer raise is acknowledged
by whoever marked the error, with the reason, so it neither holds discharge nor stays on
the chair's screen. A prescriber call it opened stays for the prescriber to answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ketaclinic.clinical import monitoring
from ketaclinic.platform.actors import Actor
from ketaclinic.sessions.models import InfusionSession, SessionAlarm, VitalSign
from ketaclinic.sessions.service import view
from ketaclinic.sessions.service.common import acknowledge, alarm_message, minutes, record


@dataclass
class Reassessed:
    """What judging the alarms again did: those closed, those kept open."""

    closed: list[SessionAlarm] = field(default_factory=list)
    kept: list[SessionAlarm] = field(default_factory=list)


def reassess_alarms(
    db: Session,
    actor: Actor,
    row: InfusionSession,
    *,
    marked: Sequence[VitalSign],
    reason: str,
    at: datetime,
) -> Reassessed:
    """The open alarms of the session that the readings just ``marked`` entered in error
    (already flagged, in this act) raised or helped confirm, judged again; each close
    and each change audited in the act's transaction. Readings typed by hand and those
    a monitor corrected (``correct_device_readings``) come here alike."""
    out = Reassessed()
    gone = {v.id for v in marked}
    if not gone:
        return out
    alarms = list(
        db.scalars(
            select(SessionAlarm)
            .where(
                SessionAlarm.session_id == row.id,
                SessionAlarm.acknowledged_at.is_(None),
                SessionAlarm.vital_sign_id.is_not(None),
            )
            .order_by(SessionAlarm.id)
        )
    )
    if not alarms:
        return out
    state = view.for_charting(db, row=row, now=at)
    if state.dose_start is None:
        return out  # the vital-sign rules judge dosing and recovery only
    origin = state.dose_start
    readings = list(
        db.execute(
            select(
                VitalSign.id, VitalSign.taken_at, *(getattr(VitalSign, p) for p in view.PARAMETERS)
            )
            .where(
                VitalSign.session_id == row.id,
                or_(VitalSign.entered_in_error_at.is_(None), VitalSign.id.in_(gone)),
            )
            .order_by(VitalSign.taken_at, VitalSign.id)
        )
    )
    before = _baseline(readings, origin)
    after = _baseline([r for r in readings if r.id not in gone], origin)
    by_phase: dict[str, list[SessionAlarm]] = {}
    for alarm in alarms:
        by_phase.setdefault(alarm.phase, []).append(alarm)
    carried: set[tuple[int | None, str]] | None = None
    for phase, open_alarms in by_phase.items():
        rows = [r for r in readings if view.phase_at(state, r.taken_at) == phase]
        place = {r.id: i for i, r in enumerate(rows)}
        # An alarm whose own reading was entered in error before and kept the link has
        # no place among the readings judged: it is left as it stands.
        judged = [
            (a, place[a.vital_sign_id])
            for a in open_alarms
            if a.vital_sign_id is not None and a.vital_sign_id in place
        ]
        results = monitoring.reassess(
            [_signs(r, origin) for r in rows],
            raised=[(index, a.rule_id) for a, index in judged],
            removed=[place[i] for i in gone if i in place],
            phase=phase,
            baseline=before,
            remaining_baseline=after,
            overrides=state.limit_overrides,
        )
        for (alarm, _), result in zip(judged, results, strict=True):
            if result is None:
                continue
            if result.alarm is None or result.index is None:
                acknowledge(
                    db, actor, row, alarm, note=f"reading entered in error: {reason}", at=at
                )
                out.closed.append(alarm)
                continue
            carrier = rows[result.index]
            if carried is None:
                carried = _carried(db, row.id)
            _keep(db, actor, row, alarm, result.alarm, carrier, carried, gone=gone, reason=reason)
            out.kept.append(alarm)
    return out


def _keep(
    db: Session,
    actor: Actor,
    row: InfusionSession,
    alarm: SessionAlarm,
    found: monitoring.Alarm,
    carrier: Any,
    carried: set[tuple[int | None, str]],
    *,
    gone: set[int],
    reason: str,
) -> None:
    """The alarm stays open; moved onto the reading that now carries the breach (its
    value and message with it, the former message kept in the audit row), unless that
    reading already carries an alarm of the same rule (a run charted late can hold two):
    then the link stays and the audit row says so."""
    without = ", ".join(str(i) for i in sorted(gone))
    head = f"{alarm.rule_id}: still met without reading {without} (entered in error: {reason})"
    if carrier.id == alarm.vital_sign_id:
        detail = f"{head}; kept open on reading {carrier.id}"
    elif (carrier.id, alarm.rule_id) in carried:
        detail = (
            f"{head}; kept open on reading {alarm.vital_sign_id}, as reading {carrier.id} "
            "already carries an alarm of this rule"
        )
    else:
        detail = f"{head}; kept open, moved from reading {alarm.vital_sign_id} to {carrier.id}"
        detail += f"; was: {alarm.message}"
        carried.discard((alarm.vital_sign_id, alarm.rule_id))
        carried.add((carrier.id, alarm.rule_id))
        alarm.vital_sign_id = carrier.id
        alarm.value = found.value
        alarm.message = alarm_message(found, phase=alarm.phase, taken_at=carrier.taken_at)
    record(
        db,
        actor,
        "alarm.reassess",
        row,
        object_type="session_alarm",
        object_id=alarm.id,
        detail=detail,
    )


def _carried(db: Session, session_id: int) -> set[tuple[int | None, str]]:
    """Which (reading, rule) pairs carry an alarm already, open or not (one per pair)."""
    return {
        (vital_sign_id, rule_id)
        for vital_sign_id, rule_id in db.execute(
            select(SessionAlarm.vital_sign_id, SessionAlarm.rule_id).where(
                SessionAlarm.session_id == session_id, SessionAlarm.vital_sign_id.is_not(None)
            )
        )
    }


def _signs(reading: Any, origin: datetime) -> monitoring.VitalSigns:
    return monitoring.VitalSigns(
        at_min=minutes(reading.taken_at, origin),
        **{p: getattr(reading, p) for p in view.PARAMETERS},
    )


def _baseline(readings: Sequence[Any], origin: datetime) -> monitoring.VitalSigns | None:
    """The pre-dose reading the rules measure change from, as charting picks it: the
    last before dosing with a blood pressure, or else the last before dosing."""
    pre = [r for r in readings if r.taken_at < origin]
    found = next((r for r in reversed(pre) if r.systolic_bp is not None), None)
    if found is None and pre:
        found = pre[-1]
    if found is None:
        return None
    return monitoring.VitalSigns(at_min=0.0, **{p: getattr(found, p) for p in view.PARAMETERS})
