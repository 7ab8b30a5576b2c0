"""Accounts: creating users, roles, logging in with lockout, sessions and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ketaclinic.platform import passwords
from ketaclinic.platform.accounts.models import ApiToken, LoginSession, User, UserRole
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Invalid, NotFound
from ketaclinic.platform.roles import Role
from ketaclinic.platform.settings import Settings

TOKEN_PREFIX = "kc_"  # noqa: S105 - a prefix, not a secret


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _parse_roles(roles: Iterable[str]) -> list[Role]:
    parsed: list[Role] = []
    for name in roles:
        try:
            parsed.append(Role(name))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise Invalid(
                f"unknown role {name!r} (known: {known})", fields={"roles": name}
            ) from None
    if not parsed:
        raise Invalid("a user needs at least one role", fields={"roles": "required"})
    return sorted(set(parsed))


def actor_for(user: User, *, ip: str | None = None) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        full_name=user.full_name,
        roles=frozenset(Role(r) for r in user.role_names),
        ip=ip,
        patient_id=user.patient_id,
    )


def create_user(
    db: Session,
    *,
    actor: Actor,
    username: str,
    full_name: str,
    password: str,
    roles: Iterable[str],
    email: str | None = None,
    patient_id: int | None = None,
) -> User:
    username = username.strip().lower()
    if not username or not username.replace(".", "").replace("_", "").replace("-", "").isalnum():
        raise Invalid(
            "a username uses letters, digits, dots, dashes or underscores",
            fields={"username": username},
        )
    if not full_name.strip():
        raise Invalid("a user needs a full name", fields={"full_name": "required"})
    problem = passwords.check_strength(password)
    if problem:
        raise Invalid(problem, fields={"password": problem})
    parsed = _parse_roles(roles)
    if Role.patient in parsed and patient_id is None:
        raise Invalid("a patient account must be linked to a patient record")
    if db.scalar(select(func.count()).select_from(User).where(User.username == username)):
        raise Conflict(f"the username {username!r} is taken", fields={"username": "taken"})
    user = User(
        username=username,
        full_name=full_name.strip(),
        email=_clean_email(email),
        password_hash=passwords.hash_password(password),
        patient_id=patient_id,
        roles=[UserRole(role=r.value) for r in parsed],
    )
    db.add(user)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=user.id,
        detail=f"{username} roles={','.join(r.value for r in parsed)}",
    )
    db.flush()
    return user


#: Where a staff member's alerts go: by e-mail to their address, or nowhere but the pages.
ALERT_PREFERENCES = {"email": "By e-mail", "none": "Not by e-mail (pages only)"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _clean_email(email: str | None) -> str | None:
    email = (email or "").strip()
    if not email:
        return None
    if len(email) > 254 or not _EMAIL.match(email):
        raise Invalid("not an e-mail address", fields={"email": "not an e-mail address"})
    return email


def set_alert_preference(
    db: Session, *, actor: Actor, user_id: int, email: str | None, preference: str
) -> User:
    """A staff member's e-mail address and whether their alerts go there, audited."""
    user = get_user(db, user_id=user_id)
    if preference not in ALERT_PREFERENCES:
        raise Invalid("choose e-mail or none", fields={"alert_preference": "unknown"})
    clean = _clean_email(email)
    if preference == "email" and clean is None and Role.patient not in user.role_names:
        raise Invalid(
            "alerts by e-mail need an e-mail address", fields={"email": "required for e-mail"}
        )
    if clean == user.email and preference == user.alert_preference:
        return user
    user.email, user.alert_preference = clean, preference
    audit.record(
        db,
        actor=actor,
        action="user.contact",
        object_type="user",
        object_id=user.id,
        detail=f"{user.username} alerts={preference} email={'set' if clean else 'none'}",
    )
    db.flush()
    return user


def list_users(db: Session) -> list[User]:
    return list(db.scalars(select(User).order_by(User.username)))


def full_names(db: Session, usernames: Iterable[str | None]) -> dict[str, str]:
    """The people's full names by username, read in one statement for a whole page; a
    username with no such user (an account's actor name such as ``cli``, ``demo``) or
    no name is left out, so the caller shows the username itself."""
    wanted = {u for u in usernames if u}
    if not wanted:
        return {}
    rows = db.execute(select(User.username, User.full_name).where(User.username.in_(wanted)))
    return {username: name for username, name in rows if name}


def get_user(db: Session, *, username: str | None = None, user_id: int | None = None) -> User:
    query = select(User)
    query = query.where(User.id == user_id) if user_id else query.where(User.username == username)
    user = db.scalar(query)
    if user is None:
        raise NotFound(f"no user {username or user_id!r}")
    return user


