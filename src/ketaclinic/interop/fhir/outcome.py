"""How the FHIR interface answers: ``application/fhir+json`` always, and every refusal
as an OperationOutcome with the status FHIR's RESTful API gives it (400 a bad
parameter or body, 401/403, 404 an unknown id or type, 409, 422 a resource that breaks
a business rule)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from ketaclinic.platform.errors import ClinicError

log = logging.getLogger("ketaclinic.fhir")

FHIR_JSON = "application/fhir+json"

# OperationOutcome.issue.code (FHIR R4 IssueType value set) by HTTP status.
_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "processing",
}


class FhirError(ClinicError):
    """A refusal specific to FHIR: ``status`` and the issue code travel with it."""

    def __init__(self, detail: str, *, status: int = 400, code: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code or _ISSUE_CODES.get(status, "processing")
        self.title = "FHIR request not accepted"


def operation_outcome(
    issues: list[tuple[str, str, str]], *, id_: str | None = None
) -> dict[str, Any]:
    """``issues``: (severity, code, text) each."""
    body: dict[str, Any] = {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": severity, "code": code, "diagnostics": text}
            for severity, code, text in issues
        ],
    }
    if id_:
        body["id"] = id_
    return body


class FhirResponse(Response):
    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def refusal(status: int, detail: str, *, code: str | None = None) -> FhirResponse:
    issue_code = code or _ISSUE_CODES.get(status, "processing")
    headers = {"WWW-Authenticate": 'Bearer realm="ketaclinic"'} if status == 401 else None
    return FhirResponse(
        operation_outcome([("error", issue_code, detail)]), status_code=status, headers=headers
    )


def _invalid(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"] if p not in ("body", "query", "path"))
        parts.append(f"{where}: {err['msg']}" if where else str(err["msg"]))
    return "; ".join(parts) or "the request is invalid"


class FhirRoute(APIRoute):
    """A route whose refusals (also those of its dependencies: roles, parameters) are
    OperationOutcomes. A ClinicError keeps its status except 422, which FHIR gives to
    a resource that breaks a business rule and so keeps too; FastAPI's own parameter
    validation is a 400 (a bad search parameter)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except FhirError as exc:
                return refusal(exc.status, exc.detail, code=exc.code)
            except ClinicError as exc:
                detail = exc.detail
                if exc.fields:
                    detail += " (" + "; ".join(f"{k}: {v}" for k, v in exc.fields.items()) + ")"
                return refusal(exc.status, detail)
            except RequestValidationError as exc:
                return refusal(400, _invalid(exc))

        return answer
