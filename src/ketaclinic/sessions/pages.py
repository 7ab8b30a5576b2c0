"""Session pages: the nurse's day, the session itself, its printable note, and the
esketamine monitoring records still to file."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from ketaclinic.candidacy import service as candidacy
from ketaclinic.clinical import instruments, monitoring
from ketaclinic.controlled import service as controlled
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import ChartSection
from ketaclinic.platform.auth import Principal, allow, get_db, request_session
from ketaclinic.platform.errors import ClinicError, Invalid
from ketaclinic.platform.forms import field_errors
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.pdf import clinic_letterhead
from ketaclinic.platform.roles import Role
from ketaclinic.platform.web import render
from ketaclinic.sessions import service, trend
from ketaclinic.sessions.home import HOME_SECTIONS as HOME_SECTIONS  # the home page's parts
from ketaclinic.sessions.service import esketamine, records
from ketaclinic.sessions.service.view import SessionView

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
RUN = (Role.nurse, Role.prescriber)

NAV = [
    ("Today's sessions", "/sessions/today", frozenset(RUN)),
    ("Chairs", "/sessions/chairs", frozenset(RUN)),
    ("REMS records", "/sessions/rems", frozenset(RUN)),
]


def _chart_load(db: Session, actor: Actor, patient: patients.Patient) -> Any:
    calls = service.open_prescriber_calls(db, actor=actor, patient_id=patient.id)
    return {
        "sessions": service.sessions_of_patient(db, actor=actor, patient_id=patient.id),
        "patient_id": patient.id,
        "calls": calls,
        "names": service.names_on_prescriber_calls(db, calls),
    }


CHART_SECTIONS = [ChartSection("sessions", "Sessions", "sessions/_chart_section.html", _chart_load)]


# The sections of the session screen below the cockpit, and the section each form's
# anchor belongs to (a form posted from a section returns to it).
TABS = ("checklist", "readings", "observations", "prediction", "discharge", "note", "record")
TAB_PATTERN = "^(" + "|".join(TABS) + ")$"
ANCHOR_TABS = {
    "checklist": "checklist",
    "observations": "observations",
    "chronology": "readings",
    "record": "record",
    "note": "note",
    "discharge": "discharge",
}


def default_tab(state: SessionView) -> str:
    """The section the session's moment calls for: the checklist before dosing, the
    readings during it, discharge after it, the note once discharged."""
    status = state.session.status
    if status in ("discharged", "signed", "cosigned"):
        return "note"
    if status == "cancelled" or state.dose_start is None:
        return "checklist"
    if state.dose_end is None:
        return "readings"
    return "discharge"


def _banners(request: Request, who: Principal) -> list[dict[str, Any]]:
    """A prescriber sees, on every page, how many calls wait for them."""
    if Role.prescriber not in who.actor.roles:
        return []
    with request_session(request) as db:
        count = service.prescriber_calls_for(db, username=who.actor.username)
    if not count:
        return []
    plural = "s" if count != 1 else ""
    return [
        {
            "level": "alarm",
            "text": f"Prescriber needed: {count} call{plural} from the chair wait for your "
            "decision",
            "href": "/",
        }
    ]


BANNERS = [_banners]


def _int(form: Any, name: str, *, required: bool = False) -> int | None:
    raw = str(form.get(name, "") or "").strip()
    if not raw:
        if required:
            raise Invalid(f"{name.replace('_', ' ')} is required", fields={name: "required"})
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise Invalid(
            f"{name.replace('_', ' ')}: {raw!r} is not a whole number",
            fields={name: "not a whole number"},
        ) from exc


def _float(form: Any, name: str) -> float | None:
    raw = str(form.get(name, "") or "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise Invalid(
            f"{name.replace('_', ' ')}: {raw!r} is not a number", fields={name: "not a number"}
        ) from exc


def _lot(form: Any) -> int | None:
    """The ledger lot chosen for a dose (empty: the first expiring)."""
    raw = str(form.get("lot_id", "") or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise Invalid("choose a lot from the list", fields={"lot_id": "unknown"})
    return int(raw)


def _clock(request: Request, form: Any, name: str) -> datetime | None:
    """An optional HH:MM in the clinic's zone, today."""
    raw = str(form.get(name, "") or "").strip()
    if not raw:
        return None
    try:
        hour, minute = (int(x) for x in raw.split(":")[:2])
        zone = request.app.state.settings.zone
        return datetime.combine(datetime.now(zone).date(), time(hour, minute), zone)
    except ValueError as exc:
        raise Invalid(
            f"{name.replace('_', ' ')}: give a time as HH:MM", fields={name: "HH:MM"}
        ) from exc


