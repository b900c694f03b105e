"""Checking and quantising the amplitudes an ``update`` asks for, as every real driver must.

A driver sets only what its device can deliver and never more than asked: each requested
amplitude is floored to the device's current step, and anything that is not a number of mA
from 0 to the verified plan's maximum (within the device's range) is refused before anything
is sent (HAZ-004 defence in depth under the session's own ceiling).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TypeGuard

from stimwise.errors import FieldProblem, InputError

_ROUNDING_SLACK = 1e-9
"""In current steps: 2.9999999997 mA is 3 mA."""


def quantised_currents(
    amplitudes_ma: Mapping[str, object],
    previous_ma: Mapping[str, float],
    *,
    labels: tuple[str, ...],
    max_ma: float,
    step_ma: float,
    device_max_ma: float,
) -> dict[str, float]:
    """Every channel's current after setting the channels named in ``amplitudes_ma``.

    Values are floored to multiples of ``step_ma``, so the device never delivers more than
    asked; channels not named keep ``previous_ma`` (0 when absent).

    Raises
    ------
    InputError
        Every unknown label and every value that is not a number of mA from 0 to ``max_ma``
        (the verified plan's maximum, within ``device_max_ma``); nothing is applied.
    """
    problems = []
    chosen = {label: float(previous_ma.get(label, 0.0)) for label in labels}
    for label, value in amplitudes_ma.items():
        path = f"amplitudes_ma[{label!r}]"
        if label not in labels:
            expected = f"a channel of the loaded plan: {list(labels)}"
            problems.append(FieldProblem(path, label, expected))
        elif _is_current(value, max_ma):
            chosen[label] = math.floor(value / step_ma + _ROUNDING_SLACK) * step_ma
        else:
            expected = (
                f"a number of mA from 0 to {max_ma:g} (the verified plan's maximum, within the "
                f"device's {device_max_ma:g} mA)"
            )
            problems.append(FieldProblem(path, value, expected))
    if problems:
        raise InputError(problems, source="update")
    return chosen


def _is_current(value: object, high_ma: float) -> TypeGuard[float]:
    """A real number (not a bool, not NaN) of mA from 0 to ``high_ma``."""
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= high_ma
