"""Numbers on the command line: every ``int`` and ``float`` option is read strictly and bounded.

``typer`` alone turns ``--target-ma nan`` into a NaN, ``-inf`` into infinity and ``2_0`` into 20.
Each numeric option here is declared with ``parser=number(Bounds(...))`` instead, so a value
that is not plain decimal notation, not finite or out of its range stops the command before it
runs, with one line naming the option, the value and what it expects (exit 2, HAZ-085).
``tests/test_cli_values.py`` checks that no numeric option of any command is declared without
one.
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from stimwise.numbers import Bounds


def number(bounds: Bounds) -> Callable[[object], float | int]:
    """A ``typer`` option parser that accepts only what ``bounds`` allows."""

    def parse(value: object) -> float | int:
        try:
            return bounds.parse(value)
        except ValueError:
            raise typer.BadParameter(f"{value!r} is not {bounds.expected}") from None

    parse.bounds = bounds  # type: ignore[attr-defined]
    return parse


MA = number(Bounds("mA", gt=0, le=200))
"""An amplitude: above 0 and at most 200 mA, the range of ``Prescription.max_amplitude_ma``."""

MINUTES = number(Bounds("min", gt=0, le=480))
"""A session length, as ``Prescription.session_duration_min``."""

AREA_CM2 = number(Bounds("cm²", gt=0, le=1000))
"""An electrode area, as ``Electrode.area_cm2``."""

SECONDS = number(Bounds("s", gt=0))
"""A positive time span; the command's own limits (e.g. the export's) apply after it."""

SAMPLE_RATE_HZ = number(Bounds("Hz", gt=0, le=10_000_000))
"""A sample rate: 10 MHz renders 20 ns features, far below any stimulator's (U)."""

SEED = number(Bounds("", ge=0, le=2**32 - 1, integer=True))
"""A random seed (numpy accepts 0 … 2^32 − 1)."""

WHOLE = number(Bounds("", integer=True))
"""Any whole number; the model it feeds checks its range."""

FINITE = number(Bounds(""))
"""Any finite number; the model it feeds checks its range with the cited limits."""


def finite(unit: str) -> Callable[[object], float | int]:
    """Any finite number in ``unit`` (the model it feeds checks its range)."""
    return number(Bounds(unit))


def whole(*, ge: int, le: int) -> Callable[[object], float | int]:
    """A whole number within [ge, le]."""
    return number(Bounds("", ge=ge, le=le, integer=True))