def _context(
    request: Request,
    db: Session,
    actor: Actor,
    session_id: int,
    *,
    page: int = 0,
    tab: str | None = None,
) -> dict[str, Any]:
    cockpit = service.get_cockpit(db, actor=actor, session_id=session_id, page=page)
    state = cockpit.state
    prediction = None
    if state.session.status != "cancelled":
        try:
            prediction = service.predict(state)
        except ValueError as exc:
            prediction = None
            request.state.prediction_problem = str(exc)
    form_values = esketamine.form_values(state) if state.monitoring_record else None
    shown_tab = tab if tab in TABS and (tab != "record" or form_values is not None) else None
    zone = request.app.state.settings.zone
    pump_status = state.pump
    time_left_min: int | None = None
    bag_empty_at = None
    if pump_status is not None and state.dose_start is not None:
        if pump_status.state == "running" and pump_status.finishes_at_min is not None:
            time_left_min = max(0, math.ceil(pump_status.finishes_at_min - pump_status.elapsed_min))
            bag_empty_at = state.dose_start + timedelta(minutes=pump_status.finishes_at_min)
        elif pump_status.state == "paused" and pump_status.rate_ml_per_h:
            time_left_min = math.ceil(pump_status.volume_left_ml / pump_status.rate_ml_per_h * 60)
    return {
        "s": state,
        "cockpit": cockpit,
        "tab": shown_tab or default_tab(state),
        # The section the nurse chose stays chosen across a form's post and its redirect.
        "kept_tab": shown_tab or "",
        "page_size": service.READINGS_PAGE,
        "next_line": next_reading_shown(cockpit.next_line, zone),
        "trend_svg": trend.render(cockpit.trend, start=state.dose_start, zone=zone),
        "trend_grouped": any(point.readings > 1 for point in cockpit.trend),
        "timedelta_min": lambda m: timedelta(minutes=m),
        "time_left_min": time_left_min,
        "bag_empty_at": bag_empty_at,
        "prediction": prediction,
        "prediction_problem": getattr(request.state, "prediction_problem", None),
        "side_effects": monitoring.side_effects(),
        "symptoms": service.symptom_choices(db),
        "cadss6": instruments.get("cadss6"),
        "moaas": instruments.get("moaas"),
        "aldrete": instruments.get("aldrete"),
        "units": records.UNITS,
        "routes": records.ROUTES,
        "form_template": esketamine.TEMPLATE,
        "form_values": form_values,
        "form_missing": esketamine.missing_fields(form_values) if form_values else [],
        "is_prescriber": Role.prescriber in actor.roles,
        "decisions": service.PRESCRIBER_DECISIONS,
        "call_names": service.names_on_prescriber_calls(db, state.prescriber_calls),
        "ack_min": service.acknowledgement_note_min(db),
        "is_nurse": Role.nurse in actor.roles,
        "confirmation": state.appointment.confirmation if state.appointment else None,
        "meds": candidacy.medication_summary(db, actor=actor, patient_id=state.patient.id),
        "monitor": service.bound_device(db, state.session.id),
        # The lots this dose may be drawn from (none: the clinic keeps no ledger).
        "ledger_lots": controlled.lot_choices(db, route=state.route),
    }


def _page(
    request: Request,
    db: Session,
    actor: Actor,
    session_id: int,
    *,
    error: str | None = None,
    fields: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
    page: int = 0,
    tab: str | None = None,
) -> Response:
    ctx = _context(request, db, actor, session_id, page=page, tab=tab)
    ctx.update({"error": error, "fields": fields or {}, "form": form or {}})
    return render(request, "sessions/session.html", ctx, status_code=status_code)


async def _act(
    request: Request,
    db: Session,
    actor: Actor,
    session_id: int,
    anchor: str,
    call: Callable[[Any], object],
) -> Response:
    form = await request.form()
    chosen = str(form.get("tab", "") or "")
    kept = chosen if chosen in TABS else None
    try:
        call(form)
    except ClinicError as exc:
        db.rollback()
        typed = {k: v for k, v in form.items() if isinstance(v, str) and "password" not in k}
        return _page(
            request,
            db,
            actor,
            session_id,
            error=exc.detail,
            fields=field_errors(exc) if exc.fields else {},
            form=typed,
            status_code=exc.status,
            tab=kept or ANCHOR_TABS.get(anchor),
        )
    query = f"?tab={kept}" if kept else ""
    return RedirectResponse(f"/sessions/{session_id}{query}#{anchor}", status_code=303)


