"""The bedside-monitor messages that were refused or held, for nurses and admins."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ketaclinic.interop import service
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import ChartSection
from ketaclinic.platform.auth import allow, get_db
from ketaclinic.platform.errors import ClinicError
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role
from ketaclinic.platform.web import render

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
REVIEW = (Role.nurse, Role.admin)

NAV = [("Monitor messages", "/interop/hl7", frozenset(REVIEW))]


def _page(
    request: Request,
    db: Session,
    actor: Actor,
    *,
    all: bool,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    letters = service.dead_letters(db, actor=actor, include_reviewed=all)
    return render(
        request,
        "interop/hl7.html",
        {"letters": letters, "all": all, "error": error},
        status_code=status_code,
    )


@router.get("/interop/hl7", response_class=HTMLResponse)
def dead_letters(
    request: Request, db: DB, all: bool = False, actor: Actor = allow(*REVIEW)
) -> Response:
    return _page(request, db, actor, all=all)


@router.post("/interop/hl7/{letter_id}/review", response_class=HTMLResponse)
async def review(
    request: Request, letter_id: RecordId, db: DB, actor: Actor = allow(*REVIEW)
) -> Response:
    form = await request.form()
    try:
        service.review_dead_letter(
            db, actor=actor, letter_id=letter_id, note=str(form.get("note", ""))
        )
    except ClinicError as exc:
        db.rollback()
        return _page(request, db, actor, all=False, error=exc.detail, status_code=exc.status)
    return RedirectResponse("/interop/hl7", status_code=303)


def _imported(db: Session, actor: Actor, patient: Any) -> dict[str, Any]:
    """What other systems sent for the patient (FHIR imports), for the clinician to
    confirm at the intake: each fact with its source; nothing here is charted."""
    if not actor.roles & IMPORTED_READERS:
        return {"allowed": False}
    from ketaclinic.interop.fhir import imports

    return {
        "allowed": True,
        "facts": imports.imported_facts(db, actor=actor, patient_id=patient.id),
    }


IMPORTED_READERS = frozenset({Role.prescriber, Role.nurse})
CHART_SECTIONS = [
    ChartSection("imported", "Imported from other systems", "interop/_imported.html", _imported)
]
