"""``stimwise config show``: every setting, its value and where it came from (the environment,
the settings file or the default), secrets hidden. See :mod:`stimwise.settings`."""

from __future__ import annotations

import typer

from stimwise.cli import output
from stimwise.cli.errors import report_errors
from stimwise.cli.options import JsonFlag

config_app = typer.Typer(no_args_is_help=True, help="The settings and where they come from.")


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")


@config_app.command("show")
@report_errors()
def config_show(as_json: JsonFlag = False) -> None:
    """Show every setting: its environment variable, its value (secrets hidden) and its
    source: environment, file or default."""
    from stimwise.settings import (
        SECRET_FIELDS,
        Settings,
        effective,
        get_settings,
        settings_file,
        sources,
        variable,
    )

    settings = get_settings()
    values, found, path = effective(settings), sources(), settings_file()
    rows = [{"name": name, "variable": variable(name), "value": values[name],
             "source": found[name], "secret": name in SECRET_FIELDS}
            for name in Settings.model_fields]
    if as_json:
        output.print_json({"settings_file": str(path), "settings_file_exists": path.is_file(),
                           "settings": rows})
        return
    from rich.table import Table

    state = "read" if path.is_file() else "not found; defaults and environment only"
    table = Table(title=f"stimwise settings (file {path}: {state})")
    for column in ("variable", "value", "source"):
        table.add_column(column, overflow="fold")
    for row in rows:
        value = row["value"]
        table.add_row(row["variable"], "(not set)" if value in (None, "", []) else str(value),
                      row["source"])
    output.console().print(table)
