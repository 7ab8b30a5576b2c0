"""Settings read from ``KETACLINIC_*`` environment variables.

The embedded mode (SQLite under the data directory, a secret generated once and kept in
the data directory) needs no configuration at all. Production mode refuses to start
without an explicit secret, because a secret that silently falls back to a default would
let anyone forge sessions.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(RuntimeError):
    """The settings cannot work; the message says which variable to fix."""


def sqlite_url(path: Path) -> str:
    """The URL of a SQLite file, rendered by SQLAlchemy so that a "?" or "#" in a folder's
    name is escaped and the file lands where the clinic said, not at a path cut short by
    a query string."""
    from sqlalchemy.engine import URL

    return URL.create("sqlite", database=str(path)).render_as_string()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KETACLINIC_", extra="ignore")

    mode: Literal["development", "production", "test"] = "development"
    data_dir: Path = Field(default_factory=lambda: Path.cwd() / "data")
    database_url: str | None = None
    secret_key: str | None = None
    # The key of the audit trail's MACs; kept outside the database so that someone who can
    # write the database cannot forge or recompute its records.
    audit_key: str | None = None
    time_zone: str = "America/New_York"
    clinic_name: str = "ketaclinic demo clinic"
    # The billing provider printed on superbills and estimates and sent in claims: the
    # demo's NPI is the CMS example number (it passes the NPI check digit), its tax id
    # a placeholder; a clinic sets its own.
    billing_provider_name: str = "ketaclinic demo clinic"
    billing_npi: str = "1234567893"
    billing_tax_id: str = "123456789"
    billing_taxonomy: str = "2084P0800X"
    billing_address: str = "100 Harbor Street"
    billing_city: str = "Boston"
    billing_state: str = "MA"
    billing_zip: str = "021101234"
    billing_phone: str = "6175550100"
    # Account security: not clinical numbers, but the clinic's IT policy.
    lockout_failures: int = 5
    lockout_minutes: int = 15
    session_hours: int = 12
    secure_cookies: bool | None = None  # None: Secure exactly when the request came over TLS
    # Reads are audited after the page is served, in batches at most this many seconds
    # apart (0: at once, after each request).
    read_audit_delay_seconds: float = Field(default=1.0, ge=0, le=60)
    # Request bodies (JSON, forms) larger than this are refused with a 413 before they
    # are parsed. There are no uploads yet; an upload route would get its own cap.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # A FHIR Bundle imported at once (POST /fhir): a patient's record from another
    # system, thousands of entries; larger ones are refused with an OperationOutcome
    # (the body cap under /fhir is twice this, so the refusal is the FHIR one).
    fhir_max_bundle_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    # Where the scheduled backups go (default: <data dir>/backups; better another disk),
    # and the key file that encrypts them, if the clinic keeps one.
    backup_dir: Path | None = None
    backup_key_file: Path | None = None
    # The address patients and staff reach this ketaclinic at: every link in a message
    # starts with it. Required in production; in development ``serve`` sets
    # ``served_at`` from its host and port, so links point where the server listens.
    public_url: str | None = None
    served_at: str | None = None
    # How e-mail leaves: "file" (the outbox file in the data directory, for development)
    # or "smtp" (the clinic's mail server).
    email_transport: Literal["file", "smtp"] = "file"
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    # "starttls" (port 587), "tls" (implicit TLS, port 465) or "none" (a local relay only).
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str | None = None
    smtp_timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    # How text messages leave: "file" (development) or "twilio" (its REST API).
    text_transport: Literal["file", "twilio"] = "file"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_api_url: str = "https://api.twilio.com"
    text_timeout_seconds: float = Field(default=15.0, gt=0, le=300)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value

    @field_validator("public_url", "served_at")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")) or value[-3:] == "://":
            raise ValueError(f"{value!r} is not a web address (http://... or https://...)")
        return value

    @property
    def effective_public_url(self) -> str:
        """Where every link in a message points (no trailing slash)."""
        if self.public_url:
            return self.public_url
        if self.mode == "production":
            raise ConfigurationError(
                "KETACLINIC_PUBLIC_URL must be set in production mode: the address patients "
                "reach the clinic at, which every link in a message uses "
                "(for example: https://portal.example-clinic.org)"
            )
        # Development: where ``serve`` listens; a process that serves nothing (a job
        # run from cron) falls back to the development server's default address.
        return self.served_at or "http://127.0.0.1:8000"

    def check_messaging(self) -> None:
        """Refuse settings that would make every message fail later (start-up check)."""
        _ = self.effective_public_url
        if self.email_transport == "smtp" and not (self.smtp_host and self.smtp_from):
            raise ConfigurationError(
                "KETACLINIC_EMAIL_TRANSPORT=smtp needs KETACLINIC_SMTP_HOST and "
                "KETACLINIC_SMTP_FROM"
            )
        if self.text_transport == "twilio" and not (
            self.twilio_account_sid and self.twilio_auth_token and self.twilio_from
        ):
            raise ConfigurationError(
                "KETACLINIC_TEXT_TRANSPORT=twilio needs KETACLINIC_TWILIO_ACCOUNT_SID, "
                "KETACLINIC_TWILIO_AUTH_TOKEN and KETACLINIC_TWILIO_FROM"
            )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return sqlite_url(self.data_dir / "ketaclinic.db")

    @property
    def effective_backup_dir(self) -> Path:
        return self.backup_dir or self.data_dir / "backups"

    @property
    def effective_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        if self.mode == "production":
            raise ConfigurationError(
                "KETACLINIC_SECRET_KEY must be set in production mode "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return _embedded_secret(self.data_dir)

    @property
    def audit_key_file(self) -> Path:
        return self.data_dir / "audit.key"

    @property
    def effective_audit_key(self) -> bytes:
        """The audit MAC key: ``KETACLINIC_AUDIT_KEY``, else the key file in the data
        directory (generated once outside production; production needs one of the two)."""
        if self.audit_key:
            return self.audit_key.encode()
        path = self.audit_key_file
        if path.exists():
            return _read_key(path).encode()
        if self.mode == "production":
            raise ConfigurationError(
                "KETACLINIC_AUDIT_KEY must be set in production mode, or a key file "
                f"present at {path} (readable by ketaclinic only, never stored in the "
                "database or its backups)"
            )
        return _create_key_file(path).encode()


def _read_key(path: Path) -> str:
    value = path.read_text().strip()
    if not value:
        raise ConfigurationError(f"the key file {path} is empty")
    return value


def _create_key_file(path: Path) -> str:
    """Create ``path`` once with a fresh key (0600), atomically: two processes starting
    together both end up with the key that won, never with a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(value)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _read_key(path)
    finally:
        temporary.unlink(missing_ok=True)
    return value


def _embedded_secret(data_dir: Path) -> str:
    """A per-installation secret kept beside the embedded database."""
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
