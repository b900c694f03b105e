"""Where a fibre's sections lie in space."""

from __future__ import annotations

import numpy as np

from stimwise.errors import FieldProblem, InputError
from stimwise.physiology.fibers import Fiber


def straight_fiber_points_mm(
    fiber: Fiber,
    origin_mm: tuple[float, float, float] = (0.0, 0.0, 0.0),
    direction: tuple[float, float, float] = (1.0, 0.0, 0.0),
) -> np.ndarray:
    """Section centres (n_sections, 3) in mm of a straight fibre whose middle node is at
    ``origin_mm`` and which runs along ``direction``."""
    axis = np.asarray(direction, dtype=float)
    norm = np.linalg.norm(axis)
    if not np.isfinite(norm) or norm == 0.0:
        raise InputError(FieldProblem("direction", direction, "a non-zero 3-vector"))
    return np.asarray(origin_mm, dtype=float) + np.outer(fiber.section_z_mm, axis / norm)
