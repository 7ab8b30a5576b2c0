"""Problem documents (RFC 9457): what a refused or failed request answers, how a
database constraint is named to the client, and how the OpenAPI document says so."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Table
from sqlalchemy.exc import IntegrityError

from ketaclinic.platform.db import Base

PROBLEM_MEDIA_TYPE = "application/problem+json"

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error (RFC 9457 problem details).",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "a URI naming the problem type"},
        "title": {"type": "string", "description": "short, the same for every such problem"},
        "status": {"type": "integer", "description": "the HTTP status code"},
        "detail": {"type": "string", "description": "what went wrong and what to do"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "per field (a body field, a path or query parameter): why",
        },
        "correlation_id": {
            "type": "string",
            "description": "the request's reference (also in X-Request-ID), for support",
        },
    },
}

# What any operation can answer besides its success, and why.
COMMON_STATUSES = {
    401: "Not logged in, or the API token is unknown, revoked or its user inactive",
    403: "The caller's role does not permit this (or the CSRF token is missing)",
    404: "A record the request names does not exist or is not the caller's to see",
    409: "Conflicts with the record's current state or with another record",
    413: "The request body is larger than the service accepts",
    422: "A parameter or body field is invalid; `errors` names each one",
    500: "Unexpected error; nothing was saved. `correlation_id` is the reference",
    503: "The database could not save this just now; nothing was saved: retry",
}
BODY_STATUSES = {400: "The body could not be read (not valid UTF-8 or malformed)"}


def document_problems(openapi: dict[str, Any]) -> dict[str, Any]:
    """Lists on every operation the error statuses the platform can answer, each as
    ``application/problem+json`` with the ``Problem`` schema (in place; returned)."""
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    ref = {"$ref": "#/components/schemas/Problem"}
    for item in openapi.get("paths", {}).values():
        for method, operation in item.items():
            if method not in {"get", "put", "post", "patch", "delete", "head", "options"}:
                continue
            statuses = dict(COMMON_STATUSES)
            if "requestBody" in operation:
                statuses.update(BODY_STATUSES)
            responses = operation.setdefault("responses", {})
            for status, description in sorted(statuses.items()):
                responses[str(status)] = {
                    "description": description,
                    "content": {PROBLEM_MEDIA_TYPE: {"schema": ref}},
                }
    # FastAPI's own validation-error shapes are no longer referenced.
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    return openapi


# ---------------------------------------------------------------- integrity errors

_SQLITE = re.compile(r"(UNIQUE|NOT NULL|CHECK|FOREIGN KEY) constraint failed(?::\s*(.+))?")
_PG_KINDS = {"23505": "UNIQUE", "23503": "FOREIGN KEY", "23502": "NOT NULL", "23514": "CHECK"}
_WHY = {
    "UNIQUE": "already taken by another record",
    "FOREIGN KEY": "refers to a record that does not exist",
    "NOT NULL": "required",
    "CHECK": "not an accepted value",
}


def _constraint_columns(name: str) -> list[str]:
    for table in Base.metadata.tables.values():
        assert isinstance(table, Table)
        for constraint in table.constraints:
            if constraint.name == name:
                return [c.name for c in getattr(constraint, "columns", ())]
        for index in table.indexes:
            if index.name == name:
                return [c.name for c in index.columns]
    return []


def integrity_problem(exc: IntegrityError) -> tuple[str, dict[str, str]]:
    """The kind of constraint an IntegrityError broke, and the fields it concerns where
    the database says (PostgreSQL names the constraint; SQLite names unique and
    not-null columns but not foreign keys). Reads the driver's diagnostics, never the
    statement or its parameters."""
    orig = exc.orig
    kind, fields = "", []
    diag = getattr(orig, "diag", None)
    if diag is not None:  # PostgreSQL (psycopg)
        kind = _PG_KINDS.get(str(getattr(orig, "sqlstate", "") or ""), "")
        if getattr(diag, "column_name", None):
            fields = [diag.column_name]
        elif getattr(diag, "constraint_name", None):
            fields = _constraint_columns(diag.constraint_name)
    else:  # SQLite
        found = _SQLITE.search(str(orig))
        if found:
            kind = found.group(1)
            named = (found.group(2) or "").strip()
            if kind in {"UNIQUE", "NOT NULL"}:
                fields = [part.strip().rsplit(".", 1)[-1] for part in named.split(",") if part]
            elif named:
                fields = _constraint_columns(named) or [named]
    why = _WHY.get(kind, "conflicts with another record")
    return kind, {field: why for field in fields}
