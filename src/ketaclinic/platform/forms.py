"""Turning a submitted HTML form into a validated Pydantic model, or errors per field.

A page shows an error beside the input it concerns (``aria-invalid`` and
``aria-describedby`` on the input, the message next to it) and lists every error in a
summary at the top of the form that links to its input: the macros of
``platform/templates/_form.html``. This module turns what went wrong (a Pydantic
``ValidationError`` or a service's ``ClinicError``) into the mapping those macros read:
``{input name: message}``, with ``"form"`` for what concerns no one input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ketaclinic.platform.errors import ClinicError

M = TypeVar("M", bound=BaseModel)
FORM = "form"  # the key of an error that concerns the whole form

# Pydantic's words for the commonest mistakes, said as a person would.
_MESSAGES = {
    "missing": "this is required",
    "string_too_short": "this is required",
    "int_parsing": "give a whole number",
    "float_parsing": "give a number",
    "date_from_datetime_parsing": "give a date",
    "date_parsing": "give a date",
    "datetime_from_date_parsing": "give a date and a time",
    "datetime_parsing": "give a date and a time",
    "time_parsing": "give a time",
    "decimal_parsing": "give an amount",
}


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


def _message(err: Mapping[str, Any]) -> str:
    kind = str(err.get("type", ""))
    if kind == "string_too_short" and err.get("ctx", {}).get("min_length", 1) > 1:
        return f"give at least {err['ctx']['min_length']} characters"
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    return str(err["msg"]).removeprefix("Value error, ")


def field_errors(
    exc: ValidationError | ClinicError,
    *,
    rename: Mapping[str, str] | Callable[[tuple[Any, ...]], str] | None = None,
) -> dict[str, str]:
    """``{input name: message}`` for what went wrong; the first error of an input wins.

    ``rename`` maps a model field (or, as a callable, an error's location) to the name of
    the input the person typed it in, where the two differ (``starts`` for ``starts_at``).
    A service's ``ClinicError`` names its fields in ``fields``: each gets the error's
    sentence (or the field's own words when several fields are named); one that names no
    field is an error of the whole form.
    """

    def name_of(loc: tuple[Any, ...], name: str) -> str:
        if callable(rename):
            return rename(loc)
        return (rename or {}).get(name, name)

    errors: dict[str, str] = {}
    if isinstance(exc, ValidationError):
        for err in exc.errors():
            loc = tuple(err["loc"])
            errors.setdefault(name_of(loc, str(loc[0]) if loc else FORM), _message(err))
        return errors
    several = len(exc.fields) > 1
    for key, words in exc.fields.items():
        sentence = words if several and len(str(words).split()) > 1 else exc.detail
        errors.setdefault(name_of(tuple(key.split(".")), key), sentence)
    if not errors:
        errors[FORM] = exc.detail
    return errors


def parse(model: type[M], form: Mapping[str, Any]) -> tuple[M | None, dict[str, str]]:
    try:
        return model.model_validate(form_values(form, set(model.model_fields))), {}
    except ValidationError as exc:
        return None, field_errors(exc)
