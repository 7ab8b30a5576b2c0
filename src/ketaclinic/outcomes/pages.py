"""Outcome pages: questionnaire forms (link, portal, tablet, staff entry), the patient's
outcome page, the alert queue, the course dashboard, clinic outcomes and settings."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ketaclinic.clinical import instruments
from ketaclinic.outcomes import service
from ketaclinic.outcomes.home import HOME_SECTIONS as HOME_SECTIONS  # the home page's parts
from ketaclinic.outcomes.service import (
    config,
    links,
    outbox,
    progress,
    requests,
    responses,
    statistics,
)
from ketaclinic.outcomes.service.access import CLINICIANS
from ketaclinic.patients import service as patients
from ketaclinic.platform import charts
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import ChartSection
from ketaclinic.platform.auth import (
    SESSION_COOKIE,
    Principal,
    allow,
    allow_public,
    client_ip,
    get_db,
    request_session,
)
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import ClinicError, Invalid
from ketaclinic.platform.forms import field_errors
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role
from ketaclinic.platform.web import end_tablet_lock, hand_tablet_to_patient, render

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
CLINICAL = (Role.prescriber, Role.nurse)
READERS = (Role.prescriber, Role.admin, Role.researcher)
PATIENT_INSTRUMENTS = [i for i in instruments.all() if i.completed_by == "patient"]
ENTRY_INSTRUMENTS = ["phq9", "gad7", "pcl5", "qids_sr16", "madrs", "cssrs_screen"]

NAV = [
    ("Alerts", "/outcomes/alerts", frozenset(CLINICAL)),
    ("Courses", "/outcomes/dashboard", frozenset({Role.prescriber})),
    ("Clinic outcomes", "/outcomes/clinic", frozenset(READERS)),
    ("Outcome settings", "/outcomes/settings", frozenset({Role.admin})),
    ("Message failures", "/outcomes/messages", frozenset(outbox.FAILURE_READERS)),
    ("My questionnaires", "/my/questionnaires", frozenset({Role.patient})),
]


# ----------------------------------------------------------------- banners
def open_alert_counts(request: Request) -> tuple[int, int]:
    """Counts of open alerts, read in the request's own unit of work (a read takes no
    lock, so the banner never waits on the page)."""
    with request_session(request) as db:
        return service.open_counts(db)


def alert_banners(total: int, escalated: int) -> list[dict[str, str | None]]:
    if not total:
        return []
    plural = "s" if total != 1 else ""
    text = f"{total} open suicidality alert{plural}: acknowledge with the action taken"
    if escalated:
        text += f" ({escalated} escalated)"
    return [{"level": "alarm", "text": text, "href": "/outcomes/alerts"}]


def _banners(request: Request, who: Principal) -> list[dict[str, Any]]:
    if not who.actor.roles & CLINICIANS:
        return []
    return list(alert_banners(*open_alert_counts(request)))


BANNERS = [_banners]
SCRIPTS = [("/static/js/outcomes.js", frozenset(CLINICIANS))]


# ----------------------------------------------------------------- helpers
def period(request: Request, start: date, end: date) -> tuple[datetime, datetime]:
    zone = request.app.state.settings.zone
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def _answers(form: Any, instrument: instruments.Instrument) -> dict[str, str]:
    return {i.id: str(form.get(i.id)) for i in instrument.items if form.get(i.id) not in (None, "")}


def _form_context(instrument: instruments.Instrument, **extra: Any) -> dict[str, Any]:
    return {"instrument": instrument, "answers": {}, "errors": {}, "error": None, **extra}


def _crisis(db: Session) -> str:
    return str(config.setting(db, "crisis_text"))


# ----------------------------------------------------------------- single-use links
@router.get("/q/{token}", response_class=HTMLResponse)
def link_form(
    request: Request, db: DB, token: str, _: Principal | None = allow_public()
) -> Response:
    try:
        qr = requests.open_by_link(db, token=token, ip=client_ip(request))
    except links.LinkUnusable as exc:
        db.rollback()
        return render(
            request,
            "outcomes/link_unusable.html",
            {"reason": exc.reason},
            status_code=404 if exc.reason == "unknown" else 410,
        )
    instrument = instruments.get(qr.instrument_id)
    return render(
        request,
        "outcomes/fill.html",
        _form_context(instrument, action=f"/q/{token}", layout="outcomes/patient_base.html"),
    )


@router.post("/q/{token}", response_class=HTMLResponse)
async def link_submit(
    request: Request, db: DB, token: str, who: Principal | None = allow_public()
) -> Response:
    # No CSRF token: the single-use link token is itself the form's secret.
    form = await request.form()
    try:
        link, qr = links.resolve(db, token, now=utcnow())
    except links.LinkUnusable as exc:
        db.rollback()
        return render(
            request,
            "outcomes/link_unusable.html",
            {"reason": exc.reason},
            status_code=404 if exc.reason == "unknown" else 410,
        )
    instrument = instruments.get(qr.instrument_id)
    answers = _answers(form, instrument)
    try:
        done = requests.submit_by_link(db, token=token, answers=answers, ip=client_ip(request))
    except links.LinkUnusable as exc:
        db.rollback()
        return render(
            request, "outcomes/link_unusable.html", {"reason": exc.reason}, status_code=410
        )
    except ClinicError as exc:
        db.rollback()
        return render(
            request,
            "outcomes/fill.html",
            _form_context(
                instrument,
                action=f"/q/{token}",
                answers=answers,
                errors=exc.fields,
                error=exc.detail,
                layout="outcomes/patient_base.html",
            ),
            status_code=422,
        )
    response = render(
        request,
        "outcomes/thanks.html",
        {
            "alert": done.alert is not None,
            "crisis_text": _crisis(db),
            "layout": "outcomes/patient_base.html",
            "tablet": link.channel == "tablet",
        },
    )
    end_tablet_lock(response)
    return response


# ----------------------------------------------------------------- patient portal
@router.get("/my/questionnaires", response_class=HTMLResponse)
def my_list(request: Request, db: DB, actor: Actor = allow(Role.patient)) -> Response:
    due = service.due_questionnaires(db, actor=actor, patient_id=actor.patient_id or 0)
    history = service.score_history(db, actor=actor, patient_id=actor.patient_id or 0)
    return render(request, "outcomes/my_list.html", {"due": due, "history": history[-20:]})


@router.get("/my/questionnaires/{request_id}", response_class=HTMLResponse)
def my_form(
    request: Request, db: DB, request_id: RecordId, actor: Actor = allow(Role.patient)
) -> Response:
    qr = requests.own_request(db, actor=actor, request_id=request_id)
    instrument = instruments.get(qr.instrument_id)
    return render(
        request,
        "outcomes/fill.html",
        _form_context(instrument, action=f"/my/questionnaires/{request_id}", layout="base.html"),
    )


@router.post("/my/questionnaires/{request_id}", response_class=HTMLResponse)
async def my_submit(
    request: Request, db: DB, request_id: RecordId, actor: Actor = allow(Role.patient)
) -> Response:
    form = await request.form()
    qr = requests.own_request(db, actor=actor, request_id=request_id)
    instrument = instruments.get(qr.instrument_id)
    answers = _answers(form, instrument)
    try:
        done = service.submit_for_request(db, actor=actor, request_id=request_id, answers=answers)
    except Invalid as exc:
        db.rollback()
        return render(
            request,
            "outcomes/fill.html",
            _form_context(
                instrument,
                action=f"/my/questionnaires/{request_id}",
                answers=answers,
                errors=exc.fields,
                error=exc.detail,
                layout="base.html",
            ),
            status_code=422,
        )
    return render(
        request,
        "outcomes/thanks.html",
        {
            "alert": done.alert is not None,
            "crisis_text": _crisis(db),
            "layout": "base.html",
            "tablet": False,
        },
    )


# ----------------------------------------------------------------- staff entry and tablet
@router.get("/patients/{patient_id}/questionnaires/new", response_class=HTMLResponse)
def staff_form(
    request: Request,
    db: DB,
    patient_id: RecordId,
    instrument: str = "phq9",
    context: str = "visit",
    actor: Actor = allow(*CLINICAL),
) -> Response:
    definition = _instrument(instrument)
    patient = service_patient(db, actor, patient_id)
    return render(
        request,
        "outcomes/fill.html",
        _form_context(
            definition,
            action=f"/patients/{patient_id}/questionnaires/new?instrument={definition.id}",
            layout="base.html",
            patient=patient,
            context=context,
            contexts=config.CONTEXTS,
            staff=True,
        ),
    )


def _instrument(instrument_id: str) -> instruments.Instrument:
    try:
        return instruments.get(instrument_id)
    except ValueError as exc:
        raise Invalid(str(exc), fields={"instrument": "unknown"}) from None


def service_patient(db: Session, actor: Actor, patient_id: int) -> patients.Patient:
    return patients.get_patient(db, actor=actor, patient_id=patient_id, purpose="questionnaire")


@router.post("/patients/{patient_id}/questionnaires/new", response_class=HTMLResponse)
async def staff_submit(
    request: Request,
    db: DB,
    patient_id: RecordId,
    instrument: str = "phq9",
    actor: Actor = allow(*CLINICAL),
) -> Response:
    form = await request.form()
    definition = _instrument(instrument)
    answers = _answers(form, definition)
    context = str(form.get("context") or "visit")
    try:
        done = responses.record(
            db,
            actor=actor,
            patient_id=patient_id,
            instrument_id=definition.id,
            answers=answers,
            context=context,
        )
    except Invalid as exc:
        db.rollback()
        patient = service_patient(db, actor, patient_id)
        return render(
            request,
            "outcomes/fill.html",
            _form_context(
                definition,
                action=f"/patients/{patient_id}/questionnaires/new?instrument={definition.id}",
                answers=answers,
                errors=exc.fields,
                error=exc.detail,
                layout="base.html",
                patient=patient,
                context=context,
                contexts=config.CONTEXTS,
                staff=True,
            ),
            status_code=422,
        )
    anchor = "#alerts" if done.alert else "#responses"
    return RedirectResponse(f"/patients/{patient_id}/outcomes{anchor}", status_code=303)


@router.post("/patients/{patient_id}/questionnaires/tablet", response_class=HTMLResponse)
async def tablet(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*CLINICAL)
) -> Response:
    form = await request.form()
    token = service.start_tablet(
        db,
        actor=actor,
        patient_id=patient_id,
        instrument_id=str(form.get("instrument") or ""),
        context=str(form.get("context") or "visit"),
        staff_session=request.cookies.get(SESSION_COOKIE),
    )
    response = RedirectResponse(f"/q/{token}", status_code=303)
    minutes = int(config.setting(db, "tablet_link_minutes"))
    hand_tablet_to_patient(request, response, token=token, minutes=minutes)
    return response


@router.post("/patients/{patient_id}/questionnaires/request", response_class=HTMLResponse)
async def send_link(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*CLINICAL)
) -> Response:
    form = await request.form()
    service.request_questionnaire(
        db,
        actor=actor,
        patient_id=patient_id,
        instrument_id=str(form.get("instrument") or ""),
        context=str(form.get("context") or "visit"),
    )
    return RedirectResponse(f"/patients/{patient_id}/outcomes#requests", status_code=303)


# ----------------------------------------------------------------- the patient's outcomes
def trend_charts(found: progress.Standing) -> list[tuple[progress.Trend, str]]:
    anchor = found.anchor
    day = lambda at: round((at - anchor).total_seconds() / 86400, 2)  # noqa: E731
    result = []
    for trend in found.trends.values():
        rules = []
        if trend.baseline is not None:
            rules.append(charts.Rule(f"baseline {trend.baseline:g}", trend.baseline))
        if trend.response_line is not None:
            rules.append(
                charts.Rule(
                    f"response (50% of baseline) {trend.response_line:g}", trend.response_line
                )
            )
        if trend.remission_max is not None:
            rules.append(
                charts.Rule(f"remission at or below {trend.remission_max}", trend.remission_max)
            )
        chart = charts.Chart(
            title=trend.name,
            x_label="days since the first session" if found.sessions else "days before today",
            y_label="total score",
            series=[
                charts.Series(trend.name, [(day(at), total) for at, total, _, _ in trend.points])
            ],
            rules=rules,
            markers=[charts.Marker(f"session {s.number}", day(s.at)) for s in found.sessions],
            y_min=0,
            y_max=trend.max_total,
        )
        result.append((trend, charts.render_svg(chart)))
    return result


@router.get("/patients/{patient_id}/outcomes", response_class=HTMLResponse)
def outcomes_page(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*CLINICAL)
) -> Response:
    data = progress.patient_outcomes(db, actor=actor, patient_id=patient_id)
    return render(
        request,
        "outcomes/patient.html",
        {
            "data": data,
            "charts": trend_charts(data.standing),
            "patient": data.patient,
            "patient_instruments": PATIENT_INSTRUMENTS,
            "entry_instruments": ENTRY_INSTRUMENTS,
            "contexts": config.CONTEXTS,
            "actions": service.ACTIONS,
            "names": {i.id: i.name for i in instruments.all()},
            "people": service.names_on_alerts(db, data.alerts),
        },
    )


@router.post("/patients/{patient_id}/outcomes/flag", response_class=HTMLResponse)
async def flag(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*CLINICAL)
) -> Response:
    form = await request.form()
    service.flag_by_clinician(
        db, actor=actor, patient_id=patient_id, note=str(form.get("note") or "")
    )
    return RedirectResponse(f"/patients/{patient_id}/outcomes#alerts", status_code=303)


@router.get("/outcomes/responses/{response_id}", response_class=HTMLResponse)
def response_page(
    request: Request, db: DB, response_id: RecordId, actor: Actor = allow(*CLINICAL)
) -> Response:
    row = responses.response_detail(db, actor=actor, response_id=response_id)
    return render(
        request,
        "outcomes/response.html",
        {
            "r": row,
            "instrument": instruments.get(row.instrument_id),
            "observations": responses.observations_of(db, row.id),
        },
    )


# ----------------------------------------------------------------- alerts
@router.get("/outcomes/alerts", response_class=HTMLResponse)
def alert_queue(request: Request, db: DB, actor: Actor = allow(*CLINICAL)) -> Response:
    open_ = service.open_alerts(db, actor=actor)
    done = service.alerts.recently_acknowledged(
        db, actor=actor, since=utcnow() - timedelta(days=30)
    )
    ids = sorted({a.patient_id for a in open_ + done if a.patient_id is not None})
    # Every patient the queue names, read (and each read noted) with one statement.
    names = patients.get_patients(db, actor=actor, patient_ids=ids, purpose="questionnaire")
    return render(
        request,
        "outcomes/alerts.html",
        {
            "open": open_,
            "done": done,
            "names": names,
            "people": service.names_on_alerts(db, open_ + done),
            "actions": service.ACTIONS,
            "error": request.query_params.get("error"),
        },
    )


@router.post("/outcomes/alerts/{alert_id}/acknowledge", response_class=HTMLResponse)
async def acknowledge(
    request: Request, db: DB, alert_id: RecordId, actor: Actor = allow(*CLINICAL)
) -> Response:
    form = await request.form()
    service.acknowledge(
        db,
        actor=actor,
        alert_id=alert_id,
        action=str(form.get("action") or ""),
        note=str(form.get("note") or ""),
    )
    back = str(form.get("back") or "/outcomes/alerts")
    return RedirectResponse(
        back if back.startswith("/") and not back.startswith("//") else "/outcomes/alerts",
        status_code=303,
    )


# ----------------------------------------------------------------- dashboards
@router.get("/outcomes/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    db: DB,
    page: Annotated[int, Query(ge=0, le=100_000)] = 0,
    actor: Actor = allow(Role.prescriber),
) -> Response:
    found = progress.dashboard(db, actor=actor, page=page)
    return render(request, "outcomes/dashboard.html", {"found": found})


@router.get("/outcomes/clinic", response_class=HTMLResponse)
def clinic(
    request: Request,
    db: DB,
    start: date | None = None,
    end: date | None = None,
    actor: Actor = allow(*READERS),
) -> Response:
    last = end or date.today()
    first = start or last - timedelta(days=365)
    if first > last:
        raise Invalid("the period must start on or before its end", fields={"start": "after end"})
    if not actor.roles & {Role.prescriber, Role.admin}:
        # A researcher reads these counts with small cells suppressed, on their page.
        return RedirectResponse(f"/reports/research?start={first}&end={last}", status_code=303)
    groups = statistics.clinic_outcomes(
        db, actor=actor, start=period(request, first, last)[0], end=period(request, first, last)[1]
    )
    return render(request, "outcomes/clinic.html", {"groups": groups, "start": first, "end": last})


# ----------------------------------------------------------------- settings and outbox
@router.get("/outcomes/settings", response_class=HTMLResponse)
def settings_page(request: Request, db: DB, _: Actor = allow(Role.admin)) -> Response:
    return _settings(request, db, {}, None)


def _settings(
    request: Request, db: Session, errors: dict[str, str], saved: str | None, status_code: int = 200
) -> Response:
    rows = config.describe(db)
    db.rollback()
    return render(
        request,
        "outcomes/settings.html",
        {
            "rows": rows,
            "schedule": config.schedule(db),
            "errors": errors,
            "saved": saved,
            "timings": config.TIMINGS,
            "indications": config.INDICATIONS,
            "instruments": [i for i in instruments.all() if i.id in ENTRY_INSTRUMENTS],
        },
        status_code=status_code,
    )


@router.post("/outcomes/settings", response_class=HTMLResponse)
async def change_settings(request: Request, db: DB, actor: Actor = allow(Role.admin)) -> Response:
    form = await request.form()
    key = str(form.get("key") or "")
    reason = str(form.get("reason") or "")
    value: Any = form.get("value")
    if key == "schedule":
        current = config.schedule(db)
        removed = set(form.getlist("remove"))
        value = [r.__dict__ for n, r in enumerate(current) if str(n) not in removed]
        if form.get("add_instrument"):
            value.append(
                {
                    "instrument_id": str(form.get("add_instrument")),
                    "timing": str(form.get("add_timing")),
                    "indication": str(form.get("add_indication") or "*"),
                    "basis": str(form.get("add_basis") or "clinic decision"),
                    "evidence": "convention",
                }
            )
    try:
        config.change_setting(db, actor=actor, key=key, value=value, reason=reason)
    except Invalid as exc:
        db.rollback()
        return _settings(request, db, field_errors(exc), None, 422)
    return _settings(request, db, {}, key)


@router.get("/outcomes/outbox", response_class=HTMLResponse)
def outbox_page(request: Request, db: DB, actor: Actor = allow(Role.admin)) -> Response:
    rows = outbox.recent_messages(db, actor=actor)
    return render(request, "outcomes/outbox.html", {"rows": rows})


# ------------------------------------------------------------- delivery failures
def _failures(
    request: Request,
    db: Session,
    actor: Actor,
    *,
    error: str | None = None,
    failed_id: int | None = None,
    status_code: int = 200,
) -> Response:
    from ketaclinic.platform.messaging import mask

    rows = outbox.failures(db, actor=actor)
    return render(
        request,
        "outcomes/messages.html",
        {
            "rows": rows,
            "mask": mask,
            "may_fix": bool(actor.roles & outbox.FIXERS),
            "error": error,
            "failed_id": failed_id,
            "max_attempts": outbox.MAX_ATTEMPTS,
        },
        status_code=status_code,
    )


@router.get("/outcomes/messages", response_class=HTMLResponse)
def failures_page(
    request: Request, db: DB, actor: Actor = allow(*outbox.FAILURE_READERS)
) -> Response:
    return _failures(request, db, actor)


@router.post("/outcomes/messages/{message_id}/retry", response_class=HTMLResponse)
def retry_message(
    request: Request, db: DB, message_id: RecordId, actor: Actor = allow(*outbox.FIXERS)
) -> Response:
    try:
        outbox.retry(db, actor=actor, message_id=message_id, now=utcnow())
    except ClinicError as exc:
        db.rollback()
        return _failures(
            request, db, actor, error=exc.detail, failed_id=message_id, status_code=exc.status
        )
    return RedirectResponse("/outcomes/messages", status_code=303)


@router.post("/outcomes/messages/{message_id}/cancel", response_class=HTMLResponse)
async def cancel_message(
    request: Request, db: DB, message_id: RecordId, actor: Actor = allow(*outbox.FIXERS)
) -> Response:
    form = await request.form()
    try:
        outbox.cancel(db, actor=actor, message_id=message_id, reason=str(form.get("reason") or ""))
    except ClinicError as exc:
        db.rollback()
        return _failures(
            request, db, actor, error=exc.detail, failed_id=message_id, status_code=exc.status
        )
    return RedirectResponse("/outcomes/messages", status_code=303)


# ----------------------------------------------------------------- the patient chart
def _chart_summary(db: Session, actor: Actor, patient: patients.Patient) -> dict[str, object]:
    data = progress.latest_scores(db, actor=actor, patient=patient)
    data["names"] = {i.id: i.name for i in instruments.all()}
    return data


CHART_SECTIONS = [
    ChartSection("outcomes", "Outcomes", "outcomes/_chart_section.html", _chart_summary)
]