@router.get("/sessions/today", response_class=HTMLResponse)
def today(request: Request, db: DB, mine: bool = False, actor: Actor = allow(*RUN)) -> Response:
    items = service.todays_list(db, actor=actor, nurse_user_id=actor.user_id if mine else None)
    zone = request.app.state.settings.zone
    calls = service.open_prescriber_calls(db, actor=actor)
    return render(
        request,
        "sessions/today.html",
        {
            "items": items,
            "mine": mine,
            "day": datetime.now(zone).date(),
            "calls": calls,
            "prescriber_names": service.names_on_prescriber_calls(db, calls),
        },
    )


@router.post("/sessions/start", response_class=HTMLResponse)
async def start(request: Request, db: DB, actor: Actor = allow(*RUN)) -> Response:
    form = await request.form()
    appointment_id = _int(form, "appointment_id", required=True)
    assert appointment_id is not None
    row = service.start_session_for_appointment(db, actor=actor, appointment_id=appointment_id)
    return RedirectResponse(f"/sessions/{row.id}", status_code=303)


@router.post("/patients/{patient_id}/sessions", response_class=HTMLResponse)
def walk_in(patient_id: RecordId, db: DB, actor: Actor = allow(*RUN)) -> Response:
    row = service.start_walk_in_session(db, actor=actor, patient_id=patient_id)
    return RedirectResponse(f"/sessions/{row.id}", status_code=303)


@router.get("/sessions/rems", response_class=HTMLResponse)
def rems(request: Request, db: DB, actor: Actor = allow(*RUN)) -> Response:
    return render(
        request, "sessions/rems.html", {"records": service.records_to_file(db, actor=actor)}
    )


@router.get("/sessions/chairs", response_class=HTMLResponse)
def chairs(request: Request, db: DB, actor: Actor = allow(*RUN)) -> Response:
    return render(
        request, "sessions/chairs.html", {"chairs": service.chairs_in_use(db, actor=actor)}
    )


def next_reading_shown(line: service.NextReadingLine, zone: Any) -> dict[str, str]:
    """The cockpit's next-reading line in words, the same on the page and in the live
    stream's ``next-reading`` event: its state (the paragraph's class is ``next-`` and
    it), the words in bold and the rest."""
    lead, detail = "", ""
    if line.due_at is not None and line.due_at_min is not None:
        at = line.due_at.astimezone(zone).strftime("%H:%M")
        lead = f"Next reading {'overdue since' if line.status == 'overdue' else 'due'} {at}"
        into = "dosing" if line.esketamine else "the infusion"
        detail = f"({line.due_at_min:.0f} min into {into})"
    elif line.status == "before_dosing":
        lead, detail = "Next reading:", "before dosing"
        if line.before_dose_within_min:
            detail += f" (within {line.before_dose_within_min:g} min of the start)"
    elif line.status == "none":
        detail = "No reading due on the schedule."
    return {"status": line.status, "lead": lead, "detail": detail}


# How often the live screen looks for new readings and alarms (a second, so a reading
# appears within about one; ketaclinic's own pace, not a clinical number).
LIVE_EVERY_SECONDS = 1.0


