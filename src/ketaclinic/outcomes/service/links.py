"""Single-use questionnaire links: a random token given once, only its hash kept."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ketaclinic.outcomes.models import QuestionnaireLink, QuestionnaireRequest
from ketaclinic.platform.errors import ClinicError

TOKEN_BYTES = 32


class LinkUnusable(ClinicError):
    """The link cannot open a questionnaire; ``reason`` says why in the patient's words."""

    status = 410
    title = "This link can no longer be used"

    def __init__(self, detail: str, *, reason: str) -> None:
        super().__init__(detail)
        self.reason = reason


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mint_link(
    db: Session,
    *,
    request: QuestionnaireRequest,
    channel: str,
    created_by: str,
    now: datetime,
    valid_for: timedelta,
) -> tuple[QuestionnaireLink, str]:
    """A new link for ``request`` (inside the caller's transaction) and its token."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = QuestionnaireLink(
        request_id=request.id,
        token_hash=token_hash(token),
        channel=channel,
        created_by=created_by,
        created_at=now,
        expires_at=min(request.expires_at, now + valid_for),
    )
    db.add(link)
    db.flush()
    return link, token


def resolve(
    db: Session, token: str, *, now: datetime
) -> tuple[QuestionnaireLink, QuestionnaireRequest]:
    """The link and its request, or ``LinkUnusable`` (unknown, used, expired, not due)."""
    if not token or len(token) > 200:
        raise LinkUnusable("unknown link", reason="unknown")
    link = db.scalar(
        select(QuestionnaireLink).where(QuestionnaireLink.token_hash == token_hash(token))
    )
    if link is None:
        raise LinkUnusable("unknown link", reason="unknown")
    if link.used_at is not None:
        raise LinkUnusable("this link was already used", reason="used")
    request = db.get(QuestionnaireRequest, link.request_id)
    if request is None or request.status == "completed":
        raise LinkUnusable("this questionnaire was already completed", reason="used")
    if link.expires_at <= now or request.expires_at <= now or request.status != "open":
        raise LinkUnusable("this link has expired", reason="expired")
    return link, request


def use(db: Session, link: QuestionnaireLink, *, now: datetime) -> None:
    """Mark the link used; a second submission racing this one finds it used."""
    result = db.execute(
        update(QuestionnaireLink)
        .where(QuestionnaireLink.id == link.id, QuestionnaireLink.used_at.is_(None))
        .values(used_at=now)
    )
    if getattr(result, "rowcount", 1) != 1:
        raise LinkUnusable("this link was already used", reason="used")
