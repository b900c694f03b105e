"""Type stub of :mod:`stimwise.physiology`'s lazy names (see ``__init__.py``)."""

from stimwise.physiology.fibers import Fiber, build_fiber
from stimwise.physiology.plots_excitability import plot_strength_duration, plot_threshold_run
from stimwise.physiology.plots_population import plot_activation, plot_recruitment
from stimwise.physiology.single_fiber import (
    FiberThreshold,
    fiber_threshold,
    fiber_under_point_source,
)
from stimwise.physiology.stimulus import Stimulus
from stimwise.physiology.threshold import ThresholdResult, find_thresholds

__all__ = [
    "Fiber",
    "FiberThreshold",
    "Stimulus",
    "ThresholdResult",
    "build_fiber",
    "fiber_threshold",
    "fiber_under_point_source",
    "find_thresholds",
    "plot_activation",
    "plot_recruitment",
    "plot_strength_duration",
    "plot_threshold_run",
]
