"""Server-rendered pages: one Jinja2 environment over every area's ``templates/``."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from ketaclinic.clinical import labels
from ketaclinic.platform import messaging
from ketaclinic.platform.areas import area_modules
from ketaclinic.platform.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Principal
from ketaclinic.platform.middleware import TABLET_COOKIE
from ketaclinic.platform.roles import LABELS, STAFF, Role

PACKAGE_ROOT = Path(__file__).resolve().parent.parent

Nav = tuple[str, str, frozenset[Role]]  # (label, path, roles that see it)
HOME: list[Nav] = [("Home", "/", frozenset(Role))]
ADMIN: list[Nav] = [
    ("Users", "/admin/users", frozenset({Role.admin})),
    ("Audit trail", "/admin/audit", frozenset({Role.admin})),
    ("Backups", "/admin/backups", frozenset({Role.admin})),
    ("API", "/api/docs", STAFF),
]
Banner = dict[str, Any]  # {"level": "alarm"|"warn"|"info", "text": str, "href": str | None}
BannerProvider = Callable[[Request, Principal], list[Banner]]


Script = tuple[str, frozenset[Role]]  # (local path, roles whose pages load it)


@lru_cache
def page_scripts() -> list[Script]:
    """Each area's ``pages.SCRIPTS``: local scripts loaded on every page for these roles
    (for example the alert banner's refresh for clinicians)."""
    return [s for m in area_modules("pages") for s in getattr(m, "SCRIPTS", [])]


@lru_cache
def navigation() -> list[Nav]:
    """Home, then each area's ``pages.NAV`` in area order, then administration."""
    entries = list(HOME)
    for module in area_modules("pages"):
        entries += getattr(module, "NAV", [])
    return entries + ADMIN


@lru_cache
def banner_providers() -> list[BannerProvider]:
    """Each area's ``pages.BANNERS``: callables that return banners for the caller, shown
    at the top of every page (for example open suicidality alerts for clinicians). A
    provider reads through ``platform.auth.request_session(request)``."""
    return [p for m in area_modules("pages") for p in getattr(m, "BANNERS", [])]


def _template_dirs() -> list[Path]:
    dirs = [PACKAGE_ROOT / "platform" / "templates"]
    dirs += sorted(p for p in PACKAGE_ROOT.glob("*/templates") if p not in dirs)
    return dirs


def build_environment(time_zone: Any) -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in _template_dirs()]),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return value.astimezone(time_zone).strftime(fmt) if value else ""

    def day(value: date | None) -> str:
        return value.isoformat() if value else ""

    env.filters["local"] = local
    env.filters["day"] = day
    # Codes shown by the clinic's names for them ("IV ketamine", not iv_ketamine).
    env.filters["named"] = labels.name
    # Addresses shown to staff who need to know a message exists, not to whom.
    env.filters["mask"] = messaging.mask
    env.globals["role_labels"] = LABELS
    return env


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    who: Principal | None = None,
) -> HTMLResponse:
    env: Environment = request.app.state.templates
    who = who if who is not None else getattr(request.state, "principal", None)
    ctx: dict[str, Any] = {
        "request": request,
        "clinic_name": request.app.state.settings.clinic_name,
        "actor": who.actor if who else None,
        "csrf_token": who.csrf_token if who else None,
        "nav": [
            (label, path) for label, path, roles in navigation() if who and who.actor.roles & roles
        ],
        "path": request.url.path,
        "banners": [b for p in banner_providers() for b in p(request, who)] if who else [],
        "page_scripts": [path for path, roles in page_scripts() if who and who.actor.roles & roles],
    }
    login_csrf = None
    if who is None:
        login_csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
        ctx["login_csrf"] = login_csrf
    ctx.update(context or {})
    response = HTMLResponse(env.get_template(name).render(ctx), status_code=status_code)
    if login_csrf and not request.cookies.get(LOGIN_CSRF_COOKIE):
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            login_csrf,
            httponly=True,
            samesite="strict",
            secure=is_secure(request),
        )
    return response


def is_secure(request: Request) -> bool:
    configured = request.app.state.settings.secure_cookies
    return bool(configured) if configured is not None else request.url.scheme == "https"


def hand_tablet_to_patient(
    request: Request, response: Any, *, token: str, minutes: int, kind: str = ""
) -> None:
    """The staff member hands this browser to a patient: their login session is ended
    (``accounts.end_session``, by the caller's transaction) and the browser is locked to
    the questionnaire ``/q/<token>`` for at most ``minutes`` (``middleware.TabletLock``);
    ``kind`` names another page it may be handed over for (``"sign"``: a consent to sign,
    ``/tablet/sign/<token>``).
    The staff member logs in again when the tablet comes back."""
    response.delete_cookie(SESSION_COOKIE)
    response.set_cookie(
        TABLET_COOKIE,
        f"{kind}.{token}" if kind else token,
        httponly=True,
        samesite="strict",
        secure=is_secure(request),
        max_age=max(minutes, 1) * 60,
    )


def end_tablet_lock(response: Any) -> None:
    """The questionnaire on the tablet is done: the lock goes, the login page remains."""
    response.delete_cookie(TABLET_COOKIE)
