"""Pictures of recruitment: curves per fibre class and the activation order of a report.

Both return a :class:`matplotlib.figure.Figure` and draw into the caller's axes when given
(:func:`stimwise.plotting.figure_and_axes`); save with :func:`stimwise.plotting.save_figure`.
Every figure carries the words "model prediction".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from stimwise.arguments import check_type
from stimwise.physiology.activation_report import ActivationReport
from stimwise.physiology.plots_excitability import MODEL_NOTE
from stimwise.physiology.recruitment import RecruitmentCurves, class_labels
from stimwise.plotting import figure_and_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["COLOURS", "plot_activation", "plot_recruitment"]

COLOURS = {"abeta": "tab:blue", "adelta": "tab:orange", "c": "tab:red", "aalpha": "tab:green"}


def _figure(ax: Axes | Sequence[Axes] | None, n_rows: int, function: str):
    """Rows sharing one logarithmic amplitude axis, labelled with plain numbers."""
    from matplotlib.ticker import LogFormatter, NullFormatter

    figure, axes = figure_and_axes(
        ax, n_rows, function=function, figsize=(8.0, 4.0 * n_rows), sharex=True
    )
    for row in axes:
        row.set_xscale("log")
        row.xaxis.set_major_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
        row.xaxis.set_minor_formatter(NullFormatter())
        row.tick_params(labelbottom=True)
    return figure, axes


def _draw_curves(ax, curves: RecruitmentCurves, amplitude_ma: float | None) -> None:
    labels = class_labels()
    for cid, fraction in curves.fractions.items():
        ax.plot(
            curves.amplitudes_ma,
            100 * fraction,
            color=COLOURS.get(cid),
            label=labels.get(cid, cid),
        )
    if amplitude_ma is not None:
        ax.axvline(amplitude_ma, color="k", linestyle="--", label=f"{amplitude_ma:g} mA assumed")
    ax.set_xlabel("peak amplitude of the leading phase (mA)")
    ax.set_ylabel("fibres recruited (% of the simulated class)")
    ax.set_ylim(-2, 102)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")


def plot_recruitment(
    curves: RecruitmentCurves,
    *,
    title: str,
    amplitude_ma: float | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Fraction recruited against amplitude, one line per fibre class.

    Parameters
    ----------
    curves
        What :func:`stimwise.physiology.recruitment.recruitment_curves` returned.
    title
        First line of the title; the second says "model prediction".
    amplitude_ma
        An amplitude to mark with a dashed line (mA).
    ax
        Axes to draw into; by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from stimwise.physiology.recruitment import RecruitmentCurves
    >>> curves = RecruitmentCurves(np.geomspace(1, 100, 50),
    ...                            {"abeta": np.array([5.0, 8.0, 12.0]),
    ...                             "adelta": np.array([20.0, 40.0, 60.0])})
    >>> figure = plot_recruitment(curves, title="three fibres per class", amplitude_ma=10)
    >>> [line.get_label() for line in figure.axes[0].get_lines()][-1]
    '10 mA assumed'
    """
    check_type(curves, RecruitmentCurves, function="plot_recruitment", name="curves")
    figure, (axes,) = _figure(ax, 1, "plot_recruitment")
    _draw_curves(axes, curves, amplitude_ma)
    axes.set_title(f"{title}\n({MODEL_NOTE})", fontsize=10)
    return figure


def plot_activation(
    report: ActivationReport, *, ax: Sequence[Axes] | None = None
) -> Figure:
    """Recruitment curves and, below, each class's 10–90 % recruitment range in activation
    order, with the assumed amplitude marked.

    Parameters
    ----------
    report
        What :func:`stimwise.physiology.activation_report.activation_report` returned.
    ax
        Two axes to draw into (curves, then order); by default a new figure, whose title
        gives the protocol, the amplitude, the safety verdict and the report's flags.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    ``stimwise model activation conventional-tens --plot activation.png`` draws this; computing
    a report simulates a fibre population (about a minute the first time), so see
    :func:`stimwise.physiology.activation_report.activation_report` for a call.

    >>> plot_activation("conventional-tens")
    Traceback (most recent call last):
    ...
    stimwise.errors.ArgumentTypeError: plot_activation() expects report to be an ActivationReport,
    got str 'conventional-tens'; compute one with
    stimwise.physiology.activation_report.activation_report(...)
    """
    check_type(report, ActivationReport, function="plot_activation", name="report",
               hint="compute one with stimwise.physiology.activation_report.activation_report(...)")
    figure, (curves_ax, order_ax) = _figure(ax, 2, "plot_activation")
    amplitude = report.assumed_amplitude_ma
    _draw_curves(curves_ax, report.curves, amplitude)
    by_id = {c.class_id: c for c in report.classes}
    order = report.order
    for row, cid in enumerate(reversed(order)):
        summary = by_id[cid]
        if summary.onset_ma is None:
            order_ax.text(amplitude, row, "  not recruited in range", va="center", fontsize=8)
            continue
        top = summary.most_ma or summary.onset_ma
        order_ax.plot([summary.onset_ma, top], [row, row], color=COLOURS.get(cid), linewidth=6)
        if summary.half_ma is not None:
            order_ax.plot(summary.half_ma, row, "k|", markersize=14)
    order_ax.axvline(amplitude, color="k", linestyle="--")
    order_ax.set_yticks(range(len(order)), [by_id[c].label for c in reversed(order)], fontsize=8)
    order_ax.set_xlabel("amplitude recruiting 10 % → 90 % of the class (| = 50 %), mA")
    flags = "; ".join(report.flags)
    heading = (
        f"{report.protocol_id}: {report.waveform}, {amplitude:g} mA assumed "
        f"(safety verdict: {report.safety_verdict})\n{MODEL_NOTE}" + (f"\n{flags}" if flags else "")
    )
    if ax is None:
        figure.suptitle(heading, fontsize=9)
    else:
        curves_ax.set_title(heading, fontsize=9)
    return figure
