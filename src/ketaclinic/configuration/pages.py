"""Pages where the clinic reviews every clinical default and records its overrides."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ketaclinic.configuration import service
from ketaclinic.configuration.tables import TABLES
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.auth import allow, get_db
from ketaclinic.platform.errors import ClinicError
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role
from ketaclinic.platform.web import render

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
READERS = (Role.prescriber, Role.admin, Role.nurse)
NAV = [("Clinical defaults", "/clinic/defaults", frozenset({Role.prescriber, Role.admin}))]


@router.get("/clinic/defaults", response_class=HTMLResponse)
def overview(request: Request, db: DB, actor: Actor = allow(*READERS)) -> Response:
    return render(
        request,
        "configuration/overview.html",
        {
            "tables": TABLES.values(),
            "overrides": service.history(db),
            "may_override": service.may_override(actor),
        },
    )


@router.get("/clinic/defaults/{table_key}", response_class=HTMLResponse)
def table_page(
    request: Request, db: DB, table_key: str, actor: Actor = allow(*READERS)
) -> Response:
    return _table(request, db, actor, table_key, error=None, status_code=200)


def _table(
    request: Request,
    db: Session,
    actor: Actor,
    table_key: str,
    *,
    error: str | None,
    status_code: int,
) -> Response:
    rows = service.review(db, table_key)
    return render(
        request,
        "configuration/table.html",
        {
            "table": TABLES[table_key],
            "rows": rows,
            "error": error,
            "may_override": service.may_override(actor),
        },
        status_code=status_code,
    )


@router.post("/clinic/defaults/{table_key}", response_class=HTMLResponse)
def add_override(
    request: Request,
    db: DB,
    table_key: str,
    target: Annotated[str, Form()] = "",
    field: Annotated[str, Form()] = "",
    value: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    actor: Actor = allow(Role.prescriber, Role.admin),
) -> Response:
    try:
        service.override(
            db,
            actor=actor,
            table_key=table_key,
            target=target,
            field=field,
            value=value,
            reason=reason,
        )
    except ClinicError as exc:
        db.rollback()
        if exc.status == 404:
            raise
        return _table(request, db, actor, table_key, error=exc.detail, status_code=exc.status)
    return RedirectResponse(f"/clinic/defaults/{table_key}#{target}", status_code=303)


@router.post("/clinic/overrides/{override_id}/retire", response_class=HTMLResponse)
def retire(
    request: Request,
    db: DB,
    override_id: RecordId,
    reason: Annotated[str, Form()] = "",
    actor: Actor = allow(Role.prescriber, Role.admin),
) -> Response:
    row = service.retire(db, actor=actor, override_id=override_id, reason=reason)
    return RedirectResponse(f"/clinic/defaults/{row.table_key}", status_code=303)
