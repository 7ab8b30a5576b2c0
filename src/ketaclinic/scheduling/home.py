"""The scheduling area's parts of the home page: the front desk's arrivals of the day
and the visits to confirm."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import HomeSection
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.roles import Role
from ketaclinic.platform.settings import get_settings
from ketaclinic.scheduling import service


def _desk(db: Session, actor: Actor) -> Any:
    zone = get_settings().zone
    return service.desk_day(db, actor=actor, day=utcnow().astimezone(zone).date(), zone=zone)


HOME_SECTIONS = [
    HomeSection(
        "desk_day",
        frozenset({Role.front_desk}),
        _desk,
        Role.front_desk,
        "scheduling/_home_desk.html",
    )
]
