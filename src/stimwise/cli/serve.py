"""``stimwise serve``: the clinic and home web application on embedded defaults; and
``stimwise account add|set-password|set-name`` for web accounts at the command line.

With no options it serves the SQLite records in the user's data directory, with the simulated
stimulator, on the loopback address, and prints the address to open. The first run creates the
administrator clinician from the ``admin_password`` setting (``$STIMWISE_ADMIN_PASSWORD``) or an
interactive prompt; there is no default password, and a non-interactive first run without it
stops with exit 2. Options left out take their values from the settings
(:mod:`stimwise.settings`: environment, then the settings file, then the defaults).
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from stimwise.cli import values as v
from stimwise.cli.errors import report_errors
from stimwise.cli.options import DbOption
from stimwise.extras import require_extra

LOOPBACK = ("127.0.0.1", "::1", "localhost")


accounts_app = typer.Typer(
    no_args_is_help=True, help="Web accounts: add one, or set a forgotten password."
)


NUMERIC_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_thread_numerics() -> None:
    """One thread per linear-algebra call in the web server, unless the operator set one.

    A web worker answers many requests at once, each with small matrices (the dose tuner's
    Gaussian process: about a hundred sessions). OpenBLAS's own threads spin while they wait,
    so one response page cost about 245 ms of processor time on 2 cores instead of about 22 ms
    with one thread (issue 17, speed; measured with the load benchmark's data). The libraries
    read these variables when they load, so this runs before anything imports numpy; web
    worker processes inherit them."""
    for variable in NUMERIC_THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
    app.add_typer(accounts_app, name="account")


def ask_password(setting: str, whose: str, username: str, interactive: bool) -> str:
    """A new password for ``username``: from the ``setting`` (``admin_password`` or
    ``new_password``: its environment variable or the settings file), else asked twice at the
    terminal; never a default. Checked against the password rules."""
    from stimwise.errors import FieldProblem, InputError
    from stimwise.settings import get_settings
    from stimwise.settings import variable as variable_of
    from stimwise.web.security.passwords import MIN_PASSWORD_LENGTH, password_problems

    secret = getattr(get_settings(), setting)
    password = None if secret is None else secret.get_secret_value()
    variable = source = variable_of(setting)
    if password is None:
        if not interactive:
            raise InputError(
                FieldProblem(
                    variable,
                    None,
                    f"{whose} (at least {MIN_PASSWORD_LENGTH} characters) in this environment "
                    "variable (or the settings file), or run interactively to be asked; "
                    "stimwise has no default password",
                )
            )
        typer.echo(f"Choose the password of {username!r}.")
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        source = "password"
    if problems := password_problems(password, username, path=source):
        raise InputError(problems)
    return password


@accounts_app.command("add")
@report_errors(json_flag=None)
def account_add(
    username: Annotated[str, typer.Argument(help="The new user name.")],
    role: Annotated[
        str, typer.Option("--role", help="clinician, patient, researcher or administrator.")
    ],
    patient: Annotated[
        str | None, typer.Option("--patient", help="The patient's pseudonym (patient role).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Add a web account (password from $STIMWISE_NEW_PASSWORD or asked twice)."""
    require_extra("web", "stimwise account")
    from pydantic import SecretStr

    from stimwise.protocol.io import validate_model
    from stimwise.records.access import local_administrator
    from stimwise.records.schema import open_database
    from stimwise.web.security.passwords import Passwords, make_hasher
    from stimwise.web.services import users

    data = {"username": username, "role": role, "patient": patient}
    validate_model(users.NewUser, {**data, "password": SecretStr("x")})  # names, before asking
    password = ask_password("new_password", "the password", username, sys.stdin.isatty())
    new_user = validate_model(users.NewUser, {**data, "password": SecretStr(password)})
    with open_database(db) as database:
        users.create_user(
            database, local_administrator(), new_user, Passwords(make_hasher("standard"))
        )
    typer.echo(f"Added the {role} account {username!r}.")


@accounts_app.command("set-password")
@report_errors(json_flag=None)
def account_set_password(
    username: Annotated[str, typer.Argument(help="The account whose password to set.")],
    db: DbOption = None,
) -> None:
    """Set an account's password, e.g. a forgotten one (from $STIMWISE_NEW_PASSWORD or asked
    twice); the account's sessions end."""
    require_extra("web", "stimwise account")
    from stimwise.records.access import local_administrator
    from stimwise.records.schema import open_database
    from stimwise.web.security.passwords import Passwords, make_hasher
    from stimwise.web.services import users

    password = ask_password("new_password", "the new password", username, sys.stdin.isatty())
    with open_database(db) as database:
        users.reset_password(
            database, local_administrator(), username, password,
            Passwords(make_hasher("standard")),
        )
    typer.echo(f"Set the password of {username!r}; their sessions have ended.")


@accounts_app.command("set-name")
@report_errors(json_flag=None)
def account_set_name(
    username: Annotated[str, typer.Argument(help="The account.")],
    display_name: Annotated[
        str, typer.Argument(help="The name its reports are signed with, e.g. 'Dr A. Example' "
                            "('' shows the user name).")
    ],
    db: DbOption = None,
) -> None:
    """Set the name a clinician's reports carry above the signature line (audited)."""
    require_extra("web", "stimwise account")
    from stimwise.protocol.io import validate_model
    from stimwise.records.access import local_administrator
    from stimwise.records.schema import open_database
    from stimwise.web.services import users

    data = validate_model(users.DisplayNameIn, {"display_name": display_name})
    with open_database(db) as database:
        users.set_display_name(database, local_administrator(), username, data)
    typer.echo(f"Reports by {username!r} are signed {data.display_name or username!r}.")


SERVE_OPTIONS = {"db_url": "--db", "host": "--host", "port": "--port", "device": "--device",
                 "secure_cookies": "--secure-cookies", "trusted_proxies": "--trusted-proxy"}
"""The settings that ``stimwise serve`` takes as options (an option overrides its setting)."""


@report_errors(json_flag=None)
def serve_command(
    db: DbOption = None,
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on (default: 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", parser=v.whole(ge=1, le=65535), help="TCP port (default: 8000)."),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option("--device", help="sim (the default), rehastim2:PORT or p24:PORT "
                     "(stimwise devices list)."),
    ] = None,
    admin_user: Annotated[
        str, typer.Option("--admin-user", help="Name of the first administrator (first run).")
    ] = "admin",
    secure_cookies: Annotated[
        bool | None,
        typer.Option(
            "--secure-cookies",
            help="Served over HTTPS (behind a TLS proxy): Secure cookies and HSTS.",
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", parser=v.whole(ge=1, le=64),
                          help="Web worker processes (one live session per person and the "
                          "sign-in throttle are held in the database, so they hold across "
                          "workers; use PostgreSQL for more than one).")
    ] = 1,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option("--trusted-proxy", help="Address or network (CIDR) of a reverse proxy "
                     "whose X-Forwarded-For is believed; repeat for several (default: the "
                     "trusted_proxies setting, else none)."),
    ] = None,
) -> None:
    """Start the web application and print its address. Options left out come from the
    settings (stimwise config show)."""
    require_extra("web", "stimwise serve")
    one_thread_numerics()
    import uvicorn

    from stimwise.device.registry import resolve
    from stimwise.records.database import shown_url
    from stimwise.records.schema import open_database
    from stimwise.settings import get_settings, variable
    from stimwise.web.app import create_app
    from stimwise.web.security.passwords import Passwords, make_hasher
    from stimwise.web.services import users
    from stimwise.web.settings import load_or_create_secret

    given = {"db_url": db, "host": host, "port": port, "device": device,
             "secure_cookies": secure_cookies,
             "trusted_proxies": tuple(trusted_proxy) if trusted_proxy else None}
    settings = get_settings(SERVE_OPTIONS, **given)
    resolve(settings.device)  # an unknown device is an input error before anything starts
    database = open_database(settings.db_url)
    try:
        if not users.has_administrator(database):
            typer.echo("First run: stimwise needs an administrator account.")
            password = ask_password(
                "admin_password",
                "the first administrator's password",
                admin_user,
                sys.stdin.isatty(),
            )
            users.create_administrator(
                database, admin_user, password, Passwords(make_hasher("standard"))
            )
            typer.echo(f"Created the administrator {admin_user!r} (accounts and audit log; "
                       "they create the clinicians' accounts).")
        load_or_create_secret(settings)  # once, before any worker reads it
        app = create_app(settings, database) if workers == 1 else None
    except BaseException:
        database.close()
        raise
    if app is None:
        database.close()
    host, port = settings.host, settings.port
    shown_host = f"[{host}]" if ":" in host else host
    typer.echo(f"stimwise records: {shown_url(database.url)}")
    typer.echo(f"stimwise is serving at http://{shown_host}:{port}/  (Ctrl+C stops it)")
    if host not in LOOPBACK and not settings.secure_cookies:
        typer.echo(
            "warning: listening beyond this computer over plain HTTP; put a TLS proxy in front "
            "and pass --secure-cookies",
            err=True,
        )
    # proxy_headers off: uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1 and hand
    # the sign-in throttle a forged address; the application reads it from trusted proxies.
    common = {"host": host, "port": port, "log_level": "info", "access_log": False,
              "proxy_headers": False}
    if app is not None:
        uvicorn.run(app, **common)
        return
    # Worker processes read their settings from the environment they inherit: the options
    # given here go there, so that every worker runs with the same settings as this process.
    for name, value in given.items():
        if value is not None:
            os.environ[variable(name)] = (",".join(value) if isinstance(value, tuple)
                                          else str(value).lower() if isinstance(value, bool)
                                          else str(value))
    uvicorn.run("stimwise.web.app:app_from_environment", factory=True, workers=workers,
                **common)
