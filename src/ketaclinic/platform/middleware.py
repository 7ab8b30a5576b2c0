"""The pure ASGI layers around the app.

``Guard`` is the outermost: every reply, whatever made it, carries the security headers
and the request's correlation id (``X-Request-ID``, also ``request.state.correlation_id``);
an error that nothing else handled becomes a problem+json 500 here, inside the app, so
that neither Starlette nor the server logs its traceback (whose frames and message may
hold patient data or SQL parameters) and the kept-alive connection stays usable.

``BodyLimit`` refuses a request body larger than the configured cap with a 413 before
it is parsed: at once when ``Content-Length`` says so, or as soon as the bytes streamed
in (a chunked body) pass the cap, so that nobody reads the rest.

``TabletLock`` keeps a tablet handed to a patient on the one questionnaire it was handed
over for: the staff session was ended at the hand-over, and while the tablet cookie is
set every other address leads back to the questionnaire (the login page excepted, where
the staff member signs in again).
"""

from __future__ import annotations

import html
import json
import logging
import re
import uuid
from collections.abc import Sequence
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("ketaclinic")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
REQUEST_ID_HEADER = "X-Request-ID"
JSON_PREFIXES = ("/api", "/fhir", "/healthz", "/readyz")


def wants_json(scope: Scope) -> bool:
    """Whether the caller reads problem+json rather than an HTML page."""
    if str(scope.get("path", "")).startswith(JSON_PREFIXES):
        return True
    accept = ""
    for name, value in scope.get("headers", []):
        if name == b"accept":
            accept = value.decode("latin-1")
    return "application/json" in accept and "text/html" not in accept


def problem_body(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}


def route_label(scope: Scope) -> str:
    """The route's path template (``/api/patients/{patient_id}``), never the raw path."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return f"{scope.get('method', '?')} {template or '(no route)'}"


async def _send_simple(
    send: Send, status: int, body: bytes, content_type: str, headers: Sequence[tuple[str, str]]
) -> None:
    raw = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _damaged(exc: BaseException) -> bool:
    """SQLite's own words for a file whose pages do not hold."""
    from sqlalchemy.exc import DatabaseError

    if not isinstance(exc, DatabaseError):
        return False
    said = str(exc.orig).lower()
    return "malformed" in said or "not a database" in said


async def send_problem(
    scope: Scope, send: Send, status: int, title: str, detail: str, **extra: Any
) -> None:
    """A problem reply made below the app's own handlers (no templates needed)."""
    if wants_json(scope):
        body = json.dumps(problem_body(status, title, detail, **extra)).encode()
        await _send_simple(send, status, body, "application/problem+json", [])
        return
    title, detail = html.escape(title), html.escape(detail)
    reference = html.escape(str(extra.get("correlation_id", "")))
    page = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{title}</title>"
        f"<h1>{title}</h1><p>{detail}</p>"
        + (f"<p>Reference: {reference}</p>" if reference else "")
        + '<p><a href="/">Home</a></p></html>'
    )
    await _send_simple(send, status, page.encode(), "text/html; charset=utf-8", [])


class Guard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = uuid.uuid4().hex
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        static = str(scope.get("path", "")).startswith("/static")
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name == "Cache-Control" and static:
                        continue
                    headers.setdefault(name, value)
                headers[REQUEST_ID_HEADER] = correlation_id
            await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        except Exception as exc:  # noqa: BLE001 - the last wall: logged without its text
            # Type, route and reference only: the message, the frames' locals and bound
            # SQL parameters may carry patient data.
            log.error(
                "unexpected %s on %s [request %s]",
                type(exc).__name__,
                route_label(scope),
                correlation_id,
            )
            if started:
                return  # the reply is under way; the server ends it
            if _damaged(exc):
                # A damaged page met by a request: /readyz checks the file again at once
                # rather than answering its last verdict.
                from ketaclinic.platform import integrity

                integrity.forget_checks()
                await send_problem(
                    scope,
                    guarded_send,
                    503,
                    "Database damaged",
                    "the clinic's database is damaged; nothing was saved: tell the "
                    "administrator ('ketaclinic doctor', then restore the latest backup)",
                    correlation_id=correlation_id,
                )
                return
            await send_problem(
                scope,
                guarded_send,
                500,
                "Internal error",
                "something went wrong on our side; nothing was saved",
                correlation_id=correlation_id,
            )


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413, f"the request body is larger than this service accepts ({limit} bytes at most)"
        )
        self.limit = limit


class BodyLimit:
    """Caps request bodies at ``max_bytes``; ``larger`` gives a bigger cap to the paths
    under a prefix (uploads), none yet."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, larger: Sequence[tuple[str, int]] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = tuple(larger)

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.larger:
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(str(scope.get("path", "")))
        declared = None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                declared = value
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await send_problem(
                    scope, send, 400, "Bad request", "the Content-Length header is not a number"
                )
                return
            if length > limit:
                await self._refuse(scope, send, limit)
                return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised into whoever reads the body (FastAPI, a form parser), before it
                    # parses anything; the app's handler answers 413.
                    raise BodyTooLarge(limit)
            return message

        started = False

        async def noting_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, noting_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, noting_send, limit)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        await send_problem(
            scope,
            send,
            413,
            "Request too large",
            f"the request body is larger than this service accepts ({limit} bytes at most)",
        )


TABLET_COOKIE = "kc_tablet"
# The cookie holds the page the tablet was handed over for: a bare token is a
# questionnaire (``/q/<token>``); ``<kind>.<token>`` one of ``TABLET_HOMES`` (a consent
# to sign, ``sign.<token>`` for ``/tablet/sign/<token>``).
_TABLET_TOKEN = re.compile(r"(?:(?P<kind>[a-z]{1,12})\.)?(?P<token>[A-Za-z0-9_-]{16,100})")
TABLET_HOMES = {"": "/q/", "sign": "/tablet/sign/"}
# Where a handed-over tablet may go: its questionnaire, the files the page needs, and
# the login page for the staff member who takes the tablet back.
_TABLET_OPEN = ("/static/", "/login", "/healthz")


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key != b"cookie":
            continue
        for part in value.decode("latin-1").split(";"):
            k, _, v = part.strip().partition("=")
            if k == name:
                return v
    return None


class TabletLock:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        value = _cookie(scope, TABLET_COOKIE)
        found = _TABLET_TOKEN.fullmatch(value) if value is not None else None
        if found is None or (found["kind"] or "") not in TABLET_HOMES:
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        home = TABLET_HOMES[found["kind"] or ""] + found["token"]
        if path == home or path.startswith(_TABLET_OPEN):
            await self.app(scope, receive, send)
            return
        if wants_json(scope):
            await send_problem(
                scope,
                send,
                403,
                "Forbidden",
                "this tablet is handed to a patient for a questionnaire; staff log in again",
            )
            return
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [(b"location", home.encode()), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})
