"""One straight fibre under a point source: the threshold a researcher asks for first.

:func:`fiber_threshold` wraps the engine's batched threshold search
(:func:`stimwise.physiology.threshold.find_thresholds`) for the textbook set-up: one MRG
(myelinated) or C (unmyelinated) fibre, a point current source above its middle node in a
homogeneous medium, and a rectangular cathodic pulse. Every argument carries its unit in its name.
``stimwise model threshold`` is the same call on the command line.

A model prediction for an idealised fibre and source: not a diagnosis and not a dose.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from stimwise.errors import FieldProblem, InputError
from stimwise.numbers import Bounds
from stimwise.physiology.fibers import MODELS, Fiber, build_fiber
from stimwise.physiology.stimulus import Stimulus

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["DEFAULT_LENGTH_MM", "FiberThreshold", "fiber_threshold", "fiber_under_point_source"]

DEFAULT_LENGTH_MM = {"mrg": 40.0, "c": 6.0}
"""Fibre length when none is given (mm): long enough that the ends do not set the threshold
under a source 1 mm away (the reference windows of ``docs/physiology.md``)."""

DISTANCE_RANGE_MM = (0.01, 100.0)
"""Distances of the point source from the fibre that the model is meant for (mm)."""

_NUMBERS = {
    "diameter_um": Bounds("µm", gt=0),
    "distance_mm": Bounds("mm", gt=0),
    "pulse_width_ms": Bounds("ms", gt=0),
    "temperature_c": Bounds("°C"),
    "length_mm": Bounds("mm", gt=0),
    "conductivity_s_per_m": Bounds("S/m", gt=0),
    "duration_ms": Bounds("ms", gt=0),
    "rel_tol": Bounds("", gt=0),
}
"""Every number of :func:`fiber_threshold` is a finite number (not text, not a boolean) before
the engine checks its range, so ``diameter_um="10"`` is an :class:`InputError` naming it."""


def fiber_under_point_source(
    fiber: str,
    diameter_um: float,
    distance_mm: float,
    *,
    temperature_c: float = 37.0,
    length_mm: float | None = None,
    conductivity_s_per_m: float = 0.2,
) -> tuple[Fiber, np.ndarray]:
    """A straight fibre and the potential a +1 mA point source puts along it.

    Parameters
    ----------
    fiber
        ``"mrg"`` (myelinated, McIntyre-Richardson-Grill) or ``"c"`` (unmyelinated, Sundt).
    diameter_um
        Fibre diameter (µm; MRG 2-16, C within the Sundt model's range).
    distance_mm
        Height of the source above the middle node (mm, 0.01-100).
    temperature_c
        Temperature (°C).
    length_mm
        Fibre length (mm); :data:`DEFAULT_LENGTH_MM` by default.
    conductivity_s_per_m
        Conductivity of the homogeneous medium (S/m).

    Returns
    -------
    tuple
        The :class:`~stimwise.physiology.fibers.Fiber` and the extracellular potential at each
        of its sections (mV per mA).

    Raises
    ------
    InputError
        An unknown fibre model or a value out of its range (the message names the argument).

    Examples
    --------
    >>> from stimwise.physiology.single_fiber import fiber_under_point_source
    >>> built, ve = fiber_under_point_source("mrg", 10.0, 1.0)
    >>> built.model, ve.shape == (built.n_sections,)
    ('mrg', True)
    """
    from stimwise.physiology.conductors import PointSource
    from stimwise.physiology.geometry import straight_fiber_points_mm

    low, high = DISTANCE_RANGE_MM
    if not (low <= distance_mm <= high):
        raise InputError(
            FieldProblem("distance_mm", distance_mm, f"a distance in [{low:g}, {high:g}] mm")
        )
    if fiber not in MODELS:
        raise InputError(FieldProblem("fiber", fiber, f"one of {', '.join(MODELS)}"))
    length = length_mm if length_mm is not None else DEFAULT_LENGTH_MM[fiber]
    built = build_fiber(fiber, diameter_um, length, temperature_c)
    source = PointSource(conductivity_s_per_m, (0.0, 0.0, distance_mm))
    return built, source.potential_mv_per_ma(straight_fiber_points_mm(built))


@dataclass(frozen=True, eq=False)
class FiberThreshold:
    """The threshold of one fibre for one pulse, and what the search saw there.

    Attributes
    ----------
    threshold_ma : float
        Threshold current magnitude (mA): the lowest amplitude found to excite, within
        ``rel_tol`` of the highest that did not; NaN when nothing excited the fibre up to 1 A.
    lower_ma, upper_ma : float
        The final bracket (mA).
    latency_ms : float
        From pulse onset to the action potential at the detection node (ms).
    ap_time_ms : float
        When the action potential reached the detection node, from the start of the run (ms).
    initiation_node : int
        Node where the action potential started (the centre node is under the source).
    n_simulations : int
        Cable simulations the search ran.
    warnings : tuple of str
        Initiation away from the source, excitation at a fibre end and the like.
    fiber : Fiber
        The fibre simulated.
    stimulus : Stimulus
        The unit pulse (its ``description`` says what it was).
    potentials_mv_per_ma : numpy.ndarray
        Extracellular potential along the fibre for +1 mA (mV).

    Examples
    --------
    >>> import stimwise as sw
    >>> result = sw.fiber_threshold("mrg", diameter_um=10, distance_mm=1, pulse_width_ms=0.1)
    >>> f"{result.threshold_ma:.3f} mA", result.initiation_node == result.centre_node
    ('0.122 mA', True)
    """

    threshold_ma: float
    lower_ma: float
    upper_ma: float
    latency_ms: float
    ap_time_ms: float
    initiation_node: int
    n_simulations: int
    warnings: tuple[str, ...]
    fiber: Fiber = field(repr=False)
    stimulus: Stimulus = field(repr=False)
    potentials_mv_per_ma: np.ndarray = field(repr=False)

    @property
    def centre_node(self) -> int:
        """The node under the source."""
        return self.fiber.n_nodes // 2

    @property
    def excited(self) -> bool:
        """Whether any amplitude up to 1 A excited the fibre."""
        return math.isfinite(self.threshold_ma)

    def plot(self, *, ax: Sequence[Axes] | None = None) -> Figure:
        """The run at threshold: where the action potential starts and how it travels.

        Simulates the fibre once more at :attr:`threshold_ma`, recording every node, and draws
        it with :func:`stimwise.physiology.plots_excitability.plot_threshold_run`.

        Parameters
        ----------
        ax
            Two axes to draw into; by default a new figure.

        Returns
        -------
        matplotlib.figure.Figure

        Raises
        ------
        InputError
            The fibre was not excited (there is no run at threshold to draw).

        Examples
        --------
        >>> import stimwise as sw
        >>> result = sw.fiber_threshold("mrg", diameter_um=10, distance_mm=1)
        >>> figure = result.plot()
        >>> [ax.get_ylabel() for ax in figure.axes]
        ['position along the fibre (mm)', 'mV', 'membrane potential (mV)']
        """
        from stimwise.physiology.plots_excitability import plot_threshold_run
        from stimwise.physiology.solver import node_potential_history

        if not self.excited:
            raise InputError(FieldProblem(
                "threshold_ma", self.threshold_ma, "a fibre excited below 1 A (nothing to draw)"
            ))
        t_ms, v_nodes = node_potential_history(
            self.fiber, self.potentials_mv_per_ma, self.threshold_ma,
            self.stimulus.samples, self.stimulus.dt_ms,
        )
        z_mm = self.fiber.section_z_mm[self.fiber.node_sections]
        return plot_threshold_run(
            t_ms, v_nodes, z_mm, self.fiber.detect_node, ax=ax,
            title=f"{self.fiber.description}; {self.stimulus.description}; at "
                  f"{self.threshold_ma:.4g} mA",
        )


def fiber_threshold(
    fiber: str = "mrg",
    *,
    diameter_um: float = 10.0,
    distance_mm: float = 1.0,
    pulse_width_ms: float = 0.1,
    waveform: str = "monophasic",
    temperature_c: float = 37.0,
    length_mm: float | None = None,
    conductivity_s_per_m: float = 0.2,
    duration_ms: float | None = None,
    rel_tol: float = 1e-3,
    progress: Callable[[int, int], None] | None = None,
) -> FiberThreshold:
    """Threshold current of one fibre under a point source, for one rectangular pulse.

    Parameters
    ----------
    fiber
        ``"mrg"`` (myelinated: Aβ, Aδ, motor) or ``"c"`` (unmyelinated).
    diameter_um
        Fibre diameter (µm).
    distance_mm
        Height of the source above the middle node (mm).
    pulse_width_ms
        Pulse width (ms; per phase when biphasic). 0.1 ms = 100 µs.
    waveform
        ``"monophasic"`` (cathodic) or ``"biphasic"`` (cathodic first, no gap).
    temperature_c
        Temperature (°C): conduction and channel kinetics depend on it.
    length_mm
        Fibre length (mm); 40 mm for MRG and 6 mm for C fibres by default.
    conductivity_s_per_m
        Conductivity of the medium (S/m).
    duration_ms
        Simulated time (ms); the reference window for the model by default.
    rel_tol
        Relative width of the final bracket (0.001 = 0.1 %).
    progress
        Called as ``progress(resolved, total)`` after each round of the search.

    Returns
    -------
    FiberThreshold
        The threshold and its bracket, latency, initiation site and any warnings.

    Raises
    ------
    InputError
        A value that is not a finite number or is out of its range, named by its argument.

    Examples
    --------
    A 10 µm myelinated fibre 1 mm below the source, 100 µs pulse (about a second once the solver
    is compiled; the first call of a fresh install compiles it):

    >>> import stimwise as sw
    >>> result = sw.fiber_threshold("mrg", diameter_um=10, distance_mm=1, pulse_width_ms=0.1)
    >>> round(result.threshold_ma, 3)
    0.122

    A longer pulse needs less current (the strength-duration relation):

    >>> longer = sw.fiber_threshold("mrg", diameter_um=10, distance_mm=1, pulse_width_ms=0.5)
    >>> longer.threshold_ma < result.threshold_ma
    True
    >>> sw.fiber_threshold("mrg", diameter_um="10")
    Traceback (most recent call last):
    ...
    stimwise.errors.InputError: Invalid input (1 problem): diameter_um: got '10'; expected a
    finite number of µm > 0
    """
    from stimwise.physiology.strength_duration import run_duration_ms
    from stimwise.physiology.threshold import find_thresholds

    given = {"diameter_um": diameter_um, "distance_mm": distance_mm,
             "pulse_width_ms": pulse_width_ms, "temperature_c": temperature_c,
             "length_mm": length_mm, "conductivity_s_per_m": conductivity_s_per_m,
             "duration_ms": duration_ms, "rel_tol": rel_tol}
    problems = [
        problem for name, value in given.items()
        if not (value is None and name in ("length_mm", "duration_ms"))  # None: the default
        and (problem := _NUMBERS[name].problem(name, value)) is not None
    ]
    if problems:
        raise InputError(problems)
    built, potentials = fiber_under_point_source(
        fiber, diameter_um, distance_mm, temperature_c=temperature_c, length_mm=length_mm,
        conductivity_s_per_m=conductivity_s_per_m,
    )
    phases = 2 if waveform == "biphasic" else 1
    duration = duration_ms or run_duration_ms(built.model, phases * pulse_width_ms)
    stimulus = Stimulus.pulse(waveform, pulse_width_ms, duration_ms=duration)
    found = find_thresholds([built], [potentials], stimulus, rel_tol=rel_tol, progress=progress)
    return FiberThreshold(
        threshold_ma=float(found.threshold_ma[0]),
        lower_ma=float(found.lower_ma[0]),
        upper_ma=float(found.upper_ma[0]),
        latency_ms=float(found.latency_ms[0]),
        ap_time_ms=float(found.ap_time_ms[0]),
        initiation_node=int(found.initiation_node[0]),
        n_simulations=int(found.n_simulations[0]),
        warnings=tuple(found.warnings[0]),
        fiber=built,
        stimulus=stimulus,
        potentials_mv_per_ma=potentials,
    )
