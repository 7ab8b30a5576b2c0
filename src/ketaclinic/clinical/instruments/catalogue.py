"""Look instruments up by id, with a clinic's overrides applied."""

from __future__ import annotations

from collections.abc import Iterable

from ..overrides import Override, apply
from .definitions import DEFAULTS
from .model import Instrument


def get(instrument_id: str, overrides: Iterable[Override] = ()) -> Instrument:
    """The instrument with this id, with any overrides applied (each names its field).

    An unknown id is a ``ValueError`` listing the known ids.
    """
    rows = apply(DEFAULTS, overrides)
    try:
        return rows[instrument_id]
    except KeyError:
        known = ", ".join(DEFAULTS)
        raise ValueError(f"unknown instrument {instrument_id!r}; known: {known}") from None


def all(overrides: Iterable[Override] = ()) -> list[Instrument]:
    """Every instrument, in a stable order."""
    return list(apply(DEFAULTS, overrides).values())


def ids() -> list[str]:
    """The id of every instrument, in the same order as ``all()``."""
    return list(DEFAULTS)
