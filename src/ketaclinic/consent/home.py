"""The consent area's part of the home page: the front desk's treatments of tomorrow not
yet confirmed ready by the patient's own answers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.consent import service
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import HomeSection
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.roles import Role
from ketaclinic.platform.settings import get_settings


def _tomorrow_unconfirmed(db: Session, actor: Actor) -> Any:
    tomorrow = utcnow().astimezone(get_settings().zone).date() + timedelta(days=1)
    count = service.unconfirmed_count(db, actor=actor, day=tomorrow)
    return {"count": count, "day": tomorrow}


HOME_SECTIONS = [
    HomeSection(
        "readiness_unconfirmed",
        frozenset({Role.front_desk}),
        _tomorrow_unconfirmed,
        Role.front_desk,
        "consent/_home_readiness.html",
    )
]
