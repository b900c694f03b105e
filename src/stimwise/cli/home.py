"""``stimwise prescription instructions`` and ``stimwise session log``: the home programme on
the person's own device from the command line (thin shells over :mod:`stimwise.records.home`,
:mod:`stimwise.records.self_logged` and :mod:`stimwise.interop.home_sheet`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from stimwise.cli.errors import EXIT_BLOCKED, report_errors
from stimwise.cli.records import DbOption, JsonFlag, PatientArg, _actor, _console, _print

ProfileOption = Annotated[
    str, typer.Option("--profile", help="Device profile id (see `stimwise device-profiles list`).")
]


def register(prescription_app: typer.Typer, session_app: typer.Typer) -> None:
    prescription_app.command("instructions")(prescription_instructions)


@report_errors()
def prescription_instructions(
    patient: PatientArg,
    profile: ProfileOption,
    html: Annotated[Path | None, typer.Option("--html", help="Write the printable sheet "
                                              "(HTML) here.")] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the sheet as PDF here.")] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The person's prescription in their own device's terms: settings, what the device cannot
    match, intensity guidance, placement, and the verification at the device's worst-case
    output. Exit 1 when the settings are blocked or cannot be verified."""
    from stimwise.records.home import home_instructions
    from stimwise.records.schema import open_database

    today = datetime.now(UTC).date()
    with open_database(db) as database, database.reading() as session:
        instructions = home_instructions(session, _actor(), patient, profile, today)
    if html is not None or pdf is not None:
        from stimwise.interop.home_sheet import sheet_html, sheet_pdf

        if html is not None:
            html.write_text(sheet_html(instructions, patient, today), encoding="utf-8")
        if pdf is not None:
            pdf.write_bytes(sheet_pdf(instructions, patient, today))
    if as_json:
        _print(instructions.to_dict())
    else:
        _print_instructions(instructions, [p for p in (html, pdf) if p is not None])
    if not instructions.verified:
        raise typer.Exit(EXIT_BLOCKED)


def _print_instructions(instructions, written: list[Path]) -> None:
    console = _console()
    document = instructions.to_dict()
    programme = document["programme"]
    console.print(f"[bold]{instructions.profile.name}[/]: "
                  f"{programme['name'] if programme else 'no matching programme'}")
    for s in document["settings"]:
        device = "not published" if s["device"] is None else f"{s['device']:g} {s['unit']}"
        console.print(f"  {s['parameter']}: {device} — {s['note']}")
    for text in document["intensity_guidance"]:
        console.print(f"  intensity: {text}")
    for text in document["placement"]:
        console.print(f"  placement: {text}")
    for text in document["mismatches"]:
        console.print(f"  cannot match: {text}")
    console.print(f"worst case: {document['worst_case']['basis']}")
    console.print(f"[bold]{document['verification']['status'].replace('_', ' ')}[/]: "
                  f"{document['verification']['reason']}")
    for path in written:
        console.print(f"wrote {path}")
