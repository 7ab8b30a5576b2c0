"""Who is calling, and may they? Every route declares its roles through ``allow``.

A browser authenticates with the session cookie and must send the session's CSRF token
with every write (form field ``csrf_token`` or header ``X-CSRF-Token``); a machine client
authenticates with a bearer API token and needs no CSRF token, since browsers never send
it by themselves.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ketaclinic.platform import unit_of_work
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.errors import Forbidden, Unauthenticated
from ketaclinic.platform.roles import STAFF, Role

SESSION_COOKIE = "kc_session"
LOGIN_CSRF_COOKIE = "kc_login_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC = "public"


@dataclass(frozen=True)
class Principal:
    actor: Actor
    via: Literal["session", "token"]
    csrf_token: str | None = None
    # A scoped API token: what it is limited to (None: not limited), and the one
    # patient it may reach (None: any the user may reach).
    scopes: frozenset[str] | None = None
    token_patient_id: int | None = None
    token_id: int | None = None


FHIR_PREFIX = "/fhir/"


def _bulk(path: str) -> bool:
    return "$export" in path or path.startswith(FHIR_PREFIX + "_bulk/")


def scope_permits(scopes: frozenset[str], method: str, path: str) -> bool:
    """Whether a scoped token may make this request: scoped tokens serve the FHIR
    interface only; bulk export needs ``fhir.export``, other reads ``fhir.read``,
    writes ``fhir.write``."""
    if not path.startswith(FHIR_PREFIX):
        return False
    if _bulk(path):
        return "fhir.export" in scopes
    if method in SAFE_METHODS:
        return "fhir.read" in scopes
    return "fhir.write" in scopes


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def get_db(request: Request) -> Session:
    """Dependency: the request's unit of work (``platform.unit_of_work``), which commits
    once when the reply is a success and rolls back otherwise."""
    return unit_of_work.request_db(request)


@contextmanager
def request_session(request: Request) -> Iterator[Session]:
    """The request's own database session, for code that runs while a page renders
    (banners, navigation badges)."""
    yield unit_of_work.request_db(request)


def _resolve(request: Request) -> Principal | None:
    db = unit_of_work.request_db(request)
    ip = client_ip(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        found_token = accounts.find_api_token(db, header[7:].strip())
        if found_token is None:
            raise Unauthenticated("the API token is unknown, revoked or its user inactive")
        row, user = found_token
        token_id = row.id
        if unit_of_work.stale(row.last_used_at, minutes=accounts.TOKEN_USE_RESOLUTION_MINUTES):
            unit_of_work.later(
                request, lambda later_db: accounts.note_token_used(later_db, token_id=token_id)
            )
        scopes = frozenset(row.scopes.split()) if row.scopes is not None else None
        return Principal(accounts.actor_for(user, ip=ip), "token", None, scopes, row.patient_id)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    found = accounts.resolve_session(db, token)
    if found is None:
        return None
    user, login = found
    return Principal(accounts.actor_for(user, ip=ip), "session", login.csrf_token)


async def principal(request: Request) -> Principal | None:
    """The caller, resolved once per request."""
    if not hasattr(request.state, "principal"):
        request.state.principal = await run_in_threadpool(_resolve, request)
    result: Principal | None = request.state.principal
    return result


async def _check_csrf(request: Request, who: Principal) -> None:
    expected = who.csrf_token
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(sent, expected):
        # A forged or stale form from a logged-in user is a refused act like any other:
        # the trail shows it (a burst of them is how a cross-site attack looks).
        _record_denied(request, who.actor, why="csrf")
        raise Forbidden("the form has expired or did not come from this site; reload and retry")


def allow(*roles: Role) -> Any:
    """Dependency: the caller must hold one of ``roles``; returns the ``Actor``."""
    allowed = frozenset(roles)
    if not allowed:
        raise ValueError("allow() needs at least one role; use allow_public() for open routes")

    async def dependency(request: Request) -> Actor:
        who = await principal(request)
        if who is None:
            raise Unauthenticated("log in to continue")
        if not who.actor.roles & allowed:
            _record_denied(request, who.actor)
            raise Forbidden("your role does not permit this")
        if who.scopes is not None and not scope_permits(
            who.scopes, request.method, request.url.path
        ):
            _record_denied(request, who.actor)
            raise Forbidden(
                f"this API token is limited to {', '.join(sorted(who.scopes))}; "
                "it does not permit this request"
            )
        if request.method not in SAFE_METHODS and who.via == "session":
            await _check_csrf(request, who)
        return who.actor

    dependency.allowed_roles = allowed  # type: ignore[attr-defined]
    return Depends(dependency)


def _record_denied(request: Request, actor: Actor, *, why: str = "role") -> None:
    """``access.denied`` in a transaction of its own, after the refused request's has
    rolled back (on SQLite a second writer inside the request would wait on itself)."""
    from ketaclinic.platform.audit import service as audit

    method = request.method
    path = request.url.path  # never the query string: it may carry patient data
    unit_of_work.later(
        request,
        lambda db: audit.record_denied(db, actor=actor, method=method, path=path, why=why),
    )


def allow_public() -> Any:
    """Dependency for routes anyone may use (login page, health checks, public pages).
    Returns the caller's ``Principal`` if logged in, else None."""

    async def dependency(request: Request) -> Principal | None:
        return await principal(request)

    dependency.allowed_roles = PUBLIC  # type: ignore[attr-defined]
    return Depends(dependency)


def allow_staff() -> Any:
    return allow(*STAFF)


def declared_roles(call: Callable[..., Any]) -> frozenset[Role] | str | None:
    return getattr(call, "allowed_roles", None)


async def check_login_csrf(request: Request) -> None:
    """Double-submit check for forms shown before anyone is logged in."""
    form = await request.form()
    sent = form.get("csrf_token")
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise Forbidden("the form has expired; reload the page and retry")
