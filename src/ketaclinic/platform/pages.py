"""Platform pages: login, logout, the role-fitted home page, users and the audit trail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ketaclinic.platform import backups, unit_of_work
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import ROLE_HOMES, HomeSection, home_sections, patient_home
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.auth import (
    SESSION_COOKIE,
    Principal,
    allow,
    allow_public,
    check_login_csrf,
    client_ip,
    get_db,
    principal,
)
from ketaclinic.platform.errors import ClinicError
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role
from ketaclinic.platform.web import end_tablet_lock, is_secure, render

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]


def _safe_next(target: str | None) -> str:
    # Only local paths: never redirect a fresh login to another site.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, who: Principal | None = allow_public(), next: str = "/"
) -> Response:
    if who is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": next, "error": None}, who=None)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    db: DB,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
    _: Principal | None = allow_public(),
) -> Response:
    await check_login_csrf(request)
    settings = request.app.state.settings
    result = accounts.authenticate(
        db,
        username=username,
        password=password,
        ip=client_ip(request),
        lockout_failures=settings.lockout_failures,
        lockout_minutes=settings.lockout_minutes,
    )
    if result.user is None:
        unit_of_work.keep_writes(request)  # the failure counts towards the lockout
        return render(
            request,
            "login.html",
            {"next": next, "error": result.problem, "username": username},
            status_code=401,
            who=None,
        )
    token, _csrf = accounts.start_session(
        db, user=result.user, ip=client_ip(request), hours=settings.session_hours
    )
    response = RedirectResponse(_safe_next(next), status_code=303)
    end_tablet_lock(response)  # a staff member took a handed-over tablet back
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
        max_age=settings.session_hours * 3600,
    )
    return response


@router.post("/logout")
def logout(request: Request, db: DB, _: Actor = allow(*Role)) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.end_session(db, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, db: DB, actor: Actor = allow(*Role)) -> Response:
    landing = patient_home() if actor.patient_only else None
    if landing is not None:
        return RedirectResponse(landing, status_code=303)
    context: dict[str, object] = {}
    parts: dict[Role, list[tuple[HomeSection, object]]] = {}
    for section in home_sections():
        if not actor.has_any(section.roles):
            continue
        if section.home is not None and section.home not in actor.roles:
            continue
        found = section.load(db, actor)
        if found is None:
            continue
        if section.template is not None and section.home is not None:
            parts.setdefault(section.home, []).append((section, found))
        else:
            context[section.key] = found
    context["homes"] = [
        (role, heading, parts[role]) for role, heading in ROLE_HOMES if role in parts
    ]
    if Role.admin in actor.roles:
        context["users"] = accounts.list_users(db)
    return render(request, "home.html", context)


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, db: DB, _: Actor = allow(Role.admin)) -> Response:
    return _users(request, db)


@router.post("/admin/users", response_class=HTMLResponse)
def add_user(
    request: Request,
    db: DB,
    username: Annotated[str, Form()] = "",
    full_name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    actor: Actor = allow(Role.admin),
) -> Response:
    try:
        accounts.create_user(
            db,
            actor=actor,
            username=username,
            full_name=full_name,
            password=password,
            roles=roles or [],
            email=email,
        )
    except ClinicError as exc:
        db.rollback()
        form = {"username": username, "full_name": full_name, "email": email, "roles": roles or []}
        return _users(
            request, db, error=exc.detail, fields=exc.fields, form=form, status=exc.status
        )
    return RedirectResponse("/admin/users", status_code=303)


def _users(
    request: Request,
    db: Session,
    *,
    error: str | None = None,
    fields: dict[str, str] | None = None,
    form: Mapping[str, object] | None = None,
    contact_of: int | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "users.html",
        {
            "users": accounts.list_users(db),
            "roles": list(Role),
            "preferences": accounts.ALERT_PREFERENCES,
            "error": error if contact_of is None else None,
            "contact_error": error if contact_of is not None else None,
            "contact_of": contact_of,
            "fields": fields or {},
            "form": form or {},
        },
        status_code=status,
    )


@router.post("/admin/users/{user_id}/contact", response_class=HTMLResponse)
def change_contact(
    request: Request,
    db: DB,
    user_id: RecordId,
    email: Annotated[str, Form()] = "",
    alert_preference: Annotated[str, Form()] = "email",
    actor: Actor = allow(Role.admin),
) -> Response:
    """A staff member's e-mail address and whether their alerts go there."""
    try:
        accounts.set_alert_preference(
            db, actor=actor, user_id=user_id, email=email, preference=alert_preference
        )
    except ClinicError as exc:
        db.rollback()
        form = {"email": email, "alert_preference": alert_preference}
        return _users(
            request,
            db,
            error=exc.detail,
            fields=exc.fields,
            form=form,
            contact_of=user_id,
            status=exc.status,
        )
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/roles", response_class=HTMLResponse)
def change_roles(
    request: Request,
    db: DB,
    user_id: RecordId,
    roles: Annotated[list[str] | None, Form()] = None,
    actor: Actor = allow(Role.admin),
) -> Response:
    accounts.set_roles(db, actor=actor, user_id=user_id, roles=roles or [])
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/deactivate", response_class=HTMLResponse)
def deactivate(
    request: Request, db: DB, user_id: RecordId, actor: Actor = allow(Role.admin)
) -> Response:
    accounts.deactivate_user(db, actor=actor, user_id=user_id)
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    db: DB,
    action: str | None = None,
    patient: RecordId | None = None,
    before: RecordId | None = None,
    after: RecordId | None = None,
    actor: Actor = allow(Role.admin),
) -> Response:
    """The trail a page at a time, newest first; the filters ride along in the links."""
    page = audit.trail_page(
        db, actor=actor, action=action or None, patient_id=patient, before=before, after=after
    )
    kept = {k: v for k, v in (("action", action or ""), ("patient", patient)) if v}
    return render(
        request,
        "audit.html",
        {
            "events": page.entries,
            "page": page,
            "action": action or "",
            "patient": patient,
            "older_link": _audit_link(kept, before=page.older),
            "newer_link": _audit_link(kept, after=page.newer),
            "newest_link": _audit_link(kept, newest=True),
            "paged": before is not None or after is not None,
        },
    )


def _audit_link(
    kept: Mapping[str, object],
    *,
    before: int | None = None,
    after: int | None = None,
    newest: bool = False,
) -> str | None:
    if before is None and after is None and not newest:
        return None
    query = dict(kept)
    if before is not None:
        query["before"] = before
    if after is not None:
        query["after"] = after
    return "/admin/audit" + ("?" + urlencode(query) if query else "")


@router.get("/admin/audit/verify", response_class=HTMLResponse)
def audit_verify_page(request: Request, db: DB, _: Actor = allow(Role.admin)) -> Response:
    # The last verification and whether one is waiting: the check itself runs as the
    # background job platform.verify_audit_trail, never inside a request.
    return render(request, "audit_verify.html", {"state": audit.verification_state(db)})


@router.post("/admin/audit/verify", response_class=HTMLResponse)
def ask_for_verification(request: Request, db: DB, actor: Actor = allow(Role.admin)) -> Response:
    audit.ask_for_verification(db, actor=actor)
    return RedirectResponse("/admin/audit/verify", status_code=303)


@router.get("/admin/backups", response_class=HTMLResponse)
def backups_page(request: Request, db: DB, _: Actor = allow(Role.admin)) -> Response:
    state = backups.schedule_state(db, request.app.state.settings)
    return render(request, "backups.html", {"state": state})


__all__ = ["router", "principal"]
