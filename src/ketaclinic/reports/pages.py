"""Report pages and downloads: the session note and REMS form as PDF, the progress
report (the patient's copy in the portal, the referring clinician's from the chart),
the clinic's outcomes and safety report, and the researcher's tables and export."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from ketaclinic.care import service as care
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import ChartSection
from ketaclinic.platform.auth import allow, get_db
from ketaclinic.platform.errors import Invalid
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.pdf import PDF_MEDIA_TYPE
from ketaclinic.platform.roles import Role
from ketaclinic.platform.web import render
from ketaclinic.reports import service
from ketaclinic.sessions import service as sessions

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
RUN = (Role.nurse, Role.prescriber)
CLINIC = (Role.prescriber, Role.admin)

NAV = [
    ("Clinic report", "/reports/clinic", frozenset(CLINIC)),
    ("Research", "/reports/research", frozenset({Role.researcher})),
    ("My progress report", "/portal/progress-report.pdf", frozenset({Role.patient})),
]


def _chart(db: Session, actor: Actor, patient: patients.Patient) -> dict[str, Any]:
    given = sessions.sessions_of_patient(db, actor=actor, patient_id=patient.id)
    team = care.care_team(db, actor=actor, patient_id=patient.id)
    return {
        "patient_id": patient.id,
        "referring": [m for m in team if m.role == "referring"],
        "notes": [s for s in given if s.status in ("signed", "cosigned")],
        "rems": [s for s in given if s.route == "esketamine_nasal" and s.status != "cancelled"],
    }


CHART_SECTIONS = [ChartSection("reports", "Reports", "reports/_chart.html", _chart)]


def _pdf(found: service.Pdf) -> Response:
    return Response(
        found.content,
        media_type=PDF_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'inline; filename="{found.filename}"',
            "Cache-Control": "no-store",
        },
    )


def _day(raw: str | None, field: str, default: date) -> date:
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{raw} is not a date (YYYY-MM-DD)", fields={field: "YYYY-MM-DD"}) from None


def _today(request: Request) -> date:
    return datetime.now(request.app.state.settings.zone).date()


@router.get("/reports/sessions/{session_id}/note.pdf")
def session_note(db: DB, session_id: RecordId, actor: Actor = allow(*RUN)) -> Response:
    return _pdf(service.session_note_pdf(db, actor=actor, session_id=session_id))


@router.get("/reports/sessions/{session_id}/rems.pdf")
def rems_form(db: DB, session_id: RecordId, actor: Actor = allow(*RUN)) -> Response:
    return _pdf(service.rems_form_pdf(db, actor=actor, session_id=session_id))


@router.get("/reports/patients/{patient_id}/progress.pdf")
def progress_for_staff(
    db: DB,
    patient_id: RecordId,
    audience: Annotated[Literal["patient", "referring"], Query(alias="for")] = "referring",
    member: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    actor: Actor = allow(*RUN),
) -> Response:
    return _pdf(
        service.progress_report_pdf(
            db, actor=actor, patient_id=patient_id, audience=audience, member_id=member
        )
    )


@router.get("/portal/progress-report.pdf")
def my_progress(db: DB, actor: Actor = allow(Role.patient)) -> Response:
    if actor.patient_id is None:
        raise Invalid("this account is not linked to a patient record")
    return _pdf(service.progress_report_pdf(db, actor=actor, patient_id=actor.patient_id))


@router.get("/reports/clinic", response_class=HTMLResponse)
def clinic_form(request: Request, actor: Actor = allow(*CLINIC)) -> Response:
    end = _today(request)
    start = end - timedelta(days=90)
    return render(request, "reports/clinic.html", {"start": start, "end": end})


@router.get("/reports/clinic.pdf")
def clinic_report(
    request: Request,
    db: DB,
    start: str | None = None,
    end: str | None = None,
    actor: Actor = allow(*CLINIC),
) -> Response:
    last = _day(end, "end", _today(request))
    first = _day(start, "start", last - timedelta(days=90))
    return _pdf(service.clinic_report_pdf(db, actor=actor, start=first, end=last))


@router.get("/reports/research", response_class=HTMLResponse)
def research_page(
    request: Request,
    db: DB,
    start: str | None = None,
    end: str | None = None,
    actor: Actor = allow(Role.researcher),
) -> Response:
    last = _day(end, "end", _today(request))
    first = _day(start, "start", last - timedelta(days=365))
    tables = service.research_tables(db, actor=actor, start=first, end=last)
    return render(request, "reports/research.html", {"t": tables})


@router.get("/reports/research/export.zip")
def research_export(db: DB, actor: Actor = allow(Role.researcher)) -> Response:
    found = service.research_export(db, actor=actor)
    return Response(
        found.content,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{found.filename}"',
            "Cache-Control": "no-store",
        },
    )
