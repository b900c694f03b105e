"""Volume conductors: every conductor or electrode exposes ``potential_mv_per_ma(points_mm)``."""

from stimwise.physiology.conductors.layered import LayeredHalfSpace, default_half_space
from stimwise.physiology.conductors.point import PointSource

__all__ = ["LayeredHalfSpace", "PointSource", "default_half_space"]