def set_roles(db: Session, *, actor: Actor, user_id: int, roles: Iterable[str]) -> User:
    user = get_user(db, user_id=user_id)
    parsed = _parse_roles(roles)
    if user.id == actor.user_id and Role.admin not in parsed:
        raise Invalid("you cannot remove your own admin role")
    # Kept roles keep their rows: replacing the whole list would insert the kept role
    # again before the old row is deleted, against the (user, role) unique constraint.
    wanted = {r.value for r in parsed}
    user.roles = [row for row in user.roles if row.role in wanted] + [
        UserRole(role=name) for name in sorted(wanted - user.role_names)
    ]
    audit.record(
        db,
        actor=actor,
        action="user.roles",
        object_type="user",
        object_id=user.id,
        detail=f"{user.username} roles={','.join(r.value for r in parsed)}",
    )
    db.flush()
    return user


def deactivate_user(db: Session, *, actor: Actor, user_id: int) -> User:
    user = get_user(db, user_id=user_id)
    if user.id == actor.user_id:
        raise Invalid("you cannot deactivate your own account")
    user.active = False
    user.deactivated_at = utcnow()
    for login in db.scalars(
        select(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
    ):
        login.ended_at = utcnow()
    audit.record(
        db,
        actor=actor,
        action="user.deactivate",
        object_type="user",
        object_id=user.id,
        detail=user.username,
    )
    db.flush()
    return user


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    problem: str | None = None


def authenticate(
    db: Session,
    *,
    username: str,
    password: str,
    ip: str | None,
    lockout_failures: int,
    lockout_minutes: int,
) -> LoginResult:
    """Check a password; after ``lockout_failures`` misses the account is locked for
    ``lockout_minutes``. The same vague message for every failure, so that a stranger
    cannot learn which usernames exist."""
    vague = "unknown username or wrong password"
    user = db.scalar(select(User).where(User.username == username.strip().lower()))
    now = utcnow()
    if user is None:
        passwords.verify_password(_DUMMY_HASH, password)  # same cost as a real check
        audit.record(db, actor=Actor(None, username[:80], ip=ip), action="login.failed")
        db.flush()
        return LoginResult(None, vague)
    actor = actor_for(user, ip=ip)
    if user.locked_until and user.locked_until > now:
        audit.record(db, actor=actor, action="login.locked")
        db.flush()
        return LoginResult(
            None,
            "this account is locked after repeated failures; try later or ask an administrator",
        )
    if not user.active or not passwords.verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= lockout_failures:
            user.locked_until = now + timedelta(minutes=lockout_minutes)
            user.failed_logins = 0
        audit.record(db, actor=actor, action="login.failed")
        db.flush()
        return LoginResult(None, vague)
    user.failed_logins = 0
    user.locked_until = None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    audit.record(db, actor=actor, action="login.ok")
    db.flush()
    return LoginResult(user)


_DUMMY_HASH = passwords.hash_password("not-a-real-password-used-for-timing")


@dataclass(frozen=True)
class Signature:
    """What a signed record keeps of its signature: who (username and printed name), when,
    and what the signature means. 21 CFR 11.50(a): a signed electronic record shows the
    signer's printed name, the date and time of signing, and the meaning of the signature
    (such as review, approval, responsibility or authorship) [confirmed: 21 CFR 11.50(a)(1)-(3),
    text as published in the eCFR, re-read 2026-12-01]."""

    username: str
    printed_name: str
    meaning: str
    at: datetime


def confirm_signature(
    db: Session,
    *,
    actor: Actor,
    password: str,
    meaning: str,
    object_type: str,
    object_id: object,
    patient_id: int | None = None,
    at: datetime | None = None,
    lockout_failures: int = Settings.model_fields["lockout_failures"].default,
    lockout_minutes: int = Settings.model_fields["lockout_minutes"].default,
) -> Signature:
    """The signer types their password again at each signature: 21 CFR 11.200(a)(1) asks
    for two components (an identification code and a password) and, for signings after
    the first in one continuous session, at least the one only the signer knows; the
    logged-in username and the password typed at every signature meet both [confirmed: 21
    CFR 11.200(a)(1)(i)-(ii), eCFR text re-read 2026-12-01; typing the password at every
    signing, not only after the first, is stricter than the rule and ketaclinic's choice].
    A wrong password signs nothing and is audited (``signature.refused``) although the
    refused act rolls back. After as many wrong signature passwords as lock a login
    (``lockout_failures`` within ``lockout_minutes``, the clinic's login settings), signing
    is refused for the rest of that window whatever is typed, so that the signature form
    of a terminal left logged in cannot be used to guess the password."""
    moment = at or utcnow()
    if actor.user_id is not None:
        recent = db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.actor_id == actor.user_id,
                AuditEvent.action == "signature.refused",
                AuditEvent.at >= moment - timedelta(minutes=lockout_minutes),
            )
        )
        if (recent or 0) >= lockout_failures:
            raise Invalid(
                f"signing is locked: {recent} wrong passwords in the last {lockout_minutes} "
                "minutes; nothing was signed. Try again later, or ask an administrator",
                fields={"password": "signing locked"},
            )
    user = db.get(User, actor.user_id) if actor.user_id is not None else None
    ok = (
        user is not None
        and user.active
        and user.username == actor.username
        and passwords.verify_password(user.password_hash, password or "")
    )
    if user is None:
        passwords.verify_password(_DUMMY_HASH, password or "")  # same cost as a real check
    if not ok:
        audit.record_refusal(
            db,
            actor=actor,
            action="signature.refused",
            patient_id=patient_id,
            object_type=object_type,
            object_id=object_id,
            detail=f"wrong password; would have meant: {meaning}",
        )
        raise Invalid(
            "the password is not right: nothing was signed; type your own password to sign",
            fields={"password": "wrong password"},
        )
    assert user is not None
    return Signature(
        username=user.username,
        printed_name=user.full_name or user.username,
        meaning=meaning,
        at=moment,
    )


