"""Turning a submitted HTML form into a validated Pydantic model, or errors per field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def form_values(form: Mapping[str, Any], fields: set[str]) -> dict[str, Any]:
    """Empty inputs mean 'not given'; the CSRF token is not part of the data."""
    values: dict[str, Any] = {}
    for name in fields:
        value = form.get(name)
        if isinstance(value, str):
            value = value.strip()
        if value not in (None, ""):
            values[name] = value
    return values


def parse(model: type[M], form: Mapping[str, Any]) -> tuple[M | None, dict[str, str]]:
    try:
        return model.model_validate(form_values(form, set(model.model_fields))), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "form"
            message = err["msg"].removeprefix("Value error, ")
            errors.setdefault(name, message)
        return None, errors
