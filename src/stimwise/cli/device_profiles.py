"""``stimwise device-profiles list|show``: the commercial devices a person may own (thin shell
over :mod:`stimwise.device.profiles`)."""

from __future__ import annotations

from typing import Annotated

import typer

from stimwise.cli import output
from stimwise.cli.errors import report_errors
from stimwise.cli.options import JsonFlag

profiles_app = typer.Typer(
    no_args_is_help=True, help="Commercial TENS/EMS units a person may own, with sources.")


def register(app: typer.Typer) -> None:
    app.add_typer(profiles_app, name="device-profiles")


def _summary(profile) -> dict:
    return {
        "id": profile.id, "name": profile.name, "manufacturer": profile.manufacturer,
        "modalities": list(profile.modalities), "controls": profile.controls,
        "closed": profile.closed, "channels": profile.channels.value,
        "programmes": len(profile.programmes), "generic": profile.generic,
        "sources": [{"id": s.id, "kind": s.kind, "reference": s.reference,
                     "confidence": s.confidence} for s in profile.sources],
        "unknown": profile.unknowns(),
    }


@profiles_app.command("list")
@report_errors()
def profiles_list(as_json: JsonFlag = False) -> None:
    """List the device profiles with their sources and how much is unknown."""
    from stimwise.device.profiles import profiles

    rows = [_summary(p) for p in profiles().values()]
    if as_json:
        output.print_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="device profiles (stimwise device-profiles show ID for the facts)")
    for column in ("id", "name", "modalities", "channels", "sources", "unknown facts"):
        table.add_column(column)
    for row in rows:
        channels = "unknown" if row["channels"] is None else f"{row['channels']:g}"
        sources = ", ".join(f"{s['kind']} [{s['confidence']}]" for s in row["sources"]) or "—"
        table.add_row(row["id"], row["name"], "/".join(row["modalities"]), channels, sources,
                      str(len(row["unknown"])))
    Console().print(table)


@profiles_app.command("show")
@report_errors()
def profiles_show(
    profile_id: Annotated[str, typer.Argument(help="A profile id (see `device-profiles list`).")],
    as_json: JsonFlag = False,
) -> None:
    """Show one profile in full: every fact with its source, and what is unknown."""
    from stimwise.device.profiles import get_profile

    profile = get_profile(profile_id)
    document = profile.model_dump(mode="json")
    document["unknown"] = profile.unknowns()
    if as_json:
        output.print_json(document)
        return
    import yaml
    from rich.console import Console

    console = Console()
    console.print(f"[bold]{profile.name}[/] ({profile.id})")
    console.print(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
