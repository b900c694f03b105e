"""Where the commands write: Rich consoles on stdout or stderr, JSON documents on stdout and
progress bars on stderr (so ``--json`` output stays one document)."""

from __future__ import annotations

import contextlib
import json
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


def print_json(document: Any) -> None:
    """One JSON document on stdout (dates and paths as text)."""
    print(json.dumps(document, indent=2, default=str))


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
