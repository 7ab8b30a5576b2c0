"""Platform JSON routes: health, the API description, the caller, users, audit check."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from ketaclinic.platform import integrity
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.accounts.schemas import (
    AuditVerificationOut,
    AuditVerificationResultOut,
    MeOut,
    RolesIn,
    UserIn,
    UserOut,
)
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.auth import Principal, allow, allow_public, allow_staff, get_db
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role
from ketaclinic.platform.web import render

router = APIRouter()
DB = Annotated[Session, Depends(get_db)]


def _user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        roles=sorted(user.role_names),
        active=user.active,
        patient_id=user.patient_id,
        created_at=user.created_at,
    )


@router.get("/healthz", include_in_schema=False)
def healthz(_: Principal | None = allow_public()) -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
def readyz(request: Request, _: Principal | None = allow_public()) -> Response:
    """Ready when the database answers, is whole (SQLite: header, application id,
    quick_check) and is at the schema revision this code expects; else 503 and why."""
    health = integrity.readiness(request.app.state.engine)
    if not health.ok:
        return JSONResponse({"status": "not ready", "reason": health.reason}, status_code=503)
    return JSONResponse({"status": "ready"})


@router.get("/api/openapi.json", include_in_schema=False)
def openapi(request: Request, _: Actor = allow_staff()) -> dict[str, Any]:
    document: dict[str, Any] = request.app.openapi()
    return document


@router.get("/api/docs", include_in_schema=False, response_class=HTMLResponse)
def api_docs(request: Request, _: Actor = allow_staff()) -> Response:
    return render(request, "api_docs.html")


@router.get("/api/me", tags=["accounts"])
def me(actor: Actor = allow(*Role)) -> MeOut:
    return MeOut(
        user_id=actor.user_id,
        username=actor.username,
        full_name=actor.full_name,
        roles=sorted(actor.roles),
        patient_id=actor.patient_id,
    )


@router.get("/api/users", tags=["accounts"])
def list_users(db: DB, _: Actor = allow(Role.admin)) -> list[UserOut]:
    return [_user_out(u) for u in accounts.list_users(db)]


@router.post("/api/users", tags=["accounts"], status_code=201)
def create_user(body: UserIn, db: DB, actor: Actor = allow(Role.admin)) -> UserOut:
    user = accounts.create_user(
        db,
        actor=actor,
        username=body.username,
        full_name=body.full_name,
        password=body.password,
        roles=[r.value for r in body.roles],
        email=body.email,
        patient_id=body.patient_id,
    )
    return _user_out(user)


@router.put("/api/users/{user_id}/roles", tags=["accounts"])
def set_roles(
    user_id: RecordId, body: RolesIn, db: DB, actor: Actor = allow(Role.admin)
) -> UserOut:
    return _user_out(
        accounts.set_roles(db, actor=actor, user_id=user_id, roles=[r.value for r in body.roles])
    )


@router.post("/api/users/{user_id}/deactivate", tags=["accounts"])
def deactivate_user(user_id: RecordId, db: DB, actor: Actor = allow(Role.admin)) -> UserOut:
    return _user_out(accounts.deactivate_user(db, actor=actor, user_id=user_id))


VERIFY_STATUS_URL = "/api/audit/verify"


def _verification_out(db: Session) -> AuditVerificationOut:
    state = audit.verification_state(db)
    last = state.last
    return AuditVerificationOut(
        status="waiting" if state.asked else ("done" if last else "never"),
        status_url=VERIFY_STATUS_URL,
        asked_at=state.asked.at if state.asked else None,
        asked_by=state.asked.actor if state.asked else None,
        last=None
        if last is None
        else AuditVerificationResultOut(
            ok=audit.intact(last), at=last.at, by=last.actor, outcome=last.detail
        ),
    )


@router.post("/api/audit/verify", tags=["audit"], status_code=202)
def ask_for_audit_verification(
    response: Response, db: DB, actor: Actor = allow(Role.admin)
) -> AuditVerificationOut:
    """Start a verification of the whole trail in the background (``platform.
    verify_audit_trail``); poll ``status_url`` for its result."""
    audit.ask_for_verification(db, actor=actor, source="the API")
    response.headers["Location"] = VERIFY_STATUS_URL
    return _verification_out(db)


@router.get(VERIFY_STATUS_URL, tags=["audit"])
def audit_verification_status(db: DB, _: Actor = allow(Role.admin)) -> AuditVerificationOut:
    """The last verification's result and whether one is waiting (nothing is verified
    inside the request: millions of records take the background job a while)."""
    return _verification_out(db)
