"""CSV that a spreadsheet opens as data, never as formulas: the one writer every CSV file of
stimwise goes through (issue 17: ``=HYPERLINK(...)``, ``+cmd`` or ``@SUM`` typed into a diary
note were written as live formulas into ``diary.csv``).

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed
with a single quote, which spreadsheets show as text and do not evaluate (OWASP, "CSV
Injection"). Numbers are written as numbers, so a negative value stays a number (HAZ-116).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a cell that cannot run as a formula (text only; numbers pass unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeCsvWriter:
    """``csv.writer`` whose every cell goes through :func:`safe_cell`."""

    def __init__(self, stream: TextIO, **options: Any) -> None:
        self._writer = csv.writer(stream, lineterminator="\n", **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])
