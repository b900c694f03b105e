"""``stimwise prescription instructions`` and ``stimwise session log``: the home programme on
the person's own device from the command line (thin shells over :mod:`stimwise.records.home`,
:mod:`stimwise.records.self_logged` and :mod:`stimwise.interop.home_sheet`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from stimwise.cli import inputs, output
from stimwise.cli import values as v
from stimwise.cli.errors import EXIT_BLOCKED, report_errors
from stimwise.cli.options import DbOption, JsonFlag, PseudonymArg

ProfileOption = Annotated[
    str, typer.Option("--profile", help="Device profile id (see `stimwise device-profiles list`).")
]


def register(prescription_app: typer.Typer, session_app: typer.Typer) -> None:
    prescription_app.command("instructions")(prescription_instructions)
    session_app.command("log")(session_log)
    prescription_app.command("calendar")(prescription_calendar)


@report_errors()
def prescription_calendar(
    patient: PseudonymArg,
    profile: ProfileOption,
    out: Annotated[Path, typer.Option("--out", help="The .ics file to write (replaced).")],
    at: Annotated[str, typer.Option("--time", help="Time of day of the session (HH:MM, local "
                                    "time of the phone).")] = "18:00",
    db: DbOption = None,
) -> None:
    """The home schedule as a calendar file (ICS) with a reminder before each session."""
    from datetime import time

    from stimwise.errors import FieldProblem, InputError
    from stimwise.interop.calendar import home_schedule_ics
    from stimwise.records.home import home_instructions, prescription_on
    from stimwise.records.schema import open_database

    try:
        clock = time.fromisoformat(at)
    except ValueError:
        raise InputError(FieldProblem("--time", at, "a time HH:MM")) from None
    today = datetime.now(UTC).date()
    with open_database(db) as database, database.reading() as session:
        instructions = home_instructions(session, inputs.actor(), patient, profile, today)
        valid_to = prescription_on(session, inputs.actor(), patient, today).row.valid_to
    out.write_bytes(home_schedule_ics(instructions, today, clock, valid_to))
    print(f"wrote {out}")


@report_errors()
def prescription_instructions(
    patient: PseudonymArg,
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
        instructions = home_instructions(session, inputs.actor(), patient, profile, today)
    if html is not None or pdf is not None:
        from stimwise.interop.home_sheet import sheet_html, sheet_pdf

        if html is not None:
            html.write_text(sheet_html(instructions, patient, today), encoding="utf-8")
        if pdf is not None:
            pdf.write_bytes(sheet_pdf(instructions, patient, today))
    if as_json:
        output.print_json(instructions.to_dict())
    else:
        _print_instructions(instructions, [p for p in (html, pdf) if p is not None])
    if not instructions.verified:
        raise typer.Exit(EXIT_BLOCKED)


def _print_instructions(instructions, written: list[Path]) -> None:
    console = output.console()
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


def _settings(pairs: list[str]) -> dict[str, object]:
    """``KEY=VALUE`` pairs as a dict; a value that is not a number is passed on as text so the
    validation names it."""
    from stimwise.errors import FieldProblem, InputError

    settings: dict[str, object] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise InputError(FieldProblem("--setting", pair, "KEY=VALUE, e.g. frequency_hz=90"))
        try:
            settings[key.strip()] = float(text)
        except ValueError:
            settings[key.strip()] = text
    return settings


@report_errors()
def session_log(
    patient: PseudonymArg,
    profile: ProfileOption,
    minutes: Annotated[float, typer.Option("--minutes", parser=v.MINUTES,
                                                  help="How long the session ran.")],
    setting: Annotated[list[str] | None, typer.Option(
        "--setting", help="KEY=VALUE read from the device: frequency_hz, phase_width_us, "
        "burst_frequency_hz, level or amplitude_ma (repeatable).")] = None,
    programme: Annotated[str | None, typer.Option("--programme", help="The device programme "
                                                  "used (default: the prescribed one).")] = None,
    as_prescribed: Annotated[bool, typer.Option(
        "--as-prescribed", help="Settings as in the instructions (those given override).")
    ] = False,
    pain_before: Annotated[int | None, typer.Option("--pain-before", parser=v.whole(ge=0, le=10),
                                                           help="Pain 0-10 before.")
                           ] = None,
    pain_after: Annotated[int | None, typer.Option("--pain-after", parser=v.whole(ge=0, le=10),
                                                          help="Pain 0-10 after.")
                          ] = None,
    felt: Annotated[str | None, typer.Option("--felt", help="nothing, light_tingling, "
                    "strong_comfortable, muscle_twitch or painful.")] = None,
    skin: Annotated[str | None, typer.Option("--skin", help="normal, redness_fading, "
                    "redness_lasting, irritated or burn_or_blister.")] = None,
    problem: Annotated[list[str] | None, typer.Option(
        "--problem", help="skin_irritation, burn, flare, soreness or other (repeatable).")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Free text.")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When it started (ISO 8601 with "
                                           "offset; default: now).")] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Log a session done on the person's own device (provenance: self-reported). Settings
    outside the prescription's locked ranges are stored, flagged and sent to the clinicians'
    inbox; impossible or out-of-range values are refused (exit 2)."""
    from stimwise.errors import InputError
    from stimwise.records.schema import open_database
    from stimwise.records.self_logged import log_self_session

    values = {
        "started_at": at or datetime.now(UTC).isoformat(), "minutes": minutes,
        "profile": profile, "programme": programme, "as_prescribed": as_prescribed,
        "settings": _settings(setting or []), "felt": felt, "nrs_pre": pain_before,
        "nrs_post": pain_after, "skin": skin, "problems": problem or [], "note": note,
    }
    options = {"started_at": "--at", "minutes": "--minutes", "profile": "--profile",
               "programme": "--programme", "settings": "--setting", "felt": "--felt",
               "nrs_pre": "--pain-before", "nrs_post": "--pain-after", "skin": "--skin",
               "problems": "--problem", "note": "--note"}
    with open_database(db) as database, database.transaction() as session:
        try:
            result = log_self_session(session, inputs.actor(), patient, values)
        except InputError as error:
            raise inputs.with_options(error, options) from None
    row = result.session
    document = {
        "id": row.id, "created": result.created, "provenance": row.provenance,
        "profile_id": row.profile_id, "programme_id": row.programme_id,
        "started_at": row.started_at.isoformat(), "minutes": row.minutes,
        "settings": row.settings, "verification": row.verification,
        "flagged": row.flagged, "flag_reasons": row.flag_reasons,
    }
    if as_json:
        output.print_json(document)
        return
    console = output.console()
    console.print(f"self-reported session {row.id} for {patient}: {row.minutes:g} min on "
                  f"{row.profile_id}; settings {row.verification['status'].replace('_', ' ')}")
    if row.flagged:
        console.print("[bold]flagged for the clinician[/]: " + "; ".join(row.flag_reasons))
