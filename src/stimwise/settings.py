"""Every setting of stimwise in one object: :class:`Settings`.

Each value comes from, highest first:

1. what the caller passes (a command-line option such as ``--db`` or ``--port``);
2. the environment variable ``STIMWISE_<NAME>`` (e.g. ``STIMWISE_DB_URL``);
3. the settings file, TOML with the same names in lower case (``db_url = "..."``): the file
   named by ``$STIMWISE_SETTINGS_FILE``, else ``settings.toml`` in the user's configuration
   folder (``~/.config/stimwise/settings.toml`` on Linux);
4. the default, which needs no set-up (SQLite in the user's data folder, the simulated
   stimulator, the loopback address).

``stimwise config show`` lists every setting with its value and where it came from (secrets
hidden); ``docs/configuration.md`` is generated from this class (:func:`settings_table`) and a
test keeps the two the same. A bad value is an :class:`~stimwise.errors.InputError` naming the
variable or the file that gave it, never a silent default.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from stimwise.errors import FieldProblem, InputError

ENV_PREFIX = "STIMWISE_"
SETTINGS_FILE_VARIABLE = "STIMWISE_SETTINGS_FILE"
"""Names the settings file (it cannot name itself, so it is read from the environment only)."""
SETTINGS_FILE_NAME = "settings.toml"
MIN_SECRET_KEY_LENGTH = 32
HIDDEN = "(hidden)"

Source = Literal["default", "environment", "file"]


def settings_file() -> Path:
    """The settings file: ``$STIMWISE_SETTINGS_FILE``, else ``settings.toml`` in the user's
    configuration folder (it need not exist)."""
    named = os.environ.get(SETTINGS_FILE_VARIABLE, "").strip()
    if named:
        return Path(named).expanduser()
    from platformdirs import user_config_path

    return user_config_path("stimwise") / SETTINGS_FILE_NAME


class Settings(BaseSettings):
    """How stimwise runs: where its files and records live, the web application, its accounts.

    Numbers marked [U] are stimwise's own choices. Make one with :func:`get_settings`, which
    names a bad value by the variable or file that gave it.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", frozen=True, validate_default=True,
        env_ignore_empty=True,
    )

    # ----------------------------------------------------------------- files and records
    data_dir: Path | None = Field(
        default=None,
        description="Folder of the default SQLite records, the web application's secret key and "
        "the backups made before a restore. Default: the user data folder (platformdirs; "
        "~/.local/share/stimwise on Linux).",
    )
    cache_dir: Path | None = Field(
        default=None,
        description="Folder of the physiology engine's cached threshold tables. Default: the "
        "user cache folder (~/.cache/stimwise on Linux).",
    )
    db_url: str | None = Field(
        default=None,
        description="Records database URL: sqlite:///FILE or postgresql+psycopg://USER@HOST/DB "
        "(--db overrides it). Default: records.sqlite3 in the data folder.",
    )
    sqlite_synchronous: Literal["normal", "full"] = Field(
        default="normal",
        description="SQLite durability: normal (WAL's recommended setting; a power cut may roll "
        "back the last commits, never corrupt) or full (every commit durable at once, slower).",
    )

    # ----------------------------------------------------------------- web application
    device: str = Field(
        default="sim",
        description="Stimulator of the web application's live sessions: sim, rehastim2:PORT "
        "or p24:PORT (--device overrides it).",
    )
    host: str = Field(default="127.0.0.1", description="Address the web application listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Its TCP port.")
    web_threads: int = Field(
        default=4, ge=1, le=64,
        description="Requests of one server process handled at once in worker threads; the "
        "rest wait their turn in order. Python runs one thread at a time, so more threads "
        "only take turns more often: with 40 (the library default) page p95 at 32 users was "
        "678 ms, with 4 it was 349-362 ms (benchmarks/bench_web_load.py, 2-core machine) [U]. "
        "The emergency stop never waits for one.",
    )
    secure_cookies: bool = Field(
        default=False,
        description="Served over HTTPS (behind a TLS proxy): cookies get the Secure flag and "
        "responses send HSTS.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description=f"Key that signs cookies (at least {MIN_SECRET_KEY_LENGTH} characters). "
        "Default: a key created once in the data folder (mode 0600).",
    )
    session_lifetime_s: int = Field(
        default=8 * 3600, ge=60, description="How long a sign-in lasts: one working day [U]."
    )
    login_max_failures: int = Field(
        default=5, ge=1,
        description="Failed sign-ins per user name and address before waiting [U; the OWASP "
        "Authentication Cheat Sheet recommends throttling, not a number].",
    )
    login_window_s: int = Field(default=15 * 60, ge=1, description="Throttling window [U].")
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For is "
        "believed, comma-separated; from anyone else the header is ignored (a forged header "
        "per try bypassed the sign-in throttle).",
    )
    clinic_name: str = Field(
        default="", max_length=120,
        description="The clinic's name at the top of every report (empty: the reports say no "
        "clinic is set).",
    )
    clinic_address: str = Field(
        default="", max_length=300, description="The clinic's postal address on reports."
    )
    clinic_phone: str = Field(
        default="", max_length=40, description="The clinic's telephone number on reports."
    )
    report_time_zone: str = Field(
        default="UTC", max_length=64,
        description="The IANA time zone reports give times in, e.g. Europe/Amsterdam. Records "
        "stay in UTC.",
    )

    # ----------------------------------------------------------------- accounts
    admin_password: SecretStr | None = Field(
        default=None,
        description="The first administrator's password, read by the first run of stimwise "
        "serve (else asked at the terminal; there is no default password).",
    )
    new_password: SecretStr | None = Field(
        default=None,
        description="The password of stimwise account add and account set-password (else "
        "asked twice at the terminal).",
    )

    @field_validator("clinic_name", "clinic_address", "clinic_phone", "report_time_zone",
                     "device", "host", mode="before")
    @classmethod
    def _stripped(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("report_time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        if not value:
            return "UTC"
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("an IANA time zone such as Europe/Amsterdam or UTC") from None
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for proxy in value:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"IP addresses or networks such as 10.0.0.0/8 ({proxy!r} is neither)"
                ) from None
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(f"at least {MIN_SECRET_KEY_LENGTH} characters")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Options, then the environment, then the settings file (no ``.env`` file)."""
        return (init_settings, env_settings, _file_source(settings_cls))


SECRET_FIELDS = frozenset(
    name for name, field in Settings.model_fields.items() if "SecretStr" in str(field.annotation)
)


def _file_source(settings_cls: type[BaseSettings]) -> TomlConfigSettingsSource:
    return TomlConfigSettingsSource(settings_cls, toml_file=settings_file())


def _file_values() -> dict[str, Any]:
    """The settings file's values (none when it does not exist); unreadable TOML is an error."""
    if not settings_file().is_file():
        return {}
    try:
        return dict(_file_source(Settings)())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise _unreadable(error) from None


def _unreadable(error: Exception) -> InputError:
    return InputError(FieldProblem(str(settings_file()), "(the file)",
                                   f"a readable TOML file ({error})"), source="settings")


def _environment_values() -> dict[str, Any]:
    return dict(EnvSettingsSource(Settings)())


def variable(name: str) -> str:
    """The environment variable of a setting: ``db_url`` -> ``STIMWISE_DB_URL``."""
    return ENV_PREFIX + name.upper()


def get_settings(option_names: dict[str, str] | None = None, **options: Any) -> Settings:
    """The settings now: ``options`` (those not ``None``) over the environment over the file.

    ``option_names`` maps a setting to the command-line option that gave it (``{"port":
    "--port"}``), so that an error names what the person typed.

    Raises
    ------
    InputError
        A value that is out of range or of the wrong kind, named by where it came from: the
        option, the environment variable or the settings file. Secret values are never shown.
    """
    given = {name: value for name, value in options.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        raise _named(error, {name: (option_names or {}).get(name, name) for name in given}
                     ) from None
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise _unreadable(error) from None


def _named(error: ValidationError, given: dict[str, str]) -> InputError:
    from stimwise.protocol.io import problems_from_validation

    environment = _environment_values()
    problems = []
    for problem in problems_from_validation(error):
        name, _, rest = problem.path.partition(".")
        if name in given:
            where = given[name]
        elif name in environment:
            where = variable(name)
        else:  # the settings file (an unknown key can only come from there)
            where = f"{settings_file()}: {name}"
        value = HIDDEN if name in SECRET_FIELDS else problem.value
        problems.append(FieldProblem(where + (f".{rest}" if rest else ""), value,
                                     problem.expected))
    return InputError(problems, source="settings")


def sources() -> dict[str, Source]:
    """Where each setting's value comes from when no option is given."""
    environment = _environment_values()
    in_file = _file_values()
    return {
        name: "environment" if name in environment else "file" if name in in_file else "default"
        for name in Settings.model_fields
    }


def data_dir(settings: Settings | None = None) -> Path:
    """The data folder: the ``data_dir`` setting, else the user data folder."""
    chosen = (settings or get_settings()).data_dir
    if chosen is not None:
        return chosen.expanduser()
    from platformdirs import user_data_path

    return user_data_path("stimwise")


def cache_dir(settings: Settings | None = None) -> Path:
    """The cache folder: the ``cache_dir`` setting, else the user cache folder."""
    chosen = (settings or get_settings()).cache_dir
    if chosen is not None:
        return chosen.expanduser()
    from platformdirs import user_cache_path

    return user_cache_path("stimwise")


def default_db_url(settings: Settings | None = None) -> str:
    """The embedded SQLite records: ``records.sqlite3`` in the data folder."""
    return f"sqlite:///{data_dir(settings) / 'records.sqlite3'}"


def effective(settings: Settings) -> dict[str, object]:
    """Every setting's value as it is used: the folders and the database a default stands for
    are shown as what they are (secrets hidden)."""
    values = {name: shown(name, getattr(settings, name)) for name in Settings.model_fields}
    values["data_dir"] = str(data_dir(settings))
    values["cache_dir"] = str(cache_dir(settings))
    values["db_url"] = shown("db_url", settings.db_url or default_db_url(settings))
    return values


def shown(name: str, value: object) -> object:
    """A setting's value as ``config show`` prints it: secrets (and a password in the database
    URL) hidden, paths as text."""
    if name in SECRET_FIELDS:
        return None if value is None else HIDDEN
    if name == "db_url" and isinstance(value, str):
        return _without_password(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def settings_table() -> str:
    """The Markdown table of every setting (``docs/configuration.md`` holds this table)."""
    rows = ["| variable | file key | default | what it sets |", "| --- | --- | --- | --- |",
            f"| `{SETTINGS_FILE_VARIABLE}` | (environment only) | `settings.toml` in the "
            "user configuration folder | The settings file (TOML). |"]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if default is None or default in ((), ""):
            shown_default = "(none)"
        else:
            shown_default = f"`{shown(name, default)}`"
        secret = " Secret: never shown." if name in SECRET_FIELDS else ""
        rows.append(f"| `{variable(name)}` | `{name}` | {shown_default} | "
                    f"{field.description}{secret} |")
    return "\n".join(rows) + "\n"
