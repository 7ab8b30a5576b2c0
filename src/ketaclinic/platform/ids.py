"""The ids a client may name: a value that no row can have is refused (422, naming the
parameter) before any SQL runs, whether it comes in a path, a query or a body.

Primary keys are ``Integer`` (32-bit on PostgreSQL) except the vital-sign time series,
whose ids are ``BigInteger`` (64-bit) there; SQLite stores both as 64-bit integers.
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

RecordId = Annotated[int, Ge(1), Le(INT32_MAX)]
"""The id of a row in an ``Integer`` primary-key table (every table but one)."""

BigRecordId = Annotated[int, Ge(1), Le(INT64_MAX)]
"""The id of a row in a ``BigInteger`` primary-key table (vital signs)."""
