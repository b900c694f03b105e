"""Settings of the web application, with embedded defaults that need no set-up: the records
database of :func:`stimwise.records.database.resolve_url`, the simulated stimulator and the
loopback address (nothing is reachable from the network until the operator asks for it)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from stimwise.protocol.base import StrictModel

ENV_SECRET_KEY = "STIMWISE_SECRET_KEY"
ENV_WEB_SETTINGS = "STIMWISE_WEB_SETTINGS"
"""The settings as JSON, handed by ``stimwise serve --workers N`` to each worker process."""
SECRET_KEY_FILE = "web-secret-key"
ENV_CLINIC_NAME = "STIMWISE_CLINIC_NAME"
ENV_CLINIC_ADDRESS = "STIMWISE_CLINIC_ADDRESS"
ENV_CLINIC_PHONE = "STIMWISE_CLINIC_PHONE"
ENV_REPORT_TIME_ZONE = "STIMWISE_REPORT_TIME_ZONE"


def _from_environment(variable: str, default: str = ""):
    """A default read from the environment when the settings are made (the issue 13 settings
    object will take these over)."""
    return lambda: os.environ.get(variable, default).strip() or default


class WebSettings(StrictModel):
    """How the web application runs. Numbers marked [U] are stimwise's own choices."""

    db_url: str | None = Field(
        default=None, description="Records database URL (None: $STIMWISE_DB_URL, else SQLite)."
    )
    device: str = Field(
        default="sim", description="Stimulator spec: 'sim', 'rehastim2:PORT', 'p24:PORT'."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    secure_cookies: bool = Field(
        default=False,
        description="Served over HTTPS: cookies get the Secure flag and responses send HSTS.",
    )
    secret_key: str | None = Field(
        default=None,
        min_length=32,
        description="Key that signs cookies (None: $STIMWISE_SECRET_KEY, else a key created "
        "once in the user data directory).",
    )
    session_lifetime_s: int = Field(
        default=8 * 3600, ge=60, description="A sign-in lasts one working day [U]."
    )
    login_max_failures: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins per user name and address before waiting [U; OWASP "
        "Authentication Cheat Sheet recommends throttling, not a number].",
    )
    login_window_s: int = Field(default=15 * 60, ge=1, description="Throttling window [U].")
    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        description="Addresses or networks (CIDR) of the reverse proxies whose "
        "X-Forwarded-For is believed; from anyone else the header is ignored (issue 17: a "
        "forged header per try bypassed the sign-in throttle). $STIMWISE_TRUSTED_PROXIES, "
        "comma-separated.",
    )
    password_hashing: Literal["standard", "fast-for-tests"] = Field(
        default="standard",
        description="argon2id cost: RFC 9106's low-memory profile, or the cheapest for tests.",
    )
    clinic_name: str = Field(
        default_factory=_from_environment(ENV_CLINIC_NAME), max_length=120, validate_default=True,
        description="The clinic's name at the top of every report ($STIMWISE_CLINIC_NAME; "
        "empty: the reports say no clinic is set).",
    )
    clinic_address: str = Field(
        default_factory=_from_environment(ENV_CLINIC_ADDRESS), max_length=300,
        validate_default=True,
        description="The clinic's postal address on reports ($STIMWISE_CLINIC_ADDRESS).",
    )
    clinic_phone: str = Field(
        default_factory=_from_environment(ENV_CLINIC_PHONE), max_length=40, validate_default=True,
        description="The clinic's telephone number on reports ($STIMWISE_CLINIC_PHONE).",
    )
    report_time_zone: str = Field(
        default_factory=_from_environment(ENV_REPORT_TIME_ZONE, "UTC"), max_length=64,
        validate_default=True,
        description="The IANA time zone reports give times in, e.g. Europe/Amsterdam "
        "($STIMWISE_REPORT_TIME_ZONE; default UTC). Records stay in UTC.",
    )

    @field_validator("report_time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("an IANA time zone such as Europe/Amsterdam or UTC "
                             f"(${ENV_REPORT_TIME_ZONE} sets it)") from None
        return value


def data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path("stimwise")


def load_or_create_secret(settings: WebSettings, folder: Path | None = None) -> str:
    """The cookie-signing key: from the settings, the environment, or a file created once with
    mode 0600 (so sessions survive a restart and nobody else on the computer can read it)."""
    if settings.secret_key:
        return settings.secret_key
    from_env = os.environ.get(ENV_SECRET_KEY)
    if from_env:
        return from_env
    path = (folder or data_dir()) / SECRET_KEY_FILE
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key)
    return key
