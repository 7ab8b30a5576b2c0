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
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ketaclinic.platform import unit_of_work
from ketaclinic.platform.areas import area_modules
from ketaclinic.platform.audit import chain as audit_chain
from ketaclinic.platform.auth import principal
from ketaclinic.platform.db import make_engine, make_session_factory
from ketaclinic.platform.errors import ClinicError, Conflict, Invalid, Unauthenticated
from ketaclinic.platform.middleware import (
    SECURITY_HEADERS,
    BodyLimit,
    Guard,
    TabletLock,
    problem_body,
    route_label,
    wants_json,
)
from ketaclinic.platform.problems import PROBLEM_MEDIA_TYPE, document_problems, integrity_problem
from ketaclinic.platform.settings import Settings, get_settings
from ketaclinic.platform.web import build_environment, render

log = logging.getLogger("ketaclinic")

# The platform's own routers; each area's ``api`` and ``pages`` are found by name.
PLATFORM_ROUTERS = ["ketaclinic.platform.pages", "ketaclinic.platform.api"]

__all__ = ["SECURITY_HEADERS", "api_routes", "create_app", "problem"]


def _wants_json(request: Request) -> bool:
    return wants_json(request.scope)


def problem(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, title, detail, **extra),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _conflict(exc: IntegrityError) -> tuple[str, dict[str, str]]:
    kind, fields = integrity_problem(exc)
    if kind == "UNIQUE" and fields:
        return f"{', '.join(fields)}: already taken by another record; nothing was saved", fields
    if kind == "FOREIGN KEY":
        return "the request refers to a record that does not exist; nothing was saved", fields
    return (
        "someone else changed the same record at the same moment; "
        "nothing was saved: reload and retry"
    ), fields


def _allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route answers at ``path`` (Starlette names only the first
    route that matched the path)."""
    methods: set[str] = set()

    def walk(routes: list[Any]) -> None:
        for route in routes:
            if hasattr(route, "original_router"):
                walk(route.original_router.routes)
            regex = getattr(route, "path_regex", None)
            if regex is not None and getattr(route, "methods", None) and regex.match(path):
                methods.update(route.methods)

    walk(list(app.routes))
    return sorted(methods)


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
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(app, request.url.path))
        if _wants_json(request):
            return problem(exc.status_code, detail, detail, headers=headers)
        await principal(request)
        response = render(
            request, "error.html", {"title": detail, "detail": ""}, status_code=exc.status_code
        )
        response.headers.update(headers)
        return response

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> Response:
        # Flushed inside a service: the unit of work rolls the act back on the 409.
        detail, fields = _conflict(exc)
        log.warning("integrity conflict on %s", route_label(request.scope))
        return await clinic_error(request, Conflict(detail, fields=fields))

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> Response:
        # A value the column cannot hold (PostgreSQL: out of range) that no schema bound
        # stopped: the client's input, so a 422; the bound belongs in the schema.
        log.warning("value out of the database's range on %s", route_label(request.scope))
        detail = "a value is out of the range the record can hold; nothing was saved"
        return await clinic_error(request, Invalid(detail))


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    # What reads left to audit is written before the process ends.
    await run_in_threadpool(app.state.later_writes.close)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.effective_secret_key  # noqa: B018 - fail at start-up, not on first request
    settings.effective_audit_key  # noqa: B018 - likewise the audit trail's MAC key
    settings.check_messaging()  # links need the public address; transports their settings
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
    app.state.session_factory.configure(info=audit_chain.session_info(settings))
    app.state.templates = build_environment(settings.zone)
    app.state.later_writes = unit_of_work.LaterWrites(
        app.state.session_factory, delay=settings.read_audit_delay_seconds
    )

    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        larger=[("/fhir", max(settings.max_body_bytes, 2 * settings.fhir_max_bundle_bytes))],
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
        except IntegrityError as exc:
            detail, fields = _conflict(exc)
            response = problem(409, "Conflict", detail, **({"errors": fields} if fields else {}))
        except OperationalError:
            log.error("commit failed on %s", route_label(request.scope))
            response = problem(
                503, "Busy", "the database could not save this just now; nothing was saved: retry"
            )
        return response

    # Guard (headers, correlation id, the last-wall 500) is outermost. The body cap sits
    # inside the unit of work, right above the routes: the unit of work reads the body
    # through a task group, which would wrap the cap's 413 into an exception group.
    # The tablet lock sits inside Guard (its replies carry the security headers) and
    # outside the unit of work: a refused address never opens a transaction.
    app.add_middleware(TabletLock)
    app.add_middleware(Guard)
    _install_error_handlers(app)
    _document_problems(app)
    static = Path(__file__).resolve().parent / "static"
    # The more specific mount first: Starlette takes the first prefix that matches.
    app.mount("/static/swagger", StaticFiles(directory=_swagger_dir()), name="swagger")
    app.mount("/static", StaticFiles(directory=static), name="static")
    for module in [import_module(m) for m in PLATFORM_ROUTERS]:
        app.include_router(module.router)
    # An area's ``fhir`` package (interop's FHIR R4 interface) plugs in the same way.
    for module in area_modules("api") + area_modules("fhir") + area_modules("pages"):
        app.include_router(module.router)
    return app


def _document_problems(app: FastAPI) -> None:
    """The OpenAPI document lists every operation's error statuses as problem+json."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _swagger_dir() -> Path:
    """A current Swagger UI build (5.x, which renders OpenAPI 3.1), shipped on PyPI by
    ``fastapi-offline``; only its static files are used."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).resolve().parent / "static"


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