@router.get("/sessions/{session_id}/live")
async def live(
    request: Request,
    session_id: RecordId,
    db: DB,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    actor: Actor = allow(*RUN),
) -> Response:
    """Server-Sent Events: ``vitals`` with the readings charted since ``after``,
    ``alarms`` with the open alarms whenever they change, and ``next-reading`` with the
    next-reading line (``next_reading_shown``) whenever it reads otherwise. Each look is
    a short read of its own; the request's own transaction ends when the stream begins."""
    await run_in_threadpool(service.open_live_session, db, actor=actor, session_id=session_id)
    factory = request.app.state.session_factory

    zone = request.app.state.settings.zone

    def look(last: int, schedule: service.ScheduleSeen | None) -> service.LiveUpdate:
        with factory() as reader:
            try:
                return service.live_update(
                    reader, session_id=session_id, after_vital_id=last, schedule=schedule
                )
            finally:
                reader.rollback()

    async def stream() -> AsyncIterator[str]:
        last, shown, schedule, line_shown = after, None, None, None
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            update = await run_in_threadpool(look, last, schedule)
            schedule = update.schedule
            if update.readings:
                last = update.last_vital_id
                yield f"event: vitals\ndata: {json.dumps(update.readings)}\n\n"
            alarms = json.dumps(update.alarms)
            if alarms != shown:
                shown = alarms
                yield f"event: alarms\ndata: {alarms}\n\n"
            if update.next_line is not None:
                line = json.dumps(next_reading_shown(update.next_line, zone))
                if line != line_shown:
                    line_shown = line
                    yield f"event: next-reading\ndata: {line}\n\n"
            if update.status != "open":
                yield f"event: closed\ndata: {json.dumps(update.status)}\n\n"
                return
            await asyncio.sleep(LIVE_EVERY_SECONDS)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
def session_page(
    request: Request,
    session_id: RecordId,
    db: DB,
    page: Annotated[int, Query(ge=0, le=100_000)] = 0,
    tab: Annotated[str | None, Query(pattern=TAB_PATTERN)] = None,
    actor: Actor = allow(*RUN),
) -> Response:
    return _page(request, db, actor, session_id, page=page, tab=tab)


@router.get("/sessions/{session_id}/note", response_class=HTMLResponse)
def note_page(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(*RUN)
) -> Response:
    state = service.get_session(db, actor=actor, session_id=session_id)
    from ketaclinic.sessions.service import note as note_text

    body, rows = note_text.render(state, request.app.state.settings.zone)
    clinic, lines = clinic_letterhead()
    # A printed note carries the clinic's letterhead and the patient's date of birth,
    # and none of the clinic-wide banners (they are about the clinic, not this patient).
    return render(
        request,
        "sessions/note.html",
        {
            "s": state,
            "draft": body,
            "rows": rows,
            "letterhead": (clinic, lines),
            "banners": [],
        },
    )


@router.post("/sessions/{session_id}/checklist", response_class=HTMLResponse)
async def checklist(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(*RUN)
) -> Response:
    def call(form: Any) -> object:
        answers = {
            k: str(form[k])
            for k in ("identity", "consent", "fasting", "driver", "pregnancy_test")
            if form.get(k)
        }
        return service.answer_checklist(db, actor=actor, session_id=session_id, answers=answers)

    return await _act(request, db, actor, session_id, "checklist", call)


@router.post("/sessions/{session_id}/override", response_class=HTMLResponse)
async def override(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(Role.prescriber)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        session_id,
        "checklist",
        lambda f: service.override_checklist(
            db, actor=actor, session_id=session_id, reason=str(f.get("reason", ""))
        ),
    )


@router.post("/sessions/{session_id}/infusion", response_class=HTMLResponse)
async def infusion(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(*RUN)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        session_id,
        "infusion",
        lambda f: service.chart_pump(
            db,
            actor=actor,
            session_id=session_id,
            kind=str(f.get("kind", "")),
            rate_ml_per_h=_float(f, "rate_ml_per_h"),
            reason=str(f.get("reason", "")) or None,
            lot_id=_lot(f),
        ),
    )


@router.post("/sessions/{session_id}/devices", response_class=HTMLResponse)
async def device(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(*RUN)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        session_id,
        "infusion",
        lambda f: service.chart_device(db, actor=actor, session_id=session_id, lot_id=_lot(f)),
    )


@router.post("/sessions/{session_id}/end-dosing", response_class=HTMLResponse)
async def end_dosing(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(*RUN)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        session_id,
        "infusion",
        lambda f: service.end_dosing_early(
            db, actor=actor, session_id=session_id, reason=str(f.get("reason", ""))
        ),
    )


@router.post("/sessions/{session_id}/monitor", response_class=HTMLResponse)
async def monitor(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(*RUN)
) -> Response:
    def call(f: Any) -> object:
        if str(f.get("action", "bind")) == "unbind":
            service.unbind_device(db, actor=actor, session_id=session_id)
            return None
        return service.bind_device(
            db, actor=actor, session_id=session_id, device_id=str(f.get("device_id", ""))
        )

    return await _act(request, db, actor, session_id, "vitals", call)