def start_session(db: Session, *, user: User, ip: str | None, hours: int) -> tuple[str, str]:
    """Return (cookie token, CSRF token)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    db.add(
        LoginSession(
            token_hash=_sha256(token),
            csrf_token=csrf,
            user_id=user.id,
            ip=ip,
            expires_at=utcnow() + timedelta(hours=hours),
        )
    )
    db.flush()
    return token, csrf


def resolve_session(db: Session, token: str) -> tuple[User, LoginSession] | None:
    login = db.scalar(select(LoginSession).where(LoginSession.token_hash == _sha256(token)))
    if login is None or login.ended_at is not None or login.expires_at <= utcnow():
        return None
    user = db.get(User, login.user_id)
    if user is None or not user.active:
        return None
    return user, login


def end_session(db: Session, token: str) -> None:
    login = db.scalar(select(LoginSession).where(LoginSession.token_hash == _sha256(token)))
    if login is not None and login.ended_at is None:
        login.ended_at = utcnow()
        db.flush()


#: What a scoped token may do (a token without scopes acts as its user everywhere).
TOKEN_SCOPES = {
    "fhir.read": "read the FHIR interface (GET /fhir/...)",
    "fhir.write": "write through the FHIR interface (POST /fhir/...)",
    "fhir.export": "start, poll, fetch and delete FHIR bulk exports",
}


def create_api_token(
    db: Session,
    *,
    actor: Actor,
    user_id: int,
    name: str,
    scopes: Iterable[str] | None = None,
    patient_id: int | None = None,
) -> str:
    """Return the token once; only its hash is kept. ``scopes`` limit it (see
    ``TOKEN_SCOPES``); ``patient_id`` binds it to one patient's record, which needs
    scopes (a patient-facing app reads one record, never the whole API)."""
    user = get_user(db, user_id=user_id)
    wanted = sorted(set(scopes)) if scopes is not None else None
    unknown = [s for s in wanted or [] if s not in TOKEN_SCOPES]
    if unknown or wanted == []:
        raise Invalid(
            f"scopes are {', '.join(TOKEN_SCOPES)}; got {', '.join(unknown) or 'none'}",
            fields={"scopes": "unknown" if unknown else "empty"},
        )
    if patient_id is not None and wanted is None:
        raise Invalid("a token bound to one patient needs scopes", fields={"scopes": "required"})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.add(
        ApiToken(
            user_id=user.id,
            name=name,
            token_hash=_sha256(token),
            scopes=" ".join(wanted) if wanted is not None else None,
            patient_id=patient_id,
        )
    )
    limits = f" scopes={' '.join(wanted)}" if wanted is not None else ""
    audit.record(
        db,
        actor=actor,
        action="token.create",
        patient_id=patient_id,
        object_type="user",
        object_id=user.id,
        detail=f"{user.username}: {name}{limits}",
    )
    db.flush()
    return token


# A token's last use is kept to the nearest few minutes: enough to see a forgotten
# token, without turning every read into a write.
TOKEN_USE_RESOLUTION_MINUTES = 5


def find_api_token(db: Session, token: str) -> tuple[ApiToken, User] | None:
    """The live token and its active user, or None."""
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == _sha256(token)))
    if row is None or row.revoked_at is not None:
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return row, user


def resolve_api_token(db: Session, token: str) -> User | None:
    found = find_api_token(db, token)
    return found[1] if found else None


def note_token_used(db: Session, *, token_id: int) -> None:
    db.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))
