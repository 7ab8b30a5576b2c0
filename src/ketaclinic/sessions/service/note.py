"""The session note: everything charted, in time order, as plain lines a printer and a
reader can follow. Generated from the record when the nurse signs, then frozen."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ketaclinic.clinical import labels
from ketaclinic.sessions.models import SessionEntry, VitalSign
from ketaclinic.sessions.service.view import SessionView, valid

Line = tuple[datetime, str, str]  # when, what kind, text


def _vitals_text(v: VitalSign) -> str:
    parts = []
    hr, sbp, dbp = v.heart_rate, v.systolic_bp, v.diastolic_bp
    spo2, rr = v.spo2, v.respiratory_rate
    if hr is not None:
        parts.append(f"HR {hr}")
    if sbp is not None:
        parts.append(f"BP {sbp}/{dbp}")
    if spo2 is not None:
        parts.append(f"SpO2 {spo2}%")
    if rr is not None:
        parts.append(f"RR {rr}")
    return ", ".join(parts) + f" ({v.source})"


def lines(view: SessionView) -> list[Line]:
    out: list[Line] = []
    for entry in view.checklist_entries:
        note = f" ({entry.note})" if entry.note else ""
        out.append(
            (
                entry.recorded_at,
                "checklist",
                f"{entry.item}: {entry.answer}{note} by {entry.recorded_by}",
            )
        )
    for event in view.events:
        text = event.kind.replace("_", " ")
        if event.rate_ml_per_h:
            text += f" to {event.rate_ml_per_h:g} mL/h"
        if event.kind == "device" and event.detail:
            mg = event.detail.get("mg", view.device_mg)
            text = f"nasal device {event.detail.get('number')} ({mg:g} mg)"
        if event.kind == "checklist_override" and event.detail:
            text += f" of {', '.join(event.detail.get('unmet', []))}"
        if event.kind == "discharge" and event.detail:
            text += ": " + "; ".join(event.detail.get("criteria", []))
        if event.reason:
            text += f"; reason: {event.reason}"
        text += f" by {event.recorded_by}"
        if event.entered_in_error_at:
            text += f" [ENTERED IN ERROR by {event.entered_in_error_by}: {event.error_reason}]"
        out.append((event.at, "event", text))
    for reading in view.vitals:
        text = _vitals_text(reading)
        if reading.entered_in_error_at:
            text += f" [ENTERED IN ERROR by {reading.entered_in_error_by}: {reading.error_reason}]"
        out.append((reading.taken_at, "vitals", text))
    for alarm in view.alarms:
        out.append(
            (
                alarm.raised_at,
                "alarm",
                f"{alarm.level.upper()}: {alarm.message}. Action: {alarm.action}",
            )
        )
        if alarm.acknowledged_at:
            note = f": {alarm.acknowledgement_note}" if alarm.acknowledgement_note else ""
            out.append(
                (
                    alarm.acknowledged_at,
                    "acknowledged",
                    f"{alarm.rule_id} acknowledged by {alarm.acknowledged_by}{note}",
                )
            )
    for item in view.entries:
        text = _entry_text(item)
        if item.entered_in_error_at:
            text += f" [ENTERED IN ERROR by {item.entered_in_error_by}: {item.error_reason}]"
        out.append((item.at, item.kind.replace("_", " "), text + f" by {item.recorded_by}"))
    out.sort(key=lambda line: line[0])
    return out


def _entry_text(entry: SessionEntry) -> str:
    kind, data = entry.kind, entry.data or {}
    value, text = entry.value or 0.0, entry.text
    if kind == "score":
        return f"{entry.code.upper()} total {value:g}"
    if kind == "side_effect":
        return f"{data.get('label')} ({data.get('severity')})" + (f": {text}" if text else "")
    if kind == "symptom":
        return str(data.get("label")) + (f": {text}" if text else "")
    if kind == "intervention":
        given = f"{data.get('drug')} {data.get('dose'):g} {data.get('unit')} {data.get('route')}"
        return f"{given}; reason: {text}"
    return str(text)


def render(view: SessionView, zone: ZoneInfo) -> tuple[str, list[list[str]]]:
    """The note's text and its lines as [clock time, kind, text]."""
    session, patient, order = view.session, view.patient, view.order
    head = [
        f"Session note: {patient.family_name}, {patient.given_name} (MRN {patient.mrn})",
        f"Session {session.number} of course {session.course_id or '-'}; "
        f"protocol {labels.name(session.protocol_id)}; "
        f"order {order.id} signed by {order.signed_by or '-'}; ordered dose {order.dose_mg:g} mg",
        f"Dose given: {view.mg_given:.1f} mg",
    ]
    if view.dose_start:
        head.append(f"Dosing started {view.dose_start.astimezone(zone):%Y-%m-%d %H:%M}")
    if view.dose_end:
        head.append(f"Dosing ended {view.dose_end.astimezone(zone):%Y-%m-%d %H:%M}")
    rows = [
        [when.astimezone(zone).strftime("%Y-%m-%d %H:%M"), kind, text]
        for when, kind, text in lines(view)
    ]
    overrides = [e for e in valid(view.events) if e.kind == "checklist_override"]
    body = "\n".join(head) + "\n\nChecklist at signing:\n"
    body += "\n".join(
        f"  [{'x' if i.met else ' '}] {i.rule.label}: {i.text}" for i in view.checklist
    )
    if overrides:
        body += "\n  Overridden by " + "; ".join(f"{e.recorded_by}: {e.reason}" for e in overrides)
    body += "\n\nChronology:\n" + "\n".join(f"  {a}  {b:<12} {c}" for a, b, c in rows)
    discharged = view.discharged
    if discharged is not None and discharged.detail:
        body += "\n\nDischarge criteria (as judged at discharge):\n" + "\n".join(
            f"  {text}" for text in discharged.detail.get("criteria", [])
        )
    return body, rows