@router.post("/sessions/{session_id}/vitals", response_class=HTMLResponse)
async def vitals(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(*RUN)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        session_id,
        "vitals",
        lambda f: service.record_vitals(
            db,
            actor=actor,
            session_id=session_id,
            taken_at=_clock(request, f, "taken_at"),
            heart_rate=_int(f, "heart_rate"),
            systolic_bp=_int(f, "systolic_bp"),
            diastolic_bp=_int(f, "diastolic_bp"),
            spo2=_int(f, "spo2"),
            respiratory_rate=_int(f, "respiratory_rate"),
        ),
    )


@router.post("/sessions/{session_id}/alarms/{alarm_id}/acknowledge", response_class=HTMLResponse)
async def acknowledge(
    request: Request, session_id: RecordId, alarm_id: RecordId, db: DB, actor: Actor = allow(*RUN)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        session_id,
        "alarms",
        lambda f: service.acknowledge_alarm(
            db, actor=actor, session_id=session_id, alarm_id=alarm_id, note=str(f.get("note", ""))
        ),
    )


@router.post(
    "/sessions/{session_id}/prescriber-calls/{call_id}/answer", response_class=HTMLResponse
)
async def answer_call(
    request: Request,
    session_id: RecordId,
    call_id: RecordId,
    db: DB,
    actor: Actor = allow(Role.prescriber),
) -> Response:
    return await _act(
        request,
        db,
        actor,
        session_id,
        "prescriber-calls",
        lambda f: service.answer_prescriber_call(
            db,
            actor=actor,
            session_id=session_id,
            call_id=call_id,
            decision=str(f.get("decision", "")),
            note=str(f.get("note", "")),
        ),
    )


@router.post("/sessions/{session_id}/scores", response_class=HTMLResponse)
async def scores(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(*RUN)
) -> Response:
    def call(form: Any) -> object:
        instrument_id = str(form.get("instrument_id", ""))
        if instrument_id not in records.SESSION_INSTRUMENTS:
            raise Invalid("choose a score", fields={"instrument_id": "unknown"})
        items = instruments.get(instrument_id).items
        given = {i.id: _int(form, f"{instrument_id}_{i.id}") for i in items}
        answers = {k: v for k, v in given.items() if v is not None}
        return service.record_score(
            db, actor=actor, session_id=session_id, instrument_id=instrument_id, answers=answers
        )

    return await _act(request, db, actor, session_id, "entry", call)


@router.post("/sessions/{session_id}/side-effects", response_class=HTMLResponse)
async def side_effects(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(*RUN)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        session_id,
        "observations",
        lambda f: service.record_side_effect(
            db,
            actor=actor,
            session_id=session_id,
            effect_id=str(f.get("effect_id", "")),
            severity=str(f.get("severity", "")),
            note=str(f.get("note", "")),
        ),
    )


@router.post("/sessions/{session_id}/symptoms", response_class=HTMLResponse)
async def symptoms(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(*RUN)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        session_id,
        "alarms",
        lambda f: service.record_symptom(
            db,
            actor=actor,
            session_id=session_id,
            symptom_id=str(f.get("symptom_id", "")),
            note=str(f.get("note", "")),
        ),
    )


@router.post("/sessions/{session_id}/interventions", response_class=HTMLResponse)
async def interventions(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(*RUN)
) -> Response:
    def call(f: Any) -> object:
        dose = _float(f, "dose")
        if dose is None:
            raise Invalid("give the dose", fields={"dose": "required"})
        return service.record_intervention(
            db,
            actor=actor,
            session_id=session_id,
            drug=str(f.get("drug", "")),
            dose=dose,
            unit=str(f.get("unit", "")),
            route=str(f.get("route", "")),
            reason=str(f.get("reason", "")),
        )

    return await _act(request, db, actor, session_id, "observations", call)


@router.post("/sessions/{session_id}/notes", response_class=HTMLResponse)
async def notes(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(*RUN)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        session_id,
        "observations",
        lambda f: service.record_note(
            db, actor=actor, session_id=session_id, text=str(f.get("text", ""))
        ),
    )


