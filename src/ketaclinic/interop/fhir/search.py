"""Search parameters and the searchset Bundle: ``date`` ranges with FHIR's prefixes,
``code`` and ``category`` as ``[system|]code``, ``_count`` and paging links."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from ketaclinic.interop.fhir.outcome import FhirError

DEFAULT_COUNT = 50
MAX_COUNT = 500
_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")


@dataclass(frozen=True)
class DateBound:
    """One ``date`` parameter: the instant range its value covers, and the prefix."""

    prefix: str
    low: datetime
    high: datetime  # exclusive

    def admits(self, start: datetime, end: datetime | None = None) -> bool:
        end = end or start
        if self.prefix == "eq":
            return self.low <= start and end < self.high
        if self.prefix == "ne":
            return not (self.low <= start and end < self.high)
        if self.prefix in ("gt", "sa"):
            return end >= self.high
        if self.prefix == "lt" or self.prefix == "eb":
            return start < self.low
        if self.prefix == "ge":
            return end >= self.low
        return start < self.high  # le


def parse_date(raw: str) -> DateBound:
    """``[prefix]YYYY[-MM[-DD[Thh:mm[:ss][zone]]]]``; a date without a zone is UTC."""
    prefix = raw[:2] if raw[:2] in _PREFIXES else "eq"
    value = raw[2:] if raw[:2] in _PREFIXES else raw
    try:
        if len(value) == 4:
            low = datetime(int(value), 1, 1, tzinfo=UTC)
            high = datetime(int(value) + 1, 1, 1, tzinfo=UTC)
        elif len(value) == 7:
            year, month = int(value[:4]), int(value[5:7])
            low = datetime(year, month, 1, tzinfo=UTC)
            high = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        elif len(value) == 10:
            day = date.fromisoformat(value)
            low = datetime.combine(day, time(), tzinfo=UTC)
            high = low + timedelta(days=1)
        else:
            low = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if low.tzinfo is None:
                low = low.replace(tzinfo=UTC)
            high = low + timedelta(seconds=1)
    except ValueError:
        raise FhirError(f"date: {raw!r} is not a FHIR date search value", status=400) from None
    return DateBound(prefix, low, high)


def moment(value: str) -> datetime:
    """A resource's date or dateTime as an instant (a date is its midnight UTC)."""
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def token_matches(raw: str, codings: Iterable[dict[str, Any]]) -> bool:
    """``code``/``category`` token: any comma-separated ``[system|]code`` matches."""
    for wanted in raw.split(","):
        system, _, code = wanted.rpartition("|") if "|" in wanted else ("", "", wanted)
        for c in codings:
            if c.get("code") == code and (not system or c.get("system") == system):
                return True
    return False


def count_of(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_COUNT
    if not raw.isdigit() or not 0 <= int(raw) <= MAX_COUNT:
        raise FhirError(f"_count must be a whole number from 0 to {MAX_COUNT}", status=400)
    return int(raw)


def offset_of(raw: str | None) -> int:
    if raw is None:
        return 0
    if not raw.isdigit():
        raise FhirError("_offset must be a whole number", status=400)
    return int(raw)


def searchset(
    *,
    base: str,
    path: str,
    params: list[tuple[str, str]],
    matches: list[dict[str, Any]],
    included: list[dict[str, Any]] | None = None,
    count: int,
    offset: int,
    total: int | None = None,
) -> dict[str, Any]:
    """A page of ``matches`` with self/first/previous/next links that repeat the query
    (``total`` given: ``matches`` is already the page, paged by the database)."""
    page = matches if total is not None else matches[offset : offset + count]
    total = len(matches) if total is None else total
    kept = [(k, v) for k, v in params if k not in ("_count", "_offset")]

    def link(relation: str, at: int) -> dict[str, str]:
        query = urlencode([*kept, ("_count", str(count)), ("_offset", str(at))])
        return {"relation": relation, "url": f"{base}{path}?{query}"}

    links = [link("self", offset), link("first", 0)]
    if offset > 0:
        links.append(link("previous", max(0, offset - count)))
    if count and offset + count < total:
        links.append(link("next", offset + count))
    entries = [
        {
            "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
            "resource": r,
            "search": {"mode": "match"},
        }
        for r in page
    ]
    entries += [
        {
            "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
            "resource": r,
            "search": {"mode": "include"},
        }
        for r in included or []
    ]
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": entries,
    }


Filter = Callable[[dict[str, Any]], bool]
