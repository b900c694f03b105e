"""``stimwise fhir export|import`` and ``stimwise export csv``: a person's record as a FHIR R4
Bundle or as CSV files, and a Bundle back into the records. The commands act as the local
clinician (like the other record commands) and every export is audited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from stimwise.cli import inputs, output
from stimwise.cli.errors import report_errors
from stimwise.cli.options import DbOption, JsonFlag, PseudonymArg

MAX_BUNDLE_BYTES = 64 * 2**20
"""Largest FHIR Bundle read (stimwise's bound, U): a year of one person's diary, sessions and
answers is a few MB."""

fhir_app = typer.Typer(no_args_is_help=True, help="FHIR R4 export and import of a record.")
export_app = typer.Typer(no_args_is_help=True, help="Export a person's record as files.")

OutOption = Annotated[Path, typer.Option("--out", help="The file to write (replaced).")]


def register(app: typer.Typer) -> None:
    """Add the interoperability commands to the ``stimwise`` application."""
    app.add_typer(fhir_app, name="fhir")
    app.add_typer(export_app, name="export")


@fhir_app.command("export")
@report_errors()
def fhir_export(
    pseudonym: PseudonymArg,
    out: OutOption,
    include_identity: Annotated[
        bool,
        typer.Option("--include-identity",
                     help="Also export name, birth date and contact (clinicians; audited)."),
    ] = False,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Write the person's record as a FHIR R4 Bundle (JSON); pseudonymous unless
    --include-identity."""
    from stimwise.interop.fhir_export import export_bundle
    from stimwise.records.schema import open_database

    with open_database(db) as database:
        bundle = export_bundle(
            database, inputs.actor(), pseudonym, include_identity=include_identity
        )
    out.write_text(json.dumps(bundle, indent=2, ensure_ascii=False), encoding="utf-8")
    counts: dict[str, int] = {}
    for entry in bundle["entry"]:
        kind = entry["resource"]["resourceType"]
        counts[kind] = counts.get(kind, 0) + 1
    if as_json:
        output.print_json({"patient": pseudonym, "out": str(out), "resources": counts,
                          "identity": include_identity})
    else:
        listed = ", ".join(f"{n} {kind}" for kind, n in counts.items())
        print(f"wrote {out}: FHIR R4 Bundle of {pseudonym} ({listed})")


@fhir_app.command("import")
@report_errors()
def fhir_import(
    bundle: Annotated[Path, typer.Argument(help="A Bundle written by `stimwise fhir export`.")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Import a stimwise FHIR Bundle: all or nothing; records already stored are skipped."""
    from stimwise.interop.fhir_import import import_bundle
    from stimwise.protocol.io import check_file_size
    from stimwise.records.schema import open_database

    check_file_size(bundle, MAX_BUNDLE_BYTES, "FHIR Bundle (JSON)")
    data = bundle.read_bytes()  # the import names bytes that are not UTF-8 JSON
    with open_database(db) as database:
        summary = import_bundle(database, inputs.actor(), data, source=str(bundle))
    if as_json:
        output.print_json(summary.as_dict())
        return
    created = ", ".join(f"{n} {k}" for k, n in summary.created.items()) or "nothing new"
    skipped = sum(summary.skipped.values())
    print(f"imported {bundle} for {summary.pseudonym}: {created}; "
          f"{skipped} already stored")


@export_app.command("csv")
@report_errors()
def export_csv(
    pseudonym: PseudonymArg,
    out: Annotated[Path, typer.Option("--out", help="The zip file to write (replaced).")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Write the person's record as CSV files in a zip (diary, sessions, scores, adverse events,
    prescriptions); pseudonymous."""
    from stimwise.interop.csv_export import export_csv_zip
    from stimwise.records.schema import open_database

    with open_database(db) as database:
        data = export_csv_zip(database, inputs.actor(), pseudonym)
    out.write_bytes(data)
    if as_json:
        output.print_json({"patient": pseudonym, "out": str(out), "bytes": len(data)})
    else:
        print(f"wrote {out}: CSV export of {pseudonym} ({len(data)} bytes)")