@router.post("/sessions/{session_id}/{what}/{item_id}/error", response_class=HTMLResponse)
async def in_error(
    request: Request,
    session_id: RecordId,
    what: str,
    item_id: RecordId,
    db: DB,
    actor: Actor = allow(*RUN),
) -> Response:
    def call(f: Any) -> object:
        reason = str(f.get("reason", ""))
        if what == "vitals":
            return service.mark_vitals_in_error(
                db, actor=actor, session_id=session_id, vital_sign_id=item_id, reason=reason
            )
        if what == "events":
            return service.mark_event_in_error(
                db, actor=actor, session_id=session_id, event_id=item_id, reason=reason
            )
        if what == "entries":
            return service.mark_entry_in_error(
                db, actor=actor, session_id=session_id, entry_id=item_id, reason=reason
            )
        raise Invalid(f"nothing called {what!r} to correct", fields={"what": "unknown"})

    return await _act(request, db, actor, session_id, "chronology", call)


@router.post("/sessions/{session_id}/discharge", response_class=HTMLResponse)
async def discharge(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(*RUN)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        session_id,
        "note",
        lambda f: service.discharge(
            db,
            actor=actor,
            session_id=session_id,
            escort_recorded=_yes_no(f, "escort_recorded"),
            no_driving_instruction_given=_yes_no(f, "no_driving_instruction_given"),
        ),
    )


def _yes_no(form: Any, name: str) -> bool:
    """A required yes/no answer from the discharge form."""
    value = str(form.get(name, "")).strip()
    if value not in ("yes", "no"):
        raise Invalid("answer yes or no", fields={name: "answer yes or no"})
    return value == "yes"


@router.post("/sessions/{session_id}/cancel", response_class=HTMLResponse)
async def cancel(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(*RUN)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        session_id,
        "top",
        lambda f: service.cancel_session(
            db, actor=actor, session_id=session_id, reason=str(f.get("reason", ""))
        ),
    )


@router.post("/sessions/{session_id}/sign", response_class=HTMLResponse)
async def sign(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(Role.nurse)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        session_id,
        "note",
        lambda f: service.sign_note(
            db,
            actor=actor,
            session_id=session_id,
            password=str(f.get("password", "")),
            zone=request.app.state.settings.zone,
        ),
    )


@router.post("/sessions/{session_id}/cosign", response_class=HTMLResponse)
async def cosign(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(Role.prescriber)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        session_id,
        "note",
        lambda f: service.cosign_note(
            db, actor=actor, session_id=session_id, password=str(f.get("password", ""))
        ),
    )


@router.post("/sessions/{session_id}/addendum", response_class=HTMLResponse)
async def addendum(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(*RUN)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        session_id,
        "note",
        lambda f: service.add_addendum(
            db,
            actor=actor,
            session_id=session_id,
            text=str(f.get("text", "")),
            password=str(f.get("password", "")),
        ),
    )


@router.post("/sessions/{session_id}/enrolment", response_class=HTMLResponse)
async def enrolment(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(*RUN)
) -> Response:
    def call(f: Any) -> object:
        state = service.get_session(db, actor=actor, session_id=session_id)
        raw = str(f.get("enrolled_on", "")).strip()
        try:
            on = date.fromisoformat(raw)
        except ValueError as exc:
            raise Invalid("give the enrolment date", fields={"enrolled_on": "a date"}) from exc
        return service.record_enrolment(
            db,
            actor=actor,
            patient_id=state.session.patient_id,
            enrolment_id=str(f.get("enrolment_id", "")),
            enrolled_on=on,
        )

    return await _act(request, db, actor, session_id, "checklist", call)


@router.post("/sessions/{session_id}/record", response_class=HTMLResponse)
async def record_answers(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(*RUN)
) -> Response:
    def call(f: Any) -> object:
        answers = {x.id: str(f.get(x.id, "")) for x in esketamine.TEMPLATE if x.kind != "auto"}
        return service.answer_record(db, actor=actor, session_id=session_id, answers=answers)

    return await _act(request, db, actor, session_id, "record", call)


@router.post("/sessions/{session_id}/record/sign", response_class=HTMLResponse)
async def record_sign(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(*RUN)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        session_id,
        "record",
        lambda f: service.sign_record(
            db, actor=actor, session_id=session_id, password=str(f.get("password", ""))
        ),
    )


@router.post("/sessions/{session_id}/record/file", response_class=HTMLResponse)
async def record_file(
    request: Request, session_id: RecordId, db: DB, actor: Actor = allow(*RUN)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        session_id,
        "record",
        lambda f: service.file_record(
            db, actor=actor, session_id=session_id, reference=str(f.get("reference", ""))
        ),
    )


__all__ = ["SessionView", "router"]
