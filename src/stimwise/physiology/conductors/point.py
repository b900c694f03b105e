"""Point current source in an infinite homogeneous isotropic medium (for validation)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from stimwise.errors import FieldProblem, InputError

# Tissues span ~0.02 (fat, bone) to ~2 S/m (CSF, blood); this wider range only catches unit
# mistakes (mS/m, S/cm) [U] stimwise's choice.
CONDUCTIVITY_RANGE_S_PER_M = (1e-3, 20.0)
MIN_DISTANCE_MM = 1e-3  # a point closer than 1 um to the source would see an infinite potential


@dataclass(frozen=True)
class PointSource:
    """V = I / (4 pi sigma r): ``conductivity_s_per_m`` of the medium, source at ``position_mm``."""

    conductivity_s_per_m: float
    position_mm: tuple[float, float, float]

    def __post_init__(self) -> None:
        low, high = CONDUCTIVITY_RANGE_S_PER_M
        if not (math.isfinite(self.conductivity_s_per_m) and low <= self.conductivity_s_per_m
                <= high):
            raise InputError(FieldProblem("conductivity_s_per_m", self.conductivity_s_per_m,
                                          f"a conductivity in [{low:g}, {high:g}] S/m (siemens "
                                          "per metre, not mS/m)"))

    def potential_mv_per_ma(self, points_mm: np.ndarray) -> np.ndarray:
        """Potential (mV) at ``points_mm`` (n, 3) for +1 mA injected.

        1 mA / (4 pi sigma [S/m] r [mm]) = 1 / (4 pi sigma r) V = 1000 / (4 pi sigma r) mV.
        """
        r = np.linalg.norm(np.asarray(points_mm, dtype=float) - np.asarray(self.position_mm),
                           axis=1)
        if r.min() < MIN_DISTANCE_MM:
            raise InputError(FieldProblem("position_mm", self.position_mm,
                                          "a source at least 1 um away from every fibre section"))
        return 1000.0 / (4.0 * math.pi * self.conductivity_s_per_m * r)
