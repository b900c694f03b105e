"""``stimwise serve``: the clinic and home web application on embedded defaults.

With no options it serves the SQLite records in the user's data directory, with the simulated
stimulator, on the loopback address, and prints the address to open. The first run creates the
administrator clinician from ``$STIMWISE_ADMIN_PASSWORD`` or an interactive prompt; there is no
default password, and a non-interactive first run without the variable stops with exit 2.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from stimwise.cli.errors import report_errors

ENV_ADMIN_PASSWORD = "STIMWISE_ADMIN_PASSWORD"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)


def admin_password(username: str, interactive: bool) -> str:
    """The first administrator's password: from the environment, else asked twice."""
    from stimwise.errors import FieldProblem, InputError
    from stimwise.web.security.passwords import MIN_PASSWORD_LENGTH, password_problems

    password = os.environ.get(ENV_ADMIN_PASSWORD)
    source = ENV_ADMIN_PASSWORD
    if password is None:
        if not interactive:
            raise InputError(
                FieldProblem(
                    ENV_ADMIN_PASSWORD,
                    None,
                    f"the first administrator's password (at least {MIN_PASSWORD_LENGTH} "
                    "characters) in this environment variable, or run interactively to be "
                    "asked; stimwise has no default password",
                )
            )
        typer.echo(f"First run: choose the password of the administrator {username!r}.")
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        source = "password"
    if problems := password_problems(password, username, path=source):
        raise InputError(problems)
    return password


@report_errors(json_flag=None)
def serve_command(
    db: Annotated[
        str | None,
        typer.Option("--db", help="Records database URL; default $STIMWISE_DB_URL or SQLite."),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    device: Annotated[
        str, typer.Option("--device", help="Stimulator: sim or rehastim2:PORT.")
    ] = "sim",
    admin_user: Annotated[
        str, typer.Option("--admin-user", help="Name of the first administrator (first run).")
    ] = "admin",
    secure_cookies: Annotated[
        bool,
        typer.Option(
            "--secure-cookies",
            help="Served over HTTPS (behind a TLS proxy): Secure cookies and HSTS.",
        ),
    ] = False,
) -> None:
    """Start the web application and print its address."""
    import uvicorn

    from stimwise.errors import FieldProblem, InputError
    from stimwise.records.database import shown_url
    from stimwise.records.schema import open_database
    from stimwise.web.app import create_app
    from stimwise.web.security.passwords import Passwords, make_hasher
    from stimwise.web.services import users
    from stimwise.web.settings import WebSettings

    if device != "sim" and not device.startswith("rehastim2:"):
        raise InputError(FieldProblem("--device", device, "'sim' or 'rehastim2:PORT'"))
    settings = WebSettings(
        db_url=db, host=host, port=port, device=device, secure_cookies=secure_cookies
    )
    database = open_database(db)
    try:
        if not users.has_administrator(database):
            password = admin_password(admin_user, interactive=sys.stdin.isatty())
            users.create_administrator(
                database, admin_user, password, Passwords(make_hasher("standard"))
            )
            typer.echo(f"Created the administrator clinician {admin_user!r}.")
        app = create_app(settings, database)
    except BaseException:
        database.close()
        raise
    shown_host = f"[{host}]" if ":" in host else host
    typer.echo(f"stimwise records: {shown_url(database.url)}")
    typer.echo(f"stimwise is serving at http://{shown_host}:{port}/  (Ctrl+C stops it)")
    if host not in LOOPBACK and not secure_cookies:
        typer.echo(
            "warning: listening beyond this computer over plain HTTP; put a TLS proxy in front "
            "and pass --secure-cookies",
            err=True,
        )
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
