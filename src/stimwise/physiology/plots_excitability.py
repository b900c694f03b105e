"""Plots of single-fibre excitability: strength-duration, and one run at threshold.

Both return a :class:`matplotlib.figure.Figure` and draw into the caller's axes when given
(:func:`stimwise.plotting.figure_and_axes`); save with :func:`stimwise.plotting.save_figure`.
Every figure says that it shows a model prediction.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from stimwise.arguments import check_type
from stimwise.physiology.strength_duration import StrengthDuration
from stimwise.plotting import figure_and_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["MODEL_NOTE", "plot_strength_duration", "plot_threshold_run"]

MODEL_NOTE = "model prediction, not a diagnosis or a dose"


def plot_strength_duration(
    sd: StrengthDuration, *, title: str = "", ax: Axes | None = None
) -> Figure:
    """Thresholds (points) and the Weiss and Lapicque fits (lines), log-log, with the chronaxies.

    Parameters
    ----------
    sd
        What :func:`stimwise.physiology.strength_duration.strength_duration` returned.
    title
        First line of the title (e.g. the fibre's description); the second says "model
        prediction".
    ax
        Axes to draw into; by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from stimwise.physiology.strength_duration import (
    ...     StrengthDuration, fit_lapicque, fit_weiss)
    >>> widths = np.array([0.05, 0.1, 0.2, 0.5])
    >>> thresholds = 0.5 * (1 + 0.2 / widths)  # a Weiss law: rheobase 0.5 mA, chronaxie 200 µs
    >>> sd = StrengthDuration(widths, thresholds, [], fit_weiss(widths, thresholds),
    ...                       fit_lapicque(widths, thresholds), [])
    >>> figure = plot_strength_duration(sd, title="a Weiss-law fibre")
    >>> figure.axes[0].get_xlabel()
    'pulse width (ms)'
    """
    check_type(sd, StrengthDuration, function="plot_strength_duration", name="sd")
    figure, (axes,) = figure_and_axes(
        ax, 1, function="plot_strength_duration", figsize=(6.0, 4.2)
    )
    d = np.geomspace(sd.pulse_widths_ms.min(), sd.pulse_widths_ms.max(), 200)
    weiss = sd.weiss.rheobase_ma * (1 + sd.weiss.chronaxie_ms / d)
    tau = sd.lapicque.chronaxie_ms / np.log(2)
    lapicque = sd.lapicque.rheobase_ma / -np.expm1(-d / tau)
    axes.loglog(sd.pulse_widths_ms, sd.thresholds_ma, "ko", label="model thresholds")
    axes.loglog(d, weiss, "-", label=f"Weiss: chronaxie {sd.weiss.chronaxie_ms * 1e3:.0f} µs")
    axes.loglog(d, lapicque, "--",
                label=f"Lapicque: chronaxie {sd.lapicque.chronaxie_ms * 1e3:.0f} µs")
    axes.axhline(sd.weiss.rheobase_ma, color="grey", lw=0.8, ls=":",
                 label=f"rheobase {sd.weiss.rheobase_ma:.3g} mA")
    axes.set_xlabel("pulse width (ms)")
    axes.set_ylabel("threshold (mA)")
    axes.set_title(_title(title), fontsize=7)
    axes.legend(fontsize=8)
    return figure


def plot_threshold_run(
    t_ms: np.ndarray,
    v_nodes_mv: np.ndarray,
    node_z_mm: np.ndarray,
    detect_node: int,
    *,
    title: str = "",
    ax: Sequence[Axes] | None = None,
) -> Figure:
    """Membrane potential of every node over time at the threshold amplitude: a space-time map
    (where the action potential starts and how it runs) and the centre and detection nodes.

    :meth:`stimwise.physiology.single_fiber.FiberThreshold.plot` computes the run and calls
    this.

    Parameters
    ----------
    t_ms
        Times of the rows of ``v_nodes_mv`` (ms).
    v_nodes_mv
        Membrane potential (mV), one row per time and one column per node.
    node_z_mm
        Position of each node along the fibre (mm).
    detect_node
        Column of the node where excitation is detected.
    title
        First line of the map's title; the second says "model prediction".
    ax
        Two axes to draw into (the map, then the two traces); by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> t_ms = np.linspace(0.0, 2.0, 21)
    >>> z_mm = np.linspace(-5.0, 5.0, 11)
    >>> v_mv = -80.0 + 100.0 * np.exp(-((t_ms[:, None] - 1.0 - np.abs(z_mm) / 10) / 0.1) ** 2)
    >>> figure = plot_threshold_run(t_ms, v_mv, z_mm, detect_node=9, title="a made-up run")
    >>> len(figure.axes)  # the map, its colour bar and the traces
    3
    """
    figure, (top, bottom) = figure_and_axes(
        ax, 2, function="plot_threshold_run", figsize=(6.4, 6.0), sharex=True
    )
    centre = v_nodes_mv.shape[1] // 2
    mesh = top.pcolormesh(t_ms, node_z_mm, v_nodes_mv.T, shading="auto", cmap="viridis")
    figure.colorbar(mesh, ax=top, label="membrane potential (mV)")
    top.set_ylabel("position along the fibre (mm)")
    top.set_title(_title(title), fontsize=7)
    bottom.plot(t_ms, v_nodes_mv[:, centre], label="node under the source")
    bottom.plot(t_ms, v_nodes_mv[:, detect_node], label="detection node (90 %)")
    bottom.axhline(-30.0, color="grey", lw=0.8, ls=":", label="-30 mV criterion")
    bottom.set_xlabel("time (ms)")
    bottom.set_ylabel("mV")
    bottom.legend(fontsize=8)
    return figure


def _title(title: str) -> str:
    first = textwrap.fill(title, 90)
    return f"{first}\n({MODEL_NOTE})" if first else f"({MODEL_NOTE})"
