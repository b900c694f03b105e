"""StimwiseError → one paragraph and an exit code (ARCHITECTURE §4), never a traceback."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TypeVar

import typer

from stimwise.cli import output
from stimwise.errors import InputError, StimwiseError
from stimwise.extras import as_missing_extra

F = TypeVar("F", bound=Callable)

EXIT_OK = 0
EXIT_BLOCKED = 1
EXIT_FAULT = 3


def report_errors(json_flag: str | None = "as_json") -> Callable[[F], F]:
    """CLI command decorator: StimwiseError → message on stderr (or JSON) and exit code."""

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def wrapper(*args, **kwargs):
            try:
                try:
                    return command(*args, **kwargs)
                except ModuleNotFoundError as missing:
                    # An optional dependency this command needs is not installed: name the
                    # extra that brings it (one line, exit 2), never a traceback.
                    extra = as_missing_extra(missing, "this command")
                    if extra is None:
                        raise
                    raise extra from None
            except StimwiseError as error:
                as_json = bool(json_flag and kwargs.get(json_flag))
                if as_json:
                    payload = (
                        error.to_dict()
                        if isinstance(error, InputError)
                        else {"error": type(error).__name__, "message": str(error)}
                    )
                    output.print_json(payload)
                else:
                    print(f"stimwise: {error}", file=sys.stderr)
                raise typer.Exit(error.exit_code) from None
            except OSError as error:
                print(
                    f"stimwise: {error.strerror or error}: {error.filename or ''}", file=sys.stderr
                )
                raise typer.Exit(EXIT_FAULT) from None

        return wrapper  # type: ignore[return-value]

    return decorate

