"""The application factory: one FastAPI app with every area's routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import import_module
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ketaclinic.platform import unit_of_work
from ketaclinic.platform.areas import area_modules
from ketaclinic.platform.auth import principal
from ketaclinic.platform.db import make_engine, make_session_factory
from ketaclinic.platform.errors import ClinicError, Unauthenticated
from ketaclinic.platform.settings import Settings, get_settings
from ketaclinic.platform.web import build_environment, render

log = logging.getLogger("ketaclinic")

# The platform's own routers; each area's ``api`` and ``pages`` are found by name.
PLATFORM_ROUTERS = ["ketaclinic.platform.pages", "ketaclinic.platform.api"]

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


def _wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api", "/fhir", "/healthz", "/readyz")):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ClinicError)
    async def clinic_error(request: Request, exc: ClinicError) -> Response:
        if _wants_json(request):
            extra = {"errors": exc.fields} if exc.fields else {}
            return problem(exc.status, exc.title, exc.detail, **extra)
        if isinstance(exc, Unauthenticated):
            return render(
                request,
                "login.html",
                {"next": request.url.path, "error": None},
                status_code=401,
                who=None,
            )
        await principal(request)
        return render(
            request,
            "error.html",
            {"title": exc.title, "detail": exc.detail},
            status_code=exc.status,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = {
            ".".join(str(p) for p in err["loc"] if p != "body"): err["msg"] for err in exc.errors()
        }
        detail = "; ".join(f"{k}: {v}" for k, v in errors.items())
        if _wants_json(request):
            return problem(422, "Invalid input", detail, errors=errors)
        await principal(request)
        return render(
            request, "error.html", {"title": "Invalid input", "detail": detail}, status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = str(exc.detail)
        if _wants_json(request):
            return problem(exc.status_code, detail, detail)
        await principal(request)
        return render(
            request, "error.html", {"title": detail, "detail": ""}, status_code=exc.status_code
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # Log the type and route only: exception text may carry patient data.
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return problem(500, "Internal error", "something went wrong on our side; nothing was saved")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    # What reads left to audit is written before the process ends.
    await run_in_threadpool(app.state.later_writes.close)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.effective_secret_key  # noqa: B018 - fail at start-up, not on first request
    app = FastAPI(
        lifespan=_lifespan,
        title="ketaclinic",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        description="JSON API of ketaclinic. Errors are application/problem+json (RFC 9457).",
    )
    engine = make_engine(settings.effective_database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.templates = build_environment(settings.zone)
    app.state.later_writes = unit_of_work.LaterWrites(
        app.state.session_factory, delay=settings.read_audit_delay_seconds
    )

    @app.middleware("http")
    async def one_unit_of_work(request: Request, call_next: Any) -> Response:
        try:
            response: Response = await call_next(request)
        except BaseException:
            await run_in_threadpool(unit_of_work.finish, request, status=None)
            raise
        try:
            await run_in_threadpool(unit_of_work.finish, request, status=response.status_code)
        except IntegrityError:
            response = problem(
                409,
                "Conflict",
                "someone else changed the same record at the same moment; "
                "nothing was saved: reload and retry",
            )
        except OperationalError:
            log.error("commit failed on %s %s", request.method, request.url.path)
            response = problem(
                503, "Busy", "the database could not save this just now; nothing was saved: retry"
            )
        for name, value in SECURITY_HEADERS.items():
            if name == "Cache-Control" and request.url.path.startswith("/static"):
                continue
            response.headers.setdefault(name, value)
        return response

    _install_error_handlers(app)
    static = Path(__file__).resolve().parent / "static"
    # The more specific mount first: Starlette takes the first prefix that matches.
    app.mount("/static/swagger", StaticFiles(directory=_swagger_dir()), name="swagger")
    app.mount("/static", StaticFiles(directory=static), name="static")
    for module in [import_module(m) for m in PLATFORM_ROUTERS]:
        app.include_router(module.router)
    for module in area_modules("api") + area_modules("pages"):
        app.include_router(module.router)
    return app


def _swagger_dir() -> Path:
    import swagger_ui_bundle

    return Path(swagger_ui_bundle.swagger_ui_path)


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every APIRoute of the app, also inside included routers (which recent FastAPI
    keeps as nested objects instead of copying their routes)."""
    found: list[APIRoute] = []

    def walk(routes: list[Any]) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                found.append(route)
            elif hasattr(route, "original_router"):
                walk(route.original_router.routes)

    walk(list(app.routes))
    return found
