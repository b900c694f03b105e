"""The options and arguments that several ``stimwise`` commands share, each defined once.

Every command module imports its shared options from here (never from another command module),
so the same option reads and is documented the same way everywhere. An option that only one
command module uses stays with that module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stimwise.cli import values as v

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (sqlite:///FILE or postgresql+psycopg://...); default "
        "$STIMWISE_DB_URL or the SQLite file in your data directory.",
    ),
]

PseudonymArg = Annotated[str, typer.Argument(help="The patient's pseudonym.")]
"""A person in the records, by pseudonym."""

IntakeFileArg = Annotated[Path, typer.Argument(help="A patient intake file (YAML or JSON).")]
"""A person's intake as a file (for the commands that work without records)."""

ProtocolArg = Annotated[str, typer.Argument(help="A library id or a protocol file (YAML/JSON).")]

AreaOption = Annotated[
    float | None,
    typer.Option(
        "--electrode-area-cm2", parser=v.AREA_CM2,
        help="Use this conductive area for every electrode (cm²).",
    ),
]

AmplitudeOption = Annotated[
    float | None,
    typer.Option("--amplitude-ma", parser=v.MA, help="Prescribed maximum amplitude (mA)."),
]

MinutesOption = Annotated[
    float | None, typer.Option("--minutes", parser=v.MINUTES, help="Session length (min).")
]

PlotOption = Annotated[
    Path | None, typer.Option("--plot", help="Also draw a figure (png, svg or pdf).")
]
