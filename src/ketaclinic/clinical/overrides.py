"""Clinic overrides of the clinical core's default tables.

Every default in ``ketaclinic.clinical`` is a row in a declared table, keyed by id,
carrying its source. A clinic may change a field of a row; the change is an
``Override`` (the new value, who decided it and why) passed in by the caller, never a
global, so that the result of every computation can name the overrides it used and the
platform can record them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

Row = TypeVar("Row")


@dataclass(frozen=True)
class Override:
    """One clinic decision replacing one field of one default row."""

    target: str
    field: str
    value: Any
    by: str
    reason: str

    def __post_init__(self) -> None:
        if not self.by.strip():
            raise ValueError(f"override of {self.target}.{self.field} needs who decided it")
        if not self.reason.strip():
            raise ValueError(f"override of {self.target}.{self.field} needs a reason")


def apply(rows: Mapping[str, Row], overrides: Iterable[Override] = ()) -> dict[str, Row]:
    """Return a copy of ``rows`` with each override applied to its row's field.

    Rows must be dataclasses. An override naming an unknown row or field is a
    ``ValueError``: a mistyped override must never be silently ignored.
    """
    result = dict(rows)
    for override in overrides:
        if override.target not in result:
            raise ValueError(f"override names unknown row {override.target!r}")
        row = result[override.target]
        names = {f.name for f in dataclasses.fields(row)}  # type: ignore[arg-type]
        if override.field not in names:
            raise ValueError(
                f"override names unknown field {override.field!r} of row {override.target!r}"
            )
        result[override.target] = dataclasses.replace(  # type: ignore[type-var]
            row, **{override.field: override.value}
        )
    return result
