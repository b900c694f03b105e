"""Where the commands write: Rich consoles on stdout or stderr, JSON documents on stdout and
progress bars on stderr (so ``--json`` output stays one document)."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from typing import Any


def console():
    """A Rich console on stdout."""
    from rich.console import Console

    return Console()


def console_to_stderr():
    """A Rich console on stderr (for messages next to a ``--json`` document)."""
    from rich.console import Console

    return Console(stderr=True)


def json_ready(document: Any) -> Any:
    """``document`` with every number JSON can carry: a NaN or infinite float (an unknown
    current, a mean of nothing) becomes ``null``, and a NumPy scalar or array its Python value.

    ``json.dumps`` would otherwise write ``NaN``, which is not JSON: a strict reader (``jq``,
    JavaScript's ``JSON.parse``, most languages' parsers) refuses the whole document.
    """
    if isinstance(document, dict):
        return {key: json_ready(value) for key, value in document.items()}
    if isinstance(document, list | tuple):
        return [json_ready(value) for value in document]
    if callable(getattr(document, "tolist", None)):  # a NumPy scalar or array
        return json_ready(document.tolist())
    if isinstance(document, float) and not math.isfinite(document):
        return None
    return document


def print_json(document: Any) -> None:
    """One JSON document on stdout: dates and paths as text, unknown numbers as ``null``
    (never ``NaN``, which strict JSON readers refuse)."""
    print(json.dumps(json_ready(document), indent=2, default=str, allow_nan=False))


@contextlib.contextmanager
def progress_on_stderr(description: str) -> Iterator:
    """A Rich progress bar on stderr; yields the ``progress(done, total)`` callback."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
