"""JSON as evidence is read: no NaN, no infinity, no number beyond a float, no repeated field.

Python's ``json`` module accepts ``NaN`` and ``Infinity`` (not JSON at all), turns ``1e400``
into infinity, and keeps the *last* of two equal keys silently. A record built from such a
document could hold a value nobody wrote, or a different one than a reader of the file sees.
Session journals and imported FHIR bundles are read with :func:`loads` instead.
"""

from __future__ import annotations

import json
import math
from typing import Any


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is out of the range of a number")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"field {key[:40]!r} appears twice")
        found[key] = value
    return found


def loads(data: str | bytes) -> Any:
    """Parse JSON strictly; ``ValueError`` says why a document is not strict JSON (bytes must be
    UTF-8; nesting too deep is refused, not a crash)."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float,
                          object_pairs_hook=_unique_keys)
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 text (byte {error.start})") from None
    except RecursionError:
        raise ValueError("nested too deep") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON ({error.msg} at line {error.lineno}, column "
                         f"{error.colno})") from None
