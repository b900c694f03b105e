"""Physiology engine: fibre models, volume conductors, a batched cable solver, thresholds.

A model, not a diagnosis: predictions explain and seed dosing; they are never a safe dose.

Needs the ``physiology`` extra (Numba, SciPy, Dask): without it, the first use of any name here
raises :class:`~stimwise.extras.MissingExtraError` naming ``pip install 'stimwise[physiology]'``
rather than failing half-way through a computation on a missing module.
"""

from stimwise._lazy import attach
from stimwise.extras import require_extra

require_extra("physiology", "the physiology engine (stimwise.physiology)")

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "Fiber": ".fibers",
        "build_fiber": ".fibers",
        "plot_strength_duration": ".plots_excitability",
        "plot_threshold_run": ".plots_excitability",
        "plot_activation": ".plots_population",
        "plot_recruitment": ".plots_population",
        "FiberThreshold": ".single_fiber",
        "fiber_threshold": ".single_fiber",
        "fiber_under_point_source": ".single_fiber",
        "Stimulus": ".stimulus",
        "ThresholdResult": ".threshold",
        "find_thresholds": ".threshold",
    },
)
