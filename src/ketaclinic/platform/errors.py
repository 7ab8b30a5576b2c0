"""Errors a person can act on, raised by services and shown by routes.

Services raise these; the API turns them into ``application/problem+json`` (RFC 9457)
and pages show them beside the form field they concern.
"""

from __future__ import annotations

from collections.abc import Mapping


class ClinicError(Exception):
    status = 400
    title = "Request not accepted"

    def __init__(self, detail: str, *, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fields = dict(fields or {})


class Invalid(ClinicError):
    status = 422
    title = "Invalid input"


class NotFound(ClinicError):
    status = 404
    title = "Not found"


class Forbidden(ClinicError):
    status = 403
    title = "Not allowed"


class Unauthenticated(ClinicError):
    status = 401
    title = "Login required"


class Conflict(ClinicError):
    status = 409
    title = "Conflict"
