"""Numbers typed by people: read strictly, checked against their bounds.

Used wherever a number arrives as text or outside a pydantic model — command-line options
(:mod:`stimwise.cli.values`), web form fields, session settings, CSV cells — so that every
boundary refuses ``nan``, ``inf``, ``true`` and ``2_0`` the same way. Imports nothing heavy:
the command line reads its options with it before any model is loaded.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from stimwise.errors import FieldProblem

_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_WHOLE = re.compile(r"[+-]?[0-9]+")


def parse_number(text: str, *, integer: bool = False) -> float | int:
    """A number typed as text (a command-line option, a form field), read strictly.

    Python's own ``float()`` also reads ``"nan"``, ``"inf"``, ``"1_000"`` and ``"١٢"``; none of
    them is a dose. Only plain decimal notation is read here (``2``, ``-0.5``, ``1e3``); the
    result is finite.

    Raises
    ------
    ValueError
        With what was expected, for anything else.
    """
    pattern, expected = (
        (_WHOLE, "a whole number such as 3")
        if integer
        else (_DECIMAL, "a finite decimal number such as 2.5 (no NaN, infinity or '_')")
    )
    stripped = text.strip()
    if not pattern.fullmatch(stripped):
        raise ValueError(expected)
    number = int(stripped) if integer else float(stripped)
    if not math.isfinite(number):
        raise ValueError(f"{expected}; {stripped} does not fit in a double")
    return number


@dataclass(frozen=True)
class Bounds:
    """What a number given at a boundary must be: finite, in ``unit``, within the bounds.

    One validator for every option and setting that is not a model field (command-line options,
    form fields, session settings): :meth:`check` takes a number, :meth:`parse` also reads text
    strictly (see :func:`parse_number`), and :meth:`problem` names what is wrong as a
    :class:`~stimwise.errors.FieldProblem`.
    """

    unit: str
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    integer: bool = False

    @property
    def expected(self) -> str:
        kind = "a whole number" if self.integer else "a finite number"
        unit = f" of {self.unit}" if self.unit else ""
        limits = [
            f"{sign} {value:g}"
            for sign, value in ((">", self.gt), ("≥", self.ge), ("<", self.lt), ("≤", self.le))
            if value is not None
        ]
        return f"{kind}{unit}" + (f" {' and '.join(limits)}" if limits else "")

    def _fits(self, number: float) -> bool:
        return not (
            (self.gt is not None and not number > self.gt)
            or (self.ge is not None and not number >= self.ge)
            or (self.lt is not None and not number < self.lt)
            or (self.le is not None and not number <= self.le)
        )

    def check(self, value: object) -> float | int:
        """``value`` if it is a number (never a boolean, never text) within the bounds.

        Raises
        ------
        ValueError
            Saying what was expected: for ``true``, text, NaN, infinity, a fraction where a
            whole number is meant, or a value out of bounds.
        """
        wanted = int if self.integer else int | float
        if isinstance(value, bool) or not isinstance(value, wanted):
            raise ValueError(self.expected)
        if not math.isfinite(value) or not self._fits(value):
            raise ValueError(self.expected)
        return value

    def parse(self, value: object) -> float | int:
        """Text read strictly (see :func:`parse_number`), or a number, if within the bounds:
        what a command-line option, a form field or a message may hold."""
        if isinstance(value, str):
            try:
                value = parse_number(value, integer=self.integer)
            except ValueError:
                raise ValueError(self.expected) from None
        return self.check(value)

    def problem(self, path: str, value: object) -> FieldProblem | None:
        """``None`` when ``value`` passes :meth:`check`, else what is wrong at ``path``."""
        try:
            self.check(value)
        except ValueError:
            return FieldProblem(path, value, self.expected)
        return None
